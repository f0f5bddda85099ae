"""bench peak's projection for a mix of records: signing's CPU per signature, the rest per record, weighted."""

import pytest
from pytest import approx

from cli.bench.peak_mix import DEFAULT_MIX, BadMix, Kind, mix_cpu_per_record, parse_mix, split
from cli.bench.peak_sampler import PLATFORM

# A run of 10 grade-8 records (150 PDF signatures with the seals), as cpu_report lists its processes.
PROCESSES = [
    {"name": "signing", "kind": "service", "cpu_s": 9.0},
    {"name": "signing#2", "kind": "service", "cpu_s": 3.0},
    {"name": "signing-relay", "kind": "relay", "cpu_s": 1.0},
    {"name": "postgres signing", "kind": "postgres", "cpu_s": 2.0},
    {"name": "transcript", "kind": "service", "cpu_s": 2.5},
    {"name": "postgres transcript", "kind": "postgres", "cpu_s": 0.5},
    {"name": "rabbitmq (whole node)", "kind": "broker", "cpu_s": 2.0},
    {"name": "sandbox.gateway", "kind": "stand-in", "cpu_s": 50.0},  # not ours: in neither part
    {"name": "bench driver (the users)", "kind": "driver", "cpu_s": 7.0},
]


def test_the_measured_kind_alone_projects_what_was_measured():
    # 20 CPU s measured of ours, 4 of them the idle stack's: 16 net over 10 records.
    parts = split(PROCESSES, PLATFORM, net_cpu=16.0, records=10, signatures=150)
    assert parts.per_signature == approx(15.0 * 0.8 / 150)  # signing, its replica, relay and database
    assert parts.per_record == approx(5.0 * 0.8 / 10)
    assert mix_cpu_per_record(parts, [Kind("grade 8", 15, 1.0)]) == approx(16.0 / 10)


def test_a_mix_projects_the_share_weighted_sum_of_its_kinds():
    parts = split(PROCESSES, PLATFORM, net_cpu=16.0, records=10, signatures=150)
    mix = [Kind("primary", 9, 0.25), Kind("secondary", 15, 0.75)]
    primary = 0.4 + 9 * 0.08
    assert parts.record(9) == approx(primary)
    assert mix_cpu_per_record(parts, mix) == approx(0.25 * primary + 0.75 * 1.6)
    assert mix_cpu_per_record(parts, mix) < 1.6  # fewer signatures cost less than the grade-8 worst case


def test_the_default_mix_is_the_sample_schools_plans():
    from sandbox.sample_school import build
    from services.transcript.domain.model import SubjectLine
    from services.transcript.domain.plan import plan_signatures

    def steps(grade: int) -> int:
        school = build(f"mix-{grade}", classes=1, students_per_class=1, grade=grade)
        cid = school.classes[0]["class_id"]
        lines = [
            SubjectLine(c, c, school.teacher_of(cid, c), "n", None, None, None) for c, _ in school.subjects
        ]
        return len(plan_signatures(lines, (school.homeroom_of(cid), "h"), ("ht", "p"), ("s", "S")))

    kinds = {k.name: k for k in parse_mix(DEFAULT_MIX)}
    assert (kinds["primary"].signatures, kinds["secondary"].signatures) == (steps(5), steps(8)) == (9, 15)
    assert sum(k.share for k in kinds.values()) == approx(1)


@pytest.mark.parametrize("text", ["primary=9:0.5", "primary=9", "a=0:1", "a=9:0.5,b=15:0.6", "a=x:1"])
def test_a_mix_that_is_not_one_is_refused(text):
    with pytest.raises(BadMix):
        parse_mix(text)


def test_the_command_refuses_a_mix_that_is_not_one_before_the_run_starts(monkeypatch):
    from typer.testing import CliRunner

    import cli.bench.peak
    from cli.main import app

    monkeypatch.setattr(cli.bench.peak, "run", lambda *a, **k: pytest.fail("the bench ran"))
    result = CliRunner().invoke(app, ["bench", "peak", "--mix", "primary=9:0.5,secondary=15:0.6"])
    assert result.exit_code == 2, result.output
