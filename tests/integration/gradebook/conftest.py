"""A running gradebook with a sample school loaded through the API, as the school's staff would."""

import uuid

import pytest

from sandbox.sample_school import build
from services.gradebook.service import GradebookService
from tests.helpers import running
from tests.integration.gradebook.support import Client, load_school


@pytest.fixture(scope="module")
def gradebook(amqp_uri, service_databases):
    with running(GradebookService, amqp_uri) as container:
        yield container.http_url


@pytest.fixture(scope="module")
def school(gradebook):
    sample = build(f"thcs-{uuid.uuid4().hex[:6]}", classes=2, students_per_class=45)
    client = Client(gradebook, sample.school_id)
    load_school(client, sample)
    return sample, client
