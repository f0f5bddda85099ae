"""Pruning: old published outbox rows and old inbox claims go; an unpublished event never does."""

import uuid

import pytest
from sqlalchemy import func, select, text
from typer.testing import CliRunner

from cli.main import app
from services.audit.store.tables import inbox, outbox
from services.runtime.db import make_engine

pytestmark = pytest.mark.integration


def test_prune_keeps_owed_events_and_recent_claims(service_databases):
    engine = make_engine(service_databases["audit"])
    with engine.begin() as conn:
        conn.execute(outbox.delete())
        conn.execute(inbox.delete())
        for published, age_days in (
            ("now() - interval '30 days'", 30),
            ("now() - interval '1 day'", 1),
            ("null", 60),
        ):
            conn.execute(
                text(
                    "insert into outbox (event_id, exchange, routing_key, ce_type, body, created_at, published_at) "
                    f"values (:id, 'x', 'y', 'z', '{{}}', now() - interval '{age_days} days', {published})"
                ),
                {"id": str(uuid.uuid4())},
            )
        for age_days in (30, 1):
            conn.execute(
                text(
                    "insert into inbox (consumer, event_id, received_at) "
                    f"values ('c', :id, now() - interval '{age_days} days')"
                ),
                {"id": str(uuid.uuid4())},
            )
    result = CliRunner().invoke(app, ["db", "prune", "audit", "--older-than", "14d"])
    assert result.exit_code == 0, result.output
    with engine.connect() as conn:
        left = conn.execute(select(outbox.c.published_at.is_(None)).order_by(outbox.c.id)).scalars().all()
        claims = conn.execute(select(func.count()).select_from(inbox)).scalar()
    engine.dispose()
    assert sorted(left) == [False, True]  # the 1-day-old published row and the 60-day-old unpublished one
    assert claims == 1
    assert CliRunner().invoke(app, ["db", "prune", "--older-than", "soon"]).exit_code == 2
