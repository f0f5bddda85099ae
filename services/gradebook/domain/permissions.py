"""Who may do what in a school's gradebook: pure decisions with the reason shown to the user.

The gradebook's one authorisation idiom: every check is a function here returning a ``Decision`` — ``admit``
(the route's gate, before a request's body is read) and ``decide`` (the action on what the app looked up) — and
the app enforces it with ``app.handlers.require``. No role test is written inline anywhere else in the service
(the runtime's ``Principal.require_role`` is for services without rules of their own).
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from enum import StrEnum


class Action(StrEnum):
    READ_CLASS = "class.read"
    WRITE_MARKS = "marks.write"
    WRITE_HOMEROOM = "homeroom.write"
    LOCK_TERM = "term.lock"
    UNLOCK_TERM = "term.unlock"
    PROPOSE_AMENDMENT = "amendment.propose"
    DECIDE_AMENDMENT = "amendment.decide"
    IMPORT_MASTER_DATA = "master.import"
    DECLARE_SCHOOL = "school.declare"
    READ_AMENDMENTS = "amendment.read"
    DECIDE_EXEMPTION = "exemption.decide"
    DECIDE_AWARD = "award.decide"
    DECIDE_INDIVIDUAL_PLAN = "individual_plan.decide"
    RECORD_CARRIED_TERM = "carried_term.record"


@dataclass(frozen=True)
class Actor:
    user_id: str
    roles: frozenset[str]
    school_id: str | None
    # Schools an inspector reads besides their own (the token's inspected_schools claim).
    inspected_schools: frozenset[str] = frozenset()

    def acts_for(self, school_id: str | None) -> bool:
        """Own school; or a listed school for a token whose only role is inspector (read-only: no write rule
        allows the inspector role). The same rule as services.runtime.auth.Principal.acts_for."""
        if school_id is None:
            return False
        if self.school_id == school_id:
            return True
        return self.roles == {"inspector"} and school_id in self.inspected_schools


@dataclass(frozen=True)
class Target:
    """The facts about the thing acted on that a decision needs (looked up by the app layer)."""

    school_id: str
    # The actor teaches this subject in this class this school year (per the assignments table).
    assigned: bool = False
    # The actor is this class's homeroom teacher this school year.
    homeroom: bool = False
    # The class belongs to the school year currently open for entry.
    current_year: bool = True
    # The action concerns one subject's marks (not the homeroom record).
    of_subject: bool = False


@dataclass(frozen=True)
class Decision:
    allowed: bool
    reason_vi: str = ""
    # Refused as if the thing did not exist (404): another school's is answered like an unknown one.
    hidden: bool = False


ALLOW = Decision(True)
HIDDEN = Decision(False, hidden=True)
ROLE_REFUSED = "Vai trò của bạn không được thực hiện thao tác này."


def _deny(reason_vi: str) -> Decision:
    return Decision(False, reason_vi)


def admit(actor: Actor, school_id: str | None, route_roles: Collection[str]) -> Decision:
    """The gate before a request's body is read: an unknown thing (``school_id`` None) and another school's are
    hidden alike, then the route's roles. An operator enters another school only by a route open to operators."""
    if school_id is None:
        return HIDDEN
    operator = "operator" in route_roles and "operator" in actor.roles
    if not operator and not actor.acts_for(school_id):
        return HIDDEN
    if not actor.roles & set(route_roles):
        return _deny(ROLE_REFUSED)
    return ALLOW


def decide(actor: Actor, action: Action, target: Target) -> Decision:
    """Tenancy first (the school), then the role, then the relationship to the class and subject.

    Operators run the platform and read no school's marks: with no school of their own, every class is another's.
    The one exception is declaring a school, which the operator does for any school.
    """
    if action is Action.DECLARE_SCHOOL and "operator" in actor.roles:
        return ALLOW
    if not actor.acts_for(target.school_id):
        return _deny("Dữ liệu này thuộc trường khác.")
    roles = actor.roles
    match action:
        case Action.READ_CLASS:
            if roles & {"principal", "staff", "inspector"} or target.assigned or target.homeroom:
                return ALLOW
            return _deny("Chỉ giáo viên dạy lớp, giáo viên chủ nhiệm và ban giám hiệu được xem lớp này.")
        case Action.WRITE_MARKS:
            if "teacher" not in roles or not target.assigned:
                return _deny("Chỉ giáo viên được phân công dạy môn này ở lớp này được nhập điểm.")
            if not target.current_year:
                return _deny("Chỉ được nhập điểm cho năm học hiện tại.")
            return ALLOW
        case Action.WRITE_HOMEROOM:
            if "homeroom" not in roles or not target.homeroom:
                return _deny("Chỉ giáo viên chủ nhiệm lớp được nhập nhận xét, rèn luyện và phẩm chất.")
            if not target.current_year:
                return _deny("Chỉ được nhập cho năm học hiện tại.")
            return ALLOW
        case Action.LOCK_TERM | Action.UNLOCK_TERM | Action.DECIDE_AMENDMENT:
            if "principal" not in roles:
                return _deny("Chỉ hiệu trưởng được khóa, mở khóa học kỳ và phê duyệt điều chỉnh.")
            return ALLOW
        case Action.DECIDE_EXEMPTION:
            # TT22 art. 9 leaves exemption (miễn học) to the principal's decision: no one else takes or revokes it.
            if "principal" not in roles:
                return _deny("Chỉ hiệu trưởng được quyết định hoặc hủy quyết định miễn học.")
            if not target.current_year:
                return _deny("Chỉ được quyết định miễn học cho năm học hiện tại.")
            return ALLOW
        case Action.DECIDE_INDIVIDUAL_PLAN:
            # TT22 art. 10, TT27: the principal approves a student's individual education plan; no one else.
            if "principal" not in roles:
                return _deny(
                    "Chỉ hiệu trưởng được quyết định hoặc hủy kế hoạch giáo dục cá nhân của học sinh."
                )
            if not target.current_year:
                return _deny("Chỉ được quyết định kế hoạch giáo dục cá nhân cho năm học hiện tại.")
            return ALLOW
        case Action.DECIDE_AWARD:
            # TT22 art. 15 and TT27 art. 13: the principal gives the titles (tặng giấy khen); no one else.
            if "principal" not in roles:
                return _deny("Chỉ hiệu trưởng được quyết định hoặc hủy khen thưởng.")
            if not target.current_year:
                return _deny("Chỉ được quyết định khen thưởng cho năm học hiện tại.")
            return ALLOW
        case Action.RECORD_CARRIED_TERM:
            # A transfer is the school office's paperwork (the staff role: "digitisation, transfers"), under the
            # principal: the sending school's results are transcribed from the handed-over record, not assessed.
            if not roles & {"staff", "principal"}:
                return _deny(
                    "Chỉ văn thư (cán bộ nhà trường) hoặc hiệu trưởng được ghi kết quả học kỳ mang từ trường cũ."
                )
            if not target.current_year:
                return _deny("Chỉ được ghi kết quả mang từ trường cũ cho năm học hiện tại.")
            return ALLOW
        case Action.PROPOSE_AMENDMENT:
            if not (("teacher" in roles and target.assigned) or ("homeroom" in roles and target.homeroom)):
                return _deny(
                    "Chỉ giáo viên dạy môn hoặc giáo viên chủ nhiệm của lớp được đề nghị điều chỉnh."
                )
            if target.of_subject and not target.assigned:
                return _deny("Chỉ giáo viên dạy môn này ở lớp này được đề nghị điều chỉnh điểm môn.")
            if not target.of_subject and not target.homeroom:
                return _deny("Chỉ giáo viên chủ nhiệm được đề nghị điều chỉnh nhận xét, rèn luyện.")
            return ALLOW
        case Action.DECLARE_SCHOOL:
            if "staff" in roles:
                return ALLOW
            return _deny("Chỉ quản trị hệ thống hoặc văn thư của trường được khai báo trường.")
        case Action.READ_AMENDMENTS:
            if roles & {"principal", "inspector"}:
                return ALLOW
            return _deny("Chỉ hiệu trưởng và thanh tra được xem biên bản điều chỉnh của trường.")
        case Action.IMPORT_MASTER_DATA:
            if roles & {"staff", "principal"}:
                return ALLOW
            return _deny("Chỉ văn thư (cán bộ nhà trường) hoặc hiệu trưởng được nhập dữ liệu.")
    return _deny("Thao tác không được hỗ trợ.")
