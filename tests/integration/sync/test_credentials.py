"""A school whose stored gateway credentials cannot be read stops only itself, never the other schools."""

import uuid

from sqlalchemy.orm import sessionmaker

from services.runtime.data_key import DataVault, Sealed
from services.runtime.db import make_engine
from services.sync.app.credentials import GatewayCredentials
from services.sync.app.unit_of_work import SyncUnitOfWork


def token_of(uow: SyncUnitOfWork, school_id: str) -> str | None:
    """As the service reads it (its bootstrap builds the credentials from the deployment's data key)."""
    return GatewayCredentials(DataVault.from_settings()).token_of(uow, school_id)


def test_unreadable_credentials_read_as_none_and_readable_ones_as_the_token(service_databases):
    engine = make_engine(service_databases["sync"])
    damaged, fine = f"hong-{uuid.uuid4().hex[:6]}", f"tot-{uuid.uuid4().hex[:6]}"
    with SyncUnitOfWork(sessionmaker(engine)) as uow:
        uow.submissions.set_credentials(damaged, b"not sealed under this deployment's data key")
        uow.submissions.set_credentials(
            fine, DataVault.from_settings().encrypt("token-of-the-school", Sealed.GATEWAY_CREDENTIALS)
        )
        uow.commit()
    with SyncUnitOfWork(sessionmaker(engine)) as uow:
        assert token_of(uow, damaged) is None
        assert token_of(uow, fine) == "token-of-the-school"
        assert token_of(uow, "no-such-school") is None
    engine.dispose()


def test_credentials_sealed_before_the_sub_keys_still_read_and_a_new_connect_writes_v1(service_databases):
    """A token stored under the single data key (v0: personal_id's associated data) keeps its school reporting."""
    import base64
    import os

    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    from services.runtime.data_key import HEADER_V1
    from services.runtime.settings import get_settings

    key = base64.b64decode(get_settings().data_key.get_secret_value())
    nonce = os.urandom(12)
    v0 = nonce + AESGCM(key).encrypt(nonce, b"token-from-before", b"personal_id")
    engine = make_engine(service_databases["sync"])
    school = f"cu-{uuid.uuid4().hex[:6]}"
    with SyncUnitOfWork(sessionmaker(engine)) as uow:
        uow.submissions.set_credentials(school, v0)
        uow.commit()
    with SyncUnitOfWork(sessionmaker(engine)) as uow:
        assert token_of(uow, school) == "token-from-before"
        uow.submissions.set_credentials(
            school, DataVault.from_settings().encrypt("token-now", Sealed.GATEWAY_CREDENTIALS)
        )
        uow.commit()
    with SyncUnitOfWork(sessionmaker(engine)) as uow:
        assert bytes(uow.submissions.credentials_of(school)).startswith(HEADER_V1)
        assert token_of(uow, school) == "token-now"
    engine.dispose()
