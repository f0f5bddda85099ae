"""Alembic environment of the audit service (the shared body lives in services.runtime.migrations)."""

from services.audit.store.tables import metadata
from services.runtime.migrations import run_env

run_env(metadata)
