"""`hocba rules evaluate`: JSON out and exit 0, or one line on stderr naming the field and exit 2."""

import copy
import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from cli.rules import app
from tests.unit.gradebook.contract_examples import TT22_CLI_EXAMPLE, TT27_CLI_EXAMPLE

ROOT = Path(__file__).resolve().parents[3]
TT22, TT27 = TT22_CLI_EXAMPLE, TT27_CLI_EXAMPLE


def run(tmp_path, payload, *args):
    path = tmp_path / "in.json"
    path.write_text(payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False), "utf-8")
    return CliRunner().invoke(app, ["evaluate", str(path), *args])


def test_tt22_contract_example(tmp_path):
    result = run(tmp_path, TT22, "--circular", "tt22")
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["subjects"] == [
        {"code": "toan", "hk1": 7.8, "hk2": 8.3, "year": 8.1},
        {"code": "gdtc", "hk1": "Đ", "hk2": "Đ", "year": "Đ"},
    ]
    assert out["learning_result"] == {"hk1": "Chưa đạt", "hk2": "Chưa đạt", "year": "Chưa đạt"}
    assert out["conduct"]["year"] == "Tốt" and out["promotion"]["outcome"] == "kiểm tra lại"
    assert (
        '"Chưa đạt"' in result.stdout and '  "subjects": [' in result.stdout
    )  # ensure_ascii=False, indent 2


def test_tt27_contract_example(tmp_path):
    result = run(tmp_path, TT27, "--circular", "tt27")
    assert result.exit_code == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["subjects"] == [{"code": "tieng_viet", "year": "T"}, {"code": "dao_duc", "year": "T"}]
    # rules-cli.md prints "Hoàn thành tốt"; by the table of art. 9 §2 this student is Hoàn thành xuất sắc
    # (see test_tt27_rules.test_cli_contract_example_follows_the_circular).
    assert out["year_result"] == "Hoàn thành xuất sắc"


def test_stdin_and_a_file_without_circular(tmp_path):
    payload = {k: v for k, v in TT22.items() if k != "circular"}
    result = CliRunner().invoke(
        app, ["evaluate", "-", "--circular", "tt22"], input=json.dumps(payload, ensure_ascii=False)
    )
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["subjects"][0]["year"] == 8.1


def test_explain_gives_the_rule_and_numbers_in_vietnamese(tmp_path):
    result = run(tmp_path, TT22, "--circular", "tt22", "--explain")
    assert result.exit_code == 0
    why = json.loads(result.stdout)["explanations"]
    assert why["toan.hk1"] == (
        "Toán: ĐTBmhk I = (8 + 7,5 + 9 + 6 + 2·7 + 3·8,5) / 9 = 70 / 9 = 7,777… → 7,8 (Điều 9 khoản 1)"
    )
    assert why["conduct.year"] == "Học kỳ I Tốt, học kỳ II Tốt → cả năm Tốt (Điều 8)"
    assert {"toan.hk2", "toan.year", "gdtc.year", "learning_result.year", "promotion", "award"} <= set(why)
    assert "explanations" not in json.loads(run(tmp_path, TT22, "--circular", "tt22").stdout)


def test_python_dash_m_cli_rules_reads_stdin():
    done = subprocess.run(
        [sys.executable, "-m", "cli.rules", "evaluate", "--circular", "tt27", "-"],
        input=json.dumps(TT27, ensure_ascii=False),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["subjects"] == [
        {"code": "tieng_viet", "year": "T"},
        {"code": "dao_duc", "year": "T"},
    ]


def test_the_hocba_command_has_rules_evaluate(tmp_path):
    path = tmp_path / "in.json"
    path.write_text(json.dumps(TT22, ensure_ascii=False), "utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "rules", "evaluate", "--circular", "tt22", str(path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["subjects"][0] == {"code": "toan", "hk1": 7.8, "hk2": 8.3, "year": 8.1}


def regular(p, term, values):
    p["subjects"][0][term]["regular"] = values


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda p: p["subjects"][0]["hk1"]["regular"].pop(),
            "subjects[0].hk1.regular: Toán has 140 periods a year, so 4 regular assessments are required, got 3",
        ),
        (
            lambda p: p["subjects"][0]["hk1"].update(final=11),
            "subjects[0].hk1.final: score must be within 0–10",
        ),
        (
            lambda p: p["subjects"][0]["hk1"].update(final=-0.5),
            "subjects[0].hk1.final: score must be within 0–10",
        ),
        (
            lambda p: p["subjects"][0]["hk1"].update(final=7.25),
            "subjects[0].hk1.final: score has at most one decimal, got 7.25",
        ),
        (lambda p: regular(p, "hk2", [9, 8, "tám", 7]), "subjects[0].hk2.regular[2]: must be a score 0–10"),
        (lambda p: regular(p, "hk2", [9, 8, None, 7]), "subjects[0].hk2.regular[2]: must be a score 0–10"),
        (lambda p: regular(p, "hk2", [9, 8, True, 7]), "subjects[0].hk2.regular[2]: must be a score 0–10"),
        (lambda p: p["subjects"][0]["hk2"].pop("midterm"), "subjects[0].hk2.midterm: missing midterm score"),
        (
            lambda p: p["subjects"][0].pop("periods_per_year"),
            "subjects[0].periods_per_year: a scored subject",
        ),
        (lambda p: p["subjects"][0].pop("hk2"), "subjects[0].hk2: missing term"),
        (lambda p: p["subjects"][0].update(assessment="grade"), "subjects[0].assessment: must be 'score'"),
        (lambda p: p["subjects"][1]["hk2"].update(result="Tốt"), "subjects[1].hk2.result: must be Đ or CĐ"),
        (lambda p: p["subjects"][1].update(hk1={}), "subjects[1].hk1: give the term result"),
        (lambda p: p["subjects"][1].update(code="toan"), "subjects[1].code: subject 'toan' appears twice"),
        (lambda p: p.update(subjects=[]), "subjects: must be a non-empty list"),
        (lambda p: p["conduct"].update(hk2="Giỏi"), "conduct.hk2: must be one of Chưa đạt, Đạt, Khá, Tốt"),
        (lambda p: p["conduct"].pop("hk1"), "conduct.hk1: must be one of"),
        (lambda p: p.update(condcut=p.pop("conduct")), "condcut: unknown field"),
        (lambda p: p.update(absences=-1), "absences: must be the number of sessions missed"),
        (lambda p: p.update(grade=5), "grade: TT22 covers grades 6–12, got 5"),
        (lambda p: p.update(grade="8"), "grade: must be an integer"),
    ],
)
def test_invalid_input_exits_2_with_one_line_naming_the_field(tmp_path, change, message):
    payload = copy.deepcopy(TT22)
    change(payload)
    result = run(tmp_path, payload, "--circular", "tt22")
    assert result.exit_code == 2, result.stdout
    assert result.stderr.startswith("error: " + message), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and result.stdout == ""


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda p: p["subjects"][0]["hk2"].pop("test"),
            "subjects[0].hk2.test: Tiếng Việt has a periodic test",
        ),
        (
            lambda p: p["subjects"][0]["hk1"].update(test=0),
            "subjects[0].hk1.test: must be a periodic test score",
        ),
        (lambda p: p["subjects"][1]["hk2"].update(level="B"), "subjects[1].hk2.level: must be T, H or C"),
        (lambda p: p["competencies"].pop("the_chat"), "competencies.the_chat: must be T, Đ or C"),
    ],
)
def test_invalid_primary_input_exits_2(tmp_path, change, message):
    payload = copy.deepcopy(TT27)
    change(payload)
    result = run(tmp_path, payload, "--circular", "tt27")
    assert result.exit_code == 2
    assert result.stderr.startswith("error: " + message), result.stderr


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        ("{not json", ["--circular", "tt22"], "not valid JSON (Expecting property name"),
        ("[1, 2]", ["--circular", "tt22"], "(root): expected a JSON object"),
        (TT22, ["--circular", "tt27"], "circular: the file says 'tt22' but --circular is 'tt27'"),
        (TT22, ["--circular", "tt23"], "--circular must be tt22 or tt27, got 'tt23'"),
    ],
)
def test_unreadable_input_and_a_wrong_circular_exit_2(tmp_path, content, args, message):
    result = run(tmp_path, content, *args)
    assert result.exit_code == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_missing_file_exits_2(tmp_path):
    result = CliRunner().invoke(app, ["evaluate", str(tmp_path / "none.json"), "--circular", "tt22"])
    assert result.exit_code == 2 and "cannot read" in result.stderr
