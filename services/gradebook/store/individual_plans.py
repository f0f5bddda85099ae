"""Individual education plans (kế hoạch giáo dục cá nhân) as the principal decided them, one per student a year."""

from __future__ import annotations

from typing import Any

from sqlalchemy import RowMapping

from services.gradebook.domain.individual_plan import IndividualPlan
from services.gradebook.store.decisions import DecisionRepository
from services.gradebook.store.tables import individual_plans


class IndividualPlanRepository(DecisionRepository[IndividualPlan]):
    table = individual_plans
    order = ("decided_at",)

    def _decision(self, row: RowMapping) -> IndividualPlan:
        return IndividualPlan(**{**row, "subjects": tuple(row["subjects"])})

    def _values(self, decision: IndividualPlan) -> dict[str, Any]:
        return {**super()._values(decision), "subjects": list(decision.subjects)}
