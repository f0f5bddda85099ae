"""The writer role the audit service runs as: it may append to the log and read it, never change it.

Roles are cluster-wide: the role is created only if missing (several databases, e.g. parallel test runs, grant to
the same one), and a downgrade revokes this database's grants but leaves the role to the others.

Revision ID: 0004
Revises: 0003
"""
from alembic import context, op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

LOG_TABLES = ("audit_entries", "audit_checkpoints")


def _role() -> str:
    return str(context.config.attributes["writer_role"])  # Settings.audit_db_role: a plain lower-case identifier


def upgrade() -> None:
    role = _role()
    op.execute(f"""
do $$
begin
  if not exists (select from pg_roles where rolname = '{role}') then
    begin
      create role "{role}" nologin;
    exception
      when duplicate_object or unique_violation then null;  -- another database's migration created it just now
      when insufficient_privilege then
        raise exception 'role {role} does not exist and % may not create it: create it NOLOGIN as a superuser '
          '(or declare it in the cluster''s managed roles), then migrate again', current_user;
    end;
  end if;
end $$;
""")
    op.execute(f"""
do $$ begin execute format('grant connect on database %I to "{role}"', current_database()); end $$;
grant usage on schema public to "{role}";
grant select, insert on audit_entries, audit_checkpoints to "{role}";
revoke update, delete, truncate, references, trigger on audit_entries, audit_checkpoints from "{role}";
grant select, insert, update on audit_chain_heads to "{role}";
grant select, insert, update, delete on outbox, inbox to "{role}";
do $$ begin
  execute format('grant usage on sequence %s to "{role}"', pg_get_serial_sequence('audit_entries', 'seq'));
  execute format('grant usage on sequence %s to "{role}"', pg_get_serial_sequence('outbox', 'id'));
end $$;
""")


def downgrade() -> None:
    role = _role()
    op.execute(f"""
revoke all on audit_entries, audit_checkpoints, audit_chain_heads, outbox, inbox from "{role}";
do $$ begin
  execute format('revoke all on sequence %s from "{role}"', pg_get_serial_sequence('audit_entries', 'seq'));
  execute format('revoke all on sequence %s from "{role}"', pg_get_serial_sequence('outbox', 'id'));
  execute format('revoke connect on database %I from "{role}"', current_database());
end $$;
revoke usage on schema public from "{role}";
""")
