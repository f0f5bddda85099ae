"""The principal's per-student decisions (exemptions, awards, individual education plans): one row each, keyed by
its id and constrained by its school; the repositories differ only in their table and row type."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from sqlalchemy import RowMapping, Table, delete, insert, select
from sqlalchemy.orm import Session


class Decided(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def school_id(self) -> str: ...


D = TypeVar("D", bound=Decided)


class DecisionRepository(Generic[D]):
    table: ClassVar[Table]
    order: ClassVar[tuple[str, ...]]  # how a class's decisions are listed, after the student

    def __init__(self, session: Session) -> None:
        self.session = session

    def _decision(self, row: RowMapping) -> D:
        raise NotImplementedError

    def _values(self, decision: D) -> dict[str, Any]:
        return asdict(decision)  # type: ignore[call-overload, no-any-return]

    def add(self, decision: D) -> None:
        self.session.execute(insert(self.table).values(**self._values(decision)))

    def of_class(self, class_id: str, student_id: str | None = None) -> list[D]:
        """The class's decisions (one student's when ``student_id`` is given), by student."""
        t = self.table
        stmt = select(t).where(t.c.class_id == class_id)
        if student_id is not None:
            stmt = stmt.where(t.c.student_id == student_id)
        rows = self.session.execute(stmt.order_by(t.c.student_id, *(t.c[c] for c in self.order)))
        return [self._decision(r._mapping) for r in rows]

    def get(self, school_id: str, decision_id: str) -> D | None:
        """One of ``school_id``'s decisions: another school's id finds nothing, like an unknown one."""
        t = self.table
        row = self.session.execute(select(t).where(t.c.id == decision_id, t.c.school_id == school_id)).first()
        return self._decision(row._mapping) if row else None

    def school_of(self, decision_id: str) -> str | None:
        t = self.table
        return self.session.execute(select(t.c.school_id).where(t.c.id == decision_id)).scalar_one_or_none()

    def remove(self, decision: D) -> None:
        t = self.table
        self.session.execute(delete(t).where(t.c.id == decision.id, t.c.school_id == decision.school_id))
