"""Hash chain per school (gap-free sequence, sealed entries) and an append-only table.

Revision ID: 0002
Revises: 0001
"""
import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

APPEND_ONLY = """
create or replace function audit_entries_append_only() returns trigger language plpgsql as $$
begin
  raise exception 'audit_entries is append-only (% refused)', tg_op using errcode = 'insufficient_privilege';
end $$;
create trigger audit_entries_append_only before update or delete on audit_entries
  for each row execute function audit_entries_append_only();
create trigger audit_entries_no_truncate before truncate on audit_entries
  for each statement execute function audit_entries_append_only();
"""


def upgrade() -> None:
    op.create_table(
        "audit_chain_heads",
        sa.Column("chain", sa.String(length=64), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("chain", name=op.f("pk_audit_chain_heads")),
    )
    for name in ("chain", "chain_seq", "prev_hash", "entry_hash"):
        kind = sa.BigInteger() if name == "chain_seq" else sa.String(length=64)
        op.add_column("audit_entries", sa.Column(name, kind, nullable=True))
    _chain_existing_rows()
    for name in ("chain", "chain_seq", "prev_hash", "entry_hash"):
        op.alter_column("audit_entries", name, nullable=False)
    op.create_unique_constraint("uq_audit_entries_chain_seq", "audit_entries", ["chain", "chain_seq"])
    op.execute(APPEND_ONLY)


def _chain_existing_rows() -> None:
    """Entries recorded before the chain existed are sealed in their recorded order."""
    from services.audit.domain.chain import GENESIS, chain_key, entry_hash
    from services.audit.domain.entry import AuditEntry
    from services.audit.store.repository import CONTENT_COLUMNS

    bind = op.get_bind()
    rows = bind.execute(sa.text(f"select seq, {', '.join(CONTENT_COLUMNS)} from audit_entries order by seq")).mappings()
    heads: dict[str, tuple[int, str]] = {}
    for row in rows:
        entry = AuditEntry(**{c: row[c] for c in CONTENT_COLUMNS})
        chain = chain_key(entry.school_id)
        last_seq, last_hash = heads.get(chain, (0, GENESIS))
        sealed = entry_hash(entry.content(), last_seq + 1, last_hash)
        bind.execute(sa.text("update audit_entries set chain = :c, chain_seq = :s, prev_hash = :p, entry_hash = :h "
                             "where seq = :id"),
                     {"c": chain, "s": last_seq + 1, "p": last_hash, "h": sealed, "id": row["seq"]})
        heads[chain] = (last_seq + 1, sealed)
    for chain, (last_seq, last_hash) in heads.items():
        bind.execute(sa.text("insert into audit_chain_heads values (:c, :s, :h)"),
                     {"c": chain, "s": last_seq, "h": last_hash})


def downgrade() -> None:
    op.execute("drop trigger audit_entries_no_truncate on audit_entries")
    op.execute("drop trigger audit_entries_append_only on audit_entries")
    op.execute("drop function audit_entries_append_only()")
    op.drop_constraint("uq_audit_entries_chain_seq", "audit_entries", type_="unique")
    for name in ("entry_hash", "prev_hash", "chain_seq", "chain"):
        op.drop_column("audit_entries", name)
    op.drop_table("audit_chain_heads")
