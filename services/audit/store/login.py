"""What the audit processes' login may do to the log they write: append and read, never change, drop or own it."""

from __future__ import annotations

from sqlalchemy import Engine, text

LOG_TABLES = ("audit_entries", "audit_checkpoints")

# pg_has_role(…, 'MEMBER') is true for the role itself, its members (even NOINHERIT ones, who could SET ROLE to
# it) and a superuser; the table privileges are the ones a grant, the owner or a superuser would give.
_POWERS = text("""
select current_user as login,
       bool_or(pg_has_role(c.relowner, 'MEMBER')) as owns_the_log,
       bool_or(pg_has_role(d.datdba, 'MEMBER')) as owns_the_database,
       bool_or(has_table_privilege(c.oid, 'UPDATE') or has_table_privilege(c.oid, 'DELETE')
               or has_table_privilege(c.oid, 'TRUNCATE')) as may_change_the_log
from pg_class c, pg_database d
where c.oid = any(cast(:tables as regclass[])) and d.datname = current_database()
""")


class LoginMayChangeTheLog(RuntimeError):
    """The audit service or its relay was given credentials that could edit, empty or drop the log.

    A refusal to start, not an ``AuditError`` (domain/errors.py): no request is refused and nothing retries it;
    the process stops until an operator gives it the writer role's credentials.
    """


def refuse_a_login_that_may_change_the_log(engine: Engine) -> None:
    """Raise unless ``engine`` logs in as a role that can neither change the log nor own it or its database."""
    with engine.connect() as conn:
        row = conn.execute(_POWERS, {"tables": list(LOG_TABLES)}).mappings().one()
    powers = [name.replace("_", " ") for name in row if name != "login" and row[name]]
    if powers:
        raise LoginMayChangeTheLog(
            f"the audit log's writer logs in as {row['login']}, which {', '.join(powers)}: give the audit service "
            "and its relay the writer role's credentials (HOCBA_AUDIT_DB_ROLE), never the owner's"
        )
