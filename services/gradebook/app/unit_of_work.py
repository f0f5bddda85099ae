"""The gradebook's unit of work: repositories plus the runtime's outbox and inbox in one transaction."""

from __future__ import annotations

from sqlalchemy.orm import Session

from services.gradebook.store.amendments import AmendmentRepository
from services.gradebook.store.awards import AwardRepository
from services.gradebook.store.carried import CarriedTermRepository, HandedOverTermRepository
from services.gradebook.store.classes import ClassRepository
from services.gradebook.store.exemptions import ExemptionRepository
from services.gradebook.store.individual_plans import IndividualPlanRepository
from services.gradebook.store.master_data import MasterDataRepository
from services.gradebook.store.sheet import SheetRepository
from services.gradebook.store.tables import inbox, outbox
from services.gradebook.store.term_locks import TermLockRepository
from services.runtime.uow import ServiceUnitOfWork

SERVICE = "gradebook"


class GradebookUnitOfWork(ServiceUnitOfWork):
    """One repository per aggregate, all on the transaction's session."""

    master_data: MasterDataRepository  # the school, its teachers, classes, students and assignments (imports)
    classes: ClassRepository  # a class with its school, roster and assignments, as the rules read it
    sheet: SheetRepository  # marks and homeroom records
    term_locks: TermLockRepository
    amendments: AmendmentRepository
    exemptions: (
        ExemptionRepository  # the principal's decisions that a student does not study a subject (miễn học)
    )
    awards: AwardRepository  # the principal's awards (khen thưởng), one title per student and year
    plans: IndividualPlanRepository  # individual education plans (kế hoạch giáo dục cá nhân), one a year
    carried: CarriedTermRepository  # terms students who joined during the year studied elsewhere
    handed_over: HandedOverTermRepository  # such terms as the sending school's gradebook handed them over

    service = SERVICE
    outbox_table, inbox_table = outbox, inbox

    def _open(self, session: Session) -> None:
        self.master_data = MasterDataRepository(session)
        self.classes = ClassRepository(session)
        self.sheet = SheetRepository(session)
        self.term_locks = TermLockRepository(session)
        self.amendments = AmendmentRepository(session)
        self.exemptions = ExemptionRepository(session)
        self.awards = AwardRepository(session)
        self.plans = IndividualPlanRepository(session)
        self.carried = CarriedTermRepository(session)
        self.handed_over = HandedOverTermRepository(session)
