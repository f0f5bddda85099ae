"""`hocba rules evaluate`: JSON out and exit 0, or one line on stderr naming the field and exit 2."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.rules import app

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = {
    "circular": "tt22",
    "grade": 8,
    "subjects": [
        {
            "code": "toan",
            "name": "Toán",
            "assessment": "score",
            "periods_per_year": 140,
            "hk1": {"regular": [8, 7.5, 9, 6], "midterm": 7, "final": 8.5},
            "hk2": {"regular": [9, 8, 8, 7], "midterm": 8, "final": 9},
        },
        {
            "code": "gdtc",
            "name": "Giáo dục thể chất",
            "assessment": "comment",
            "hk1": {"result": "Đ"},
            "hk2": {"result": "Đ"},
        },
    ],
    "conduct": {"hk1": "Tốt", "hk2": "Tốt"},
}


def run(tmp_path, payload, *args):
    path = tmp_path / "in.json"
    path.write_text(payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False))
    return CliRunner().invoke(app, ["evaluate", str(path), *args])


def test_the_real_command_prints_the_contract_output(tmp_path):
    path = tmp_path / "in.json"
    path.write_text(json.dumps(EXAMPLE, ensure_ascii=False))
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "rules", "evaluate", "--circular", "tt22", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["subjects"][0] == {"code": "toan", "hk1": 7.8, "hk2": 8.3, "year": 8.1}


def test_explain_gives_the_rule_and_numbers_in_vietnamese(tmp_path):
    result = run(tmp_path, EXAMPLE, "--circular", "tt22", "--explain")
    assert result.exit_code == 0
    why = json.loads(result.stdout)["explanations"]
    assert why["toan.hk1"].endswith("= 7,778… → 7,8 (Điều 9 khoản 1)")
    assert why["conduct.year"] == "Học kỳ I Tốt, học kỳ II Tốt → cả năm Tốt (Điều 8)"


@pytest.mark.parametrize(
    ("change", "words"),
    [
        (
            lambda p: p["subjects"][0]["hk1"].update(final=11),
            "subjects[0].hk1.final: score must be within 0–10",
        ),
        (
            lambda p: p["subjects"][0]["hk1"].update(final=7.25),
            "subjects[0].hk1.final: score has at most one decimal",
        ),
        (lambda p: p["subjects"][0]["hk1"]["regular"].pop(), "subjects[0].hk1.regular: Toán has 140 periods"),
        (lambda p: p["subjects"][1]["hk2"].update(result="Tốt"), "subjects[1].hk2.result: must be Đ or CĐ"),
        (lambda p: p["subjects"][0].pop("hk2"), "subjects[0].hk2: missing term"),
        (lambda p: p["conduct"].update(hk2="Giỏi"), "conduct.hk2: must be one of"),
        (lambda p: p["subjects"][0].update(assessment="grade"), "subjects[0].assessment"),
    ],
)
def test_invalid_input_exits_2_with_one_line_naming_the_field(tmp_path, change, words):
    payload = json.loads(json.dumps(EXAMPLE))
    change(payload)
    result = run(tmp_path, payload, "--circular", "tt22")
    assert result.exit_code == 2
    assert words in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_malformed_json_and_a_mismatched_circular_exit_2(tmp_path):
    assert run(tmp_path, "{not json", "--circular", "tt22").exit_code == 2
    mismatch = run(tmp_path, EXAMPLE, "--circular", "tt27")
    assert mismatch.exit_code == 2 and "circular" in mismatch.stderr
