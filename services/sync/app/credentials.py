"""Each school's token at the province gateway, kept sealed under the deployment's data key."""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.exceptions import InvalidTag

from services.runtime.data_key import DataVault, Sealed
from services.runtime.logging import get_logger
from services.sync.app.unit_of_work import SyncUnitOfWork

log = get_logger(__name__)


@dataclass(frozen=True)
class GatewayCredentials:
    vault: DataVault

    def seal(self, token: str) -> bytes:
        return self.vault.encrypt(token, Sealed.GATEWAY_CREDENTIALS)

    def token_of(self, uow: SyncUnitOfWork, school_id: str) -> str | None:
        """The school's gateway token, or None while it has none that this deployment's data key can read.

        Unreadable credentials (stored under another key, or damaged) stop that school only: its records wait, the
        log says which school, and `hocba sync connect` fixes it; every other school keeps reporting.
        """
        sealed = uow.submissions.credentials_of(school_id)
        if not sealed:
            return None
        try:
            return self.vault.decrypt(sealed, Sealed.GATEWAY_CREDENTIALS)
        except (InvalidTag, ValueError):
            log.error("sync.credentials_unreadable", school_id=school_id)
            return None
