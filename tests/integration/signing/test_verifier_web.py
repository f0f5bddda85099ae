"""The verification page in a real browser (Debian's chromium driven by Playwright): a good and a tampered upload."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from services.runtime import http_client
from tests.helpers import needs_tools
from tests.integration.signing.browser import CHROMIUM
from tests.integration.signing.signed import signed_record
from tests.integration.signing.test_verifier_tamper import painted_grade
from tests.integration.signing.verifier_server import verifier_server

pytestmark = needs_tools(CHROMIUM, install="make setup installs Debian's chromium")


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """`hocba verify serve` as its own process (gunicorn), the way an operator runs it."""
    with verifier_server() as served:
        yield served.url


@pytest.fixture(scope="module")
def uploads(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("uploads")
    files = {
        "good.pdf": signed_record().pdf,
        "good.xml": signed_record().package,
        "painted.pdf": painted_grade(),
    }
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return {name: folder / name for name in files}


def _verdict_in_browser(url: str, pdf: Path, xml: Path | None = None) -> tuple[str, str]:
    args = [
        sys.executable,
        "-m",
        "tests.integration.signing.browser",
        url,
        str(pdf),
        *([str(xml)] if xml else []),
    ]
    shown = json.loads(subprocess.run(args, check=True, capture_output=True, timeout=120).stdout)
    assert shown["title"] == "Kiểm tra học bạ số"
    # The page works under its own Content-Security-Policy: nothing blocked, its inline style applied.
    assert shown["csp_blocked"] == [] and shown["verdict_background"] not in ("", "rgba(0, 0, 0, 0)")
    return shown["verdict"], shown["checks"]


def test_the_page_says_valid_for_a_good_document(server: str, uploads: dict[str, Path]) -> None:
    verdict, checks = _verdict_in_browser(server, uploads["good.pdf"], uploads["good.xml"])
    assert verdict == "Hợp lệ"
    assert "Chữ ký XML hợp lệ" in checks


def test_the_page_says_invalid_for_a_tampered_document(server: str, uploads: dict[str, Path]) -> None:
    verdict, checks = _verdict_in_browser(server, uploads["painted.pdf"])
    assert verdict == "Không hợp lệ"
    assert "Sau khi đóng dấu, tài liệu bị thay đổi" in checks


def test_the_json_endpoint_answers_machines(server: str, uploads: dict[str, Path]) -> None:
    good = http_client.post(
        server + "api/verify", files={"pdf": uploads["good.pdf"].read_bytes()}, timeout=30
    )
    assert good.status_code == 200 and good.json()["indication"] == "TOTAL_PASSED"
    junk = http_client.post(server + "api/verify", files={"pdf": ("x.pdf", b"junk")}, timeout=30)
    assert junk.status_code == 422 and junk.headers["content-type"] == "application/problem+json"


def test_every_answer_forbids_framing_sniffing_and_referrers(server: str) -> None:
    for answer in (http_client.get(server, timeout=30), http_client.get(server + "nowhere", timeout=30)):
        csp = answer.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp and "unsafe-inline" not in csp
        assert answer.headers["x-frame-options"] == "DENY"
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["referrer-policy"] == "no-referrer"
