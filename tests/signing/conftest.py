"""Signing test fixtures: the test PKI's Animator (TSA + CRLs on 127.0.0.1:9797) and the remote signing service."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

import sandbox.pki as pki
from sandbox.ports import answers
from sandbox.remote_signer import serve_in_thread


@pytest.fixture(scope="session")
def animator():
    """The TSA and CRL server the certificates point at; reused if one already runs (`hocba up`)."""
    if answers(pki.ANIMATOR_PORT):
        yield pki.TSA_URL
        return
    process = subprocess.Popen(
        [sys.executable, "-m", "sandbox.pki.animator"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 20
    while not answers(pki.ANIMATOR_PORT):
        if time.monotonic() > deadline or process.poll() is not None:
            process.kill()
            raise RuntimeError("the test PKI's Animator did not start")
        time.sleep(0.1)
    yield pki.TSA_URL
    process.terminate()
    process.wait(10)


@pytest.fixture(scope="session")
def remote_signer(tmp_path_factory):
    server, url = serve_in_thread(Path(tmp_path_factory.mktemp("remote-signer")))
    yield url
    server.shutdown()
