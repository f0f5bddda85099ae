"""Does the printed page say what the embedded XML says? Pure: the record's facts against the page's text.

The renderer prints one row per subject (name, then the term and year values with a decimal comma) and the student's
details as "label: value"; a forged page that keeps valid signatures over a different XML would show up here.
"""

from __future__ import annotations

import re
import unicodedata

from services.signing.verifier.model import RecordFacts


def _normal(text: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFC", text)).strip()


def page_disagreements(record: RecordFacts, text: str) -> list[str]:
    """What the XML says that the printed page does not show (empty when they agree)."""
    lines = [_normal(line) for line in text.splitlines()]
    whole = " ".join(lines)
    problems = [
        f"Trang in không có {label} «{value}» như trong XML."
        for label, value in (
            ("họ tên học sinh", record.student_name),
            ("lớp", record.class_name),
            ("năm học", record.school_year),
        )
        if value and not _appears(_normal(value), whole)
    ]
    # Label and value together ("Ngày sinh: 13/07/2011"): the birth date must not be found in the effective date.
    problems += [
        f"Trang in không có «{label}: {value}» như trong XML."
        for label, value in record.details
        if not _appears(_normal(f"{label}: {value}"), whole)
    ]
    for subject in record.subjects:
        name = _normal(subject.name)
        rows = [line[len(name) :].split() for line in lines if line.startswith(name + " ")]
        if not any(_in_order(list(subject.values), row) for row in rows):
            shown = " ".join(subject.values) or "(trống)"
            problems.append(f"Trang in không khớp XML ở môn {subject.name} (XML: {shown}).")
    return problems


def _appears(value: str, text: str) -> bool:
    """As a whole word run: "Ánh" must not be found inside "Ánhx"."""
    return re.search(rf"(?<!\w){re.escape(value)}(?!\w)", text) is not None


def _in_order(wanted: list[str], row: list[str]) -> bool:
    it = iter(row)
    return all(any(token == value for token in it) for value in wanted)
