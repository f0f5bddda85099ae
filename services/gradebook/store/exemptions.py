"""Exemptions (miễn học) as the principal decided them, per class, student, subject and period."""

from __future__ import annotations

from sqlalchemy import RowMapping

from services.gradebook.domain.exemption import Exemption
from services.gradebook.store.decisions import DecisionRepository
from services.gradebook.store.tables import exemptions


class ExemptionRepository(DecisionRepository[Exemption]):
    table = exemptions
    order = ("subject_code", "period")

    def _decision(self, row: RowMapping) -> Exemption:
        return Exemption(**row)
