"""Signing readiness before the cutoff (pure): who holds each class up, certificates, the projected finish."""

from datetime import UTC, date, datetime, timedelta

from services.signing.domain.model import RecordProgress, Signer
from services.signing.domain.readiness import cutoff_for, readiness

NOW = datetime(2026, 6, 20, 9, 0, tzinfo=UTC)


def row(class_id, status, signer="gv1", name="Nguyễn Văn An", role="subject_teacher"):
    waiting_for = Signer(signer, name, role) if status == "collecting" else None
    return RecordProgress(f"yr-{class_id}-{status}", class_id, status, 1, None, waiting_for)


def test_per_class_waiting_signers_certificates_and_the_projected_finish():
    progress = [
        row("8a1", "collecting"),
        row("8a1", "collecting"),
        row("8a1", "sealed"),
        row("8a2", "collecting", "ht", "Lê Văn Cường", "principal"),
    ]
    signers = [
        Signer("gv1", "Nguyễn Văn An", "subject_teacher"),
        Signer("ht", "Lê Văn Cường", "principal"),
        Signer("gv9", "Trần Thị Bình", "homeroom_teacher"),
        Signer("s1", "Trường", "school_seal"),
    ]
    certificates = {"gv1": NOW + timedelta(days=400), "ht": datetime(2026, 6, 25, tzinfo=UTC)}
    report = readiness(progress, 30, signers, certificates, 12, date(2026, 6, 30), NOW)
    first, second = report["classes"]
    assert (first["records"], first["sealed"], first["collecting"]) == (3, 1, 2)
    assert first["waiting_for"] == [
        {
            "signer_id": "gv1",
            "signer_name": "Nguyễn Văn An",
            "role": "subject_teacher",
            "role_title": "Giáo viên bộ môn",
            "records": 2,
        }
    ]
    assert second["waiting_for"][0]["role_title"] == "Hiệu trưởng"
    assert [p["signer_id"] for p in report["signers_without_certificate"]] == ["gv9"]  # the seal is the HSM's
    assert [p["signer_id"] for p in report["certificates_expiring_before_cutoff"]] == ["ht"]
    assert report["projected_finish"] == (NOW + timedelta(hours=2.5)).isoformat()
    assert report["finishes_before_cutoff"] and report["days_to_cutoff"] == 10


def test_no_signatures_in_the_last_hour_means_no_projection_and_done_means_now():
    assert readiness([], 5, [], {}, 0, date(2026, 6, 30), NOW)["projected_finish"] is None
    assert readiness([], 0, [], {}, 0, date(2026, 6, 30), NOW)["projected_finish"] == NOW.isoformat()
    assert cutoff_for("2025-2026") == date(2026, 6, 30) and cutoff_for("2025-2026", "07-15") == date(
        2026, 7, 15
    )


def test_days_to_the_cutoff_are_counted_on_vietnam_s_calendar():
    """23:30 UTC on 30 June is 06:30 on 1 July in Hà Nội: the cutoff was yesterday there. A certificate must last to
    the end of the cutoff day in Vietnam (16:59:59 UTC), not to the end of the UTC day."""
    late = datetime(2026, 6, 30, 23, 30, tzinfo=UTC)
    assert readiness([], 0, [], {}, 0, date(2026, 6, 30), late)["days_to_cutoff"] == -1
    assert readiness([], 0, [], {}, 0, date(2026, 6, 30), late - timedelta(hours=7))["days_to_cutoff"] == 0
    signers = [
        Signer("gv-1", "Nguyễn Văn An", "subject_teacher"),
        Signer("gv-2", "Trần Thị Bình", "subject_teacher"),
    ]
    ends = {
        "gv-1": datetime(2026, 6, 30, 16, 0, tzinfo=UTC),  # 23:00 on 30 June in Hà Nội: an hour short
        "gv-2": datetime(2026, 6, 30, 20, 0, tzinfo=UTC),  # 03:00 on 1 July in Hà Nội: lasts the day
    }
    report = readiness([], 0, signers, ends, 0, date(2026, 6, 30), late - timedelta(days=10))
    assert [e["signer_id"] for e in report["certificates_expiring_before_cutoff"]] == ["gv-1"]
