"""Awards (khen thưởng) as the principal decided them, one title per student and school year."""

from __future__ import annotations

from sqlalchemy import RowMapping

from services.gradebook.domain.award import Award
from services.gradebook.store.decisions import DecisionRepository
from services.gradebook.store.tables import awards


class AwardRepository(DecisionRepository[Award]):
    table = awards
    order = ("decided_at",)

    def _decision(self, row: RowMapping) -> Award:
        return Award(**row)
