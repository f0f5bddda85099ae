"""Signing test fixtures: the test PKI's Animator (TSA + CRLs on 127.0.0.1:9797) and the remote signing service."""

from __future__ import annotations

from pathlib import Path

import pytest

import sandbox.pki as pki
from sandbox.remote_signer import serve_in_thread
from tests.helpers import start_animator, stop_animator


@pytest.fixture(scope="session")
def animator():
    """The TSA and CRL server the certificates point at; reused if one already runs (`hocba up`, tests/parallel.py)."""
    process = start_animator()
    yield pki.TSA_URL
    stop_animator(process)


@pytest.fixture(scope="session")
def remote_signer(tmp_path_factory):
    server, url = serve_in_thread(Path(tmp_path_factory.mktemp("remote-signer")))
    yield url
    server.shutdown()
