"""Alembic environment of the transcript service (the shared body lives in services.runtime.migrations)."""

from services.runtime.migrations import run_env
from services.transcript.store.tables import metadata

run_env(metadata)
