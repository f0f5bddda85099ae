"""The audit processes log in as the writer role itself, never as the owner with SET ROLE.

A login that may SET ROLE may also RESET it (and PgBouncer in transaction mode keeps no session settings), so the
owner's login with SET ROLE protected nothing: the writer must be a LOGIN role that owns nothing. This migration
makes it one (creating it if missing), refuses to run as it (its tables would be the writer's), takes back what the
runtime never needs (DELETE on outbox and inbox: `hocba db prune` runs as the owner; UPDATE on inbox) and closes
the public schema to roles that own nothing here. Roles are cluster-wide: one writer per cluster and environment, granted to by every
audit database there; grants live in each database, so `CREATE DATABASE … TEMPLATE` copies keep them.

Revision ID: 0005
Revises: 0004
"""
from alembic import context, op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def _role() -> str:
    return str(context.config.attributes["writer_role"])  # Settings.audit_db_role: a plain lower-case identifier


def upgrade() -> None:
    role = _role()
    op.execute(f"""
do $$
begin
  if current_user = '{role}' then
    raise exception 'migrating as {role}, the role the audit service writes as, would make it the owner of its log: '
      'migrate as the owner (HOCBA_DB_URL_AUDIT)' using errcode = 'insufficient_privilege';
  end if;
  if not exists (select from pg_roles where rolname = '{role}') then
    begin
      create role "{role}" login;
    exception
      when duplicate_object or unique_violation then null;  -- another database's migration created it just now
      when insufficient_privilege then
        raise exception 'role {role} does not exist and % may not create it: create it LOGIN (with a password) as '
          'a superuser, or declare it in the cluster''s managed roles, then migrate again', current_user;
    end;
  end if;
  if not (select rolcanlogin from pg_roles where rolname = '{role}') then
    begin
      alter role "{role}" login;
    exception when insufficient_privilege then
      raise exception 'role {role} may not log in and % may not change that: declare it login: true in the '
        'cluster''s managed roles, then migrate again', current_user;
    end;
  end if;
  if (select rolsuper or rolcreaterole or rolbypassrls from pg_roles where rolname = '{role}')
     or pg_has_role('{role}', (select datdba from pg_database where datname = current_database()), 'MEMBER')
     or pg_has_role('{role}', (select relowner from pg_class where oid = 'audit_entries'::regclass), 'MEMBER') then
    raise exception 'role {role} is a superuser, may create roles, or is (a member of) the owner of this database '
      'or its log: the audit service''s login must own nothing' using errcode = 'insufficient_privilege';
  end if;
end $$;
revoke delete on outbox, inbox from "{role}";
revoke update on inbox from "{role}";  -- a claim is an insert (ON CONFLICT DO NOTHING), never changed
revoke create on schema public from public;
""")


def downgrade() -> None:
    # The role stays (other databases of the cluster may grant to it), as does the schema's closed CREATE.
    op.execute(f'grant delete on outbox, inbox to "{_role()}"; grant update on inbox to "{_role()}"')
