"""`hocba verify`: exit codes 0 / 1 / 2, the JSON report's shape, the HTML report in Vietnamese."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.main import app
from tests.integration.signing.signed import signed_record
from tests.integration.signing.test_verifier_tamper import truncated


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("verify")
    signed = signed_record()
    paths = {
        "good.pdf": signed.pdf,
        "good.xml": signed.package,
        "truncated.pdf": truncated(),
        "tampered.xml": signed.package.replace(b"<Year>8.1</Year>", b"<Year>9.6</Year>"),
        "text.pdf": b"hello",
    }
    for name, data in paths.items():
        (folder / name).write_bytes(data)
    return {name: folder / name for name in paths}


def run(*args: object) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["verify", *map(str, args)])
    return result.exit_code, result.output


def test_an_intact_document_exits_0_with_a_json_report_in_the_dss_vocabulary(files: dict[str, Path]) -> None:
    code, out = run(files["good.pdf"], "--xml", files["good.xml"], "--json")
    assert code == 0, out
    report = json.loads(out)
    assert report["indication"] == "TOTAL_PASSED" and report["sub_indication"] is None
    assert len(report["document_sha256"]) == 64 and report["validator"]["name"] == "hocba-verifier"
    first = report["signatures"][0]
    assert {"field", "order", "role", "signer", "signer_id", "time", "level", "intact", "valid", "trusted",
            "modification_level", "docmdp_ok", "indication", "sub_indication"} <= set(first)  # fmt: skip
    assert [s["order"] for s in report["signatures"]] == [1, 2, 3, 4, 5]
    assert len(report["xml_signatures"]) == 5
    assert all(c["passed"] for c in report["checks"])
    assert {"name", "passed", "detail"} <= set(report["checks"][0])


def test_a_truncated_document_exits_1_naming_the_missing_seal(files: dict[str, Path]) -> None:
    code, out = run(files["truncated.pdf"])
    assert code == 1
    assert "NOT valid: TOTAL_FAILED (SIG_CONSTRAINTS_FAILURE)" in out
    assert "FAIL plan_complete: Thiếu chữ ký của bước 5 (Dấu của nhà trường, Trường THCS Thử Nghiệm)." in out


def test_a_document_still_being_signed_passes_with_partial(files: dict[str, Path]) -> None:
    assert run(files["truncated.pdf"], "--partial")[0] == 0


def test_a_tampered_xml_package_exits_1(files: dict[str, Path]) -> None:
    code, out = run(files["good.pdf"], "--xml", files["tampered.xml"])
    assert code == 1
    assert "FAIL xml_package_record" in out and "HASH_FAILURE" in out


def test_unreadable_input_exits_2(files: dict[str, Path]) -> None:
    assert run(files["text.pdf"])[0] == 2
    assert run(files["good.pdf"], "--xml", files["text.pdf"])[0] == 2
    assert run(files["good.pdf"].with_name("missing.pdf"))[0] == 2


def test_the_html_report_is_vietnamese(files: dict[str, Path], tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    assert run(files["truncated.pdf"], "--html", out)[0] == 1
    text = out.read_text(encoding="utf-8")
    assert 'lang="vi"' in text and "Không hợp lệ" in text and "Thiếu chữ ký của bước 5" in text


def test_an_extra_trust_root_is_accepted_and_an_unknown_one_is_a_usage_error(files: dict[str, Path]) -> None:
    from services.signing.verifier.trust import SANDBOX_ROOTS

    assert run(files["good.pdf"], "--trust", SANDBOX_ROOTS)[0] == 0
    assert run(files["good.pdf"], "--trust", files["good.pdf"].with_name("nope.pem"))[0] == 2
