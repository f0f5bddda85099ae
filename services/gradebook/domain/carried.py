"""A term a student studied at another school, carried into the receiving class (chuyển trường giữa năm học).

rules.md, "Cases every school has": a student who arrives during the year brings the term results of the previous
school (from the handover), and the year is computed from them and the new school's (TT22 art. 9: ĐTBmcn =
(ĐTBmhkI + 2·ĐTBmhkII) / 3 per subject; art. 8: the year's conduct from both terms); each school signs only what it
assessed.

Project decisions (TT22 says nothing about the mechanics):

- What is carried is what the sending school's locked term gave: each subject's term result (ĐTBmhk, or Đ/CĐ for a
  comment-only subject), the term's conduct and the sessions missed. Not the individual assessments: the receiving
  school did not give them and does not print them as its own. The term's learning result is computed again from
  the carried subject results with the same rules, so it is the sending school's by construction.
- It arrives with the handover when both schools are on the platform: the sending principal's approval of the
  transfer (sync's ``TranscriptTransferredV1``, naming the student as the sending school knows them) makes the
  sending school's gradebook hand over the student's locked term I of the open year (``HandedOverTerm``), kept for
  the receiving school and matched to its roster by the MOET code, as the transcript service matches the học bạ.
  Only a locked term is handed over (what the sending principal froze), and only while that school's year is
  open (a year already locked is a year-end transfer: the sealed record carries it).
- Otherwise (a school elsewhere, or papers only), or to correct it, the receiving school's staff (văn thư) or
  principal enter it from the handed-over record (the học bạ the province hands over, or the sending school's
  transfer papers: *source* says which); what they enter wins over what was handed over. Either way it is kept in
  the receiving school's own rows, under its own ids: a request of the receiving school never reads the sending
  school's tables, and the sending school is named (id and printed name) to say on the học bạ where the term was
  studied.
- Only TT22 (grades 6–12). A primary pupil's year level is the end-of-year assessment (TT27 art. 9) and needs no
  carried term; refused with the reason.
- It can be entered and corrected until the receiving class's year (term II) is locked; after the lock the
  principal unlocks term II (audited), as for any year result. It replaces, for the carried term, whatever the
  receiving class holds for the student (the student was not in the class that term).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.gradebook.domain.curriculum import Assessment
from services.gradebook.domain.errors import GradebookError
from services.gradebook.domain.scores import ScoreInvalid, score_text, tt22_score

CONDUCT_LEVELS = ("Tốt", "Khá", "Đạt", "Chưa đạt")
COMMENT_RESULTS = ("Đ", "CĐ")
# The term a student who joins during the year carries: term I (a student who joins in term II). Term II is the
# receiving school's, and the year closes there.
CARRIED_TERMS = ("hk1",)


@dataclass(frozen=True)
class CarriedTerm:
    """The sending school's results of one term of one student, as the receiving school recorded them."""

    school_id: str  # the receiving school (the tenant): every row is its own
    class_id: str
    student_id: str
    term: str
    from_school_id: str
    from_school_name: str
    subjects: Mapping[str, str] = field(default_factory=dict)  # code → "7.5" (ĐTBmhk) or Đ/CĐ
    conduct: str | None = None
    absences: int | None = None
    source: str = ""  # what it was entered from, as stated (e.g. "Học bạ do Sở chuyển, mã …")
    recorded_by: str = ""
    recorded_at: datetime | None = None


class CarriedTermInvalid(GradebookError):
    http_status = 422
    slug = "carried-term-invalid"
    title = "Carried term is invalid"


class CarriedTermRefused(GradebookError):
    http_status = 409
    slug = "carried-term-refused"
    title = "Carried term refused"


def checked_subjects(
    entered: Mapping[str, Any], taught: Mapping[str, tuple[str, Assessment]], circular: str
) -> dict[str, str]:
    """The carried subject results as stored (code → canonical text), or a refusal naming what is wrong.

    ``taught``: code → (name, kind) of the subjects the receiving class is assigned. A subject the class does not
    teach has no row on the receiving school's form; its result is refused rather than silently dropped.
    """
    if circular != "tt22":
        raise CarriedTermRefused(
            "Kết quả học kỳ mang từ trường cũ chỉ áp dụng cho học sinh trung học (Thông tư 22); với học sinh tiểu "
            "học, kết quả cả năm là kết quả đánh giá cuối năm học tại trường mới (Thông tư 27).",
            log=f"carried term for a {circular} class",
        )
    out: dict[str, str] = {}
    for code, value in entered.items():
        if code not in taught:
            raise CarriedTermInvalid(
                f"Môn “{code}” không được phân công cho lớp này: không ghi được kết quả mang từ trường cũ.",
                log=f"carried result for untaught subject {code}",
            )
        name, kind = taught[code]
        if kind is Assessment.COMMENT:
            if value not in COMMENT_RESULTS:
                raise CarriedTermInvalid(
                    f"{name} là môn đánh giá bằng nhận xét: kết quả học kỳ là Đ hoặc CĐ, nhận được “{value}”.",
                    log=f"carried comment result for {code} is not Đ/CĐ",
                )
            out[code] = str(value)
        else:
            try:
                out[code] = score_text(tt22_score(value, code))
            except ScoreInvalid as refused:
                raise CarriedTermInvalid(
                    f"{name}: {refused.detail_vi}", log=f"carried average for {code}: {refused.problem}"
                ) from None
    return out


def carried_why(school_name: str) -> str:
    """The words every result computed from a carried term adds: whose it is."""
    return f"học kỳ I do {school_name} đánh giá (học sinh chuyển đến), học kỳ II do trường hiện tại đánh giá"


@dataclass(frozen=True)
class HandedOverTerm:
    """A term the sending school's gradebook handed over with a transfer, kept for the receiving school until the
    student is on one of its rosters (found by ``moet_code``)."""

    school_id: str  # the receiving school (the tenant)
    transcript_id: str  # the học bạ handed over
    school_year: str
    term: str
    moet_code: str | None
    from_school_id: str
    from_school_name: str
    subjects: Mapping[str, str]
    conduct: str | None
    absences: int | None
    locked_at: datetime
    received_at: datetime

    def in_class(self, class_id: str, student_id: str) -> CarriedTerm:
        """The term as the receiving class's student carries it."""
        return CarriedTerm(
            school_id=self.school_id,
            class_id=class_id,
            student_id=student_id,
            term=self.term,
            from_school_id=self.from_school_id,
            from_school_name=self.from_school_name,
            subjects=self.subjects,
            conduct=self.conduct,
            absences=self.absences,
            source=f"Bàn giao cùng học bạ khi chuyển trường ({self.from_school_name} đã khóa học kỳ)",
            recorded_by="gradebook",
            recorded_at=self.received_at,
        )


def hands_over(term_locked: bool, year_locked: bool) -> bool:
    """The sending school hands a term over only once its principal locked it, and only mid-year: a year already
    locked at the sending school is a year-end transfer, whose sealed record the handover carries instead."""
    return term_locked and not year_locked
