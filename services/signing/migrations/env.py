"""Alembic environment of the signing service (the shared body lives in services.runtime.migrations)."""

from services.runtime.migrations import run_env
from services.signing.store.tables import metadata

run_env(metadata)
