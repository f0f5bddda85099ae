"""Alembic environment of the sync service (the shared body lives in services.runtime.migrations)."""

from services.runtime.migrations import run_env
from services.sync.store.tables import metadata

run_env(metadata)
