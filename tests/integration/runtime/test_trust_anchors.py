"""Trust anchors are configuration: the test PKI is the default only in dev and test, and the signing service
refuses to start without roots."""

import os
import subprocess
import sys

import pytest

from services.runtime.settings import TEST_PKI, Settings
from services.runtime.trust import TrustAnchorsMissing, trust_roots


def test_the_test_pki_is_the_default_only_in_development_and_tests():
    assert Settings(env="dev").trust_roots == TEST_PKI["trust_roots"]
    assert Settings(env="test").ca_chain == TEST_PKI["ca_chain"]
    prod = Settings(env="prod", _env_file=None)  # type: ignore[call-arg]
    assert prod.trust_roots is None and prod.ca_chain is None
    with pytest.raises(TrustAnchorsMissing, match="set HOCBA_TRUST_ROOTS"):
        trust_roots(prod)
    assert trust_roots(Settings(env="prod", trust_roots=TEST_PKI["trust_roots"]))  # configured: used


def _start_signing(tmp_path, **env: str) -> subprocess.CompletedProcess[str]:
    inherited = {k: v for k, v in os.environ.items() if k not in ("HOCBA_TRUST_ROOTS", "HOCBA_CA_CHAIN")}
    return subprocess.run(
        [sys.executable, "-m", "cli.main", "run", "signing", "--port", "0"],
        env={**inherited, "HOCBA_ENV": "prod", **env},
        cwd=tmp_path,  # no .env here
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_signing_service_started_without_trust_roots_exits_with_the_reason(tmp_path):
    result = _start_signing(tmp_path)
    assert result.returncode != 0
    assert (
        "hocba signing: refusing to start: no trust anchors configured: set HOCBA_TRUST_ROOTS"
        in result.stderr
    )
    missing = _start_signing(tmp_path, HOCBA_TRUST_ROOTS=str(tmp_path / "roots.pem"))
    assert missing.returncode != 0 and "roots.pem: no such file" in missing.stderr
