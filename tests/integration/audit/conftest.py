"""Audit test fixtures: the test PKI's TSA (the Animator on 127.0.0.1:9797), shared with the signing tests."""

from tests.integration.signing.conftest import animator as animator  # the fixture
