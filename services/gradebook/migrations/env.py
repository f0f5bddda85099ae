"""Alembic environment of the gradebook service (the shared body lives in services.runtime.migrations)."""

from services.gradebook.store.tables import metadata
from services.runtime.migrations import run_env

run_env(metadata)
