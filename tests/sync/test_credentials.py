"""A school whose stored gateway credentials cannot be read stops only itself, never the other schools."""

import uuid

from sqlalchemy.orm import sessionmaker

from services.runtime.db import make_engine
from services.runtime.personal_data import PersonalIdVault
from services.sync.app.unit_of_work import SyncUnitOfWork
from services.sync.service import token_of


def test_unreadable_credentials_read_as_none_and_readable_ones_as_the_token(service_databases):
    engine = make_engine(service_databases["sync"])
    damaged, fine = f"hong-{uuid.uuid4().hex[:6]}", f"tot-{uuid.uuid4().hex[:6]}"
    with SyncUnitOfWork(sessionmaker(engine)) as uow:
        uow.submissions.set_credentials(damaged, b"not sealed under this deployment's data key")
        uow.submissions.set_credentials(fine, PersonalIdVault.from_settings().encrypt("token-of-the-school"))
        uow.commit()
    with SyncUnitOfWork(sessionmaker(engine)) as uow:
        assert token_of(uow, damaged) is None
        assert token_of(uow, fine) == "token-of-the-school"
        assert token_of(uow, "no-such-school") is None
    engine.dispose()
