"""The verification report: one value for callers, JSON in the EU DSS vocabulary, HTML in Vietnamese."""

from __future__ import annotations

import base64
import hashlib
import html
import json
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from services.signing.domain.model import ROLE_TITLES
from services.signing.verifier.model import (
    INDETERMINATE,
    TOTAL_PASSED,
    Check,
    DocumentTimestamp,
    Judged,
    PdfFacts,
    RecordFacts,
    Verdict,
    XmlFacts,
)

VALIDATOR = "hocba-verifier"
VERDICT_WORDS = {TOTAL_PASSED: "Hợp lệ", INDETERMINATE: "Chưa xác định", "TOTAL_FAILED": "Không hợp lệ"}


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


@dataclass(frozen=True)
class SignatureEntry:
    field: str
    order: int | None
    role: str | None
    signer: str | None
    signer_id: str | None
    on_behalf_of: str | None  # a digitised year: the principal signs for a teacher who has left
    time: str | None
    level: str
    intact: bool
    valid: bool
    trusted: bool
    modification_level: str
    docmdp_ok: bool
    indication: str
    sub_indication: str | None


@dataclass(frozen=True)
class XmlSignatureEntry:
    position: int
    order: str | None
    role: str | None
    field: str | None
    signer: str | None
    signer_id: str | None
    time: str | None
    verified: bool
    references_ok: bool
    trusted: bool
    indication: str
    sub_indication: str | None
    error: str | None


@dataclass(frozen=True)
class Report:
    """``passed`` is the one bit most callers need; ``checks`` and the signature lists say why."""

    indication: str
    sub_indication: str | None
    document_sha256: str
    validation_time: datetime
    validator: dict[str, str]
    duration_ms: float
    student: str
    school_year: str
    class_name: str
    school: str
    signatures: tuple[SignatureEntry, ...]
    timestamps: tuple[DocumentTimestamp, ...]
    xml_signatures: tuple[XmlSignatureEntry, ...] | None
    checks: tuple[Check, ...]

    @property
    def passed(self) -> bool:
        return self.indication == TOTAL_PASSED

    @property
    def reasons(self) -> list[str]:
        """The failed checks' explanations (Vietnamese), in check order."""
        return [c.detail for c in self.checks if not c.passed]

    def to_dict(self) -> dict[str, Any]:
        return {
            "indication": self.indication,
            "sub_indication": self.sub_indication,
            "passed": self.passed,
            "document_sha256": self.document_sha256,
            "validation_time": self.validation_time.isoformat(),
            "validator": self.validator,
            "duration_ms": round(self.duration_ms, 1),
            "record": {
                "student": self.student,
                "class": self.class_name,
                "school_year": self.school_year,
                "school": self.school,
            },
            "signatures": [asdict(s) for s in self.signatures],
            "timestamps": [{**asdict(t), "time": _iso(t.time)} for t in self.timestamps],
            "xml_signatures": None
            if self.xml_signatures is None
            else [asdict(s) for s in self.xml_signatures],
            "checks": [
                {
                    "name": c.name,
                    "title": c.title,
                    "passed": c.passed,
                    "detail": c.detail,
                    "sub_indication": c.sub_indication,
                }
                for c in self.checks
            ],  # fmt: skip
        }

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=2)


def build(
    record: RecordFacts,
    pdf: PdfFacts,
    xml: XmlFacts | None,
    judged: Judged,
    *,
    validation_time: datetime,
    duration_ms: float,
    version: str,
) -> Report:
    overall = Verdict.worst([c.sub_indication for c in judged.checks if not c.passed])
    steps = {s.field_name: s for s in record.plan.steps}
    signatures = tuple(
        SignatureEntry(
            field=sig.field,
            order=steps[sig.field].order if sig.field in steps else None,
            role=steps[sig.field].role if sig.field in steps else None,
            signer=sig.signer.common_name,
            signer_id=sig.signer.serial_number,
            on_behalf_of=steps[sig.field].on_behalf_of if sig.field in steps else None,
            time=_iso(sig.time),
            level=sig.level,
            intact=sig.intact,
            valid=sig.valid,
            trusted=sig.trusted,
            modification_level=sig.modification_level,
            docmdp_ok=sig.docmdp_ok,
            indication=verdict.indication,
            sub_indication=verdict.sub_indication,
        )
        for sig, verdict in zip(pdf.signatures, judged.pdf_verdicts, strict=True)
    )
    xml_signatures = None
    if xml is not None:
        xml_signatures = tuple(
            XmlSignatureEntry(
                position=sig.position,
                order=sig.order,
                role=sig.role,
                field=sig.field,
                signer=sig.signer.common_name if sig.signer else None,
                signer_id=sig.signer.serial_number if sig.signer else None,
                time=_iso(sig.time),
                verified=sig.verified,
                references_ok=sig.references_ok,
                trusted=sig.trusted,
                indication=verdict.indication,
                sub_indication=verdict.sub_indication,
                error=sig.error,
            )
            for sig, verdict in zip(xml.signatures, judged.xml_verdicts, strict=True)
        )
    return Report(
        indication=overall.indication,
        sub_indication=overall.sub_indication,
        document_sha256=pdf.sha256,
        validation_time=validation_time,
        validator={"name": VALIDATOR, "version": version},
        duration_ms=duration_ms,
        student=record.student_name,
        school_year=record.school_year,
        class_name=record.class_name,
        school=record.school_name,
        signatures=signatures,
        timestamps=pdf.timestamps,
        xml_signatures=xml_signatures,
        checks=judged.checks,
    )


_STYLE = """
body{font-family:"Noto Sans",system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1b1f24}
.verdict{font-size:2.4rem;font-weight:700;padding:.6rem 1rem;border-radius:.4rem;margin:1rem 0}
.TOTAL_PASSED{background:#e3f4e8;color:#135c2c}.TOTAL_FAILED{background:#fde7e7;color:#8a1111}
.INDETERMINATE{background:#fff3d6;color:#7a5300}
table{border-collapse:collapse;width:100%;margin:.5rem 0 1.5rem}td,th{border:1px solid #ccd;padding:.3rem .5rem;
text-align:left;vertical-align:top;font-size:.9rem}th{background:#eef2f7}.ok{color:#135c2c}.bad{color:#8a1111}
code{font-size:.85rem;word-break:break-all}
"""
# The page's one inline stylesheet, as a Content-Security-Policy source: the policy allows exactly this style and
# nothing else inline (computed here, beside it, so the two cannot drift apart).
STYLE_CSP_SOURCE = "'sha256-" + base64.b64encode(hashlib.sha256(_STYLE.encode()).digest()).decode() + "'"


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value))


def _when(iso: str | None) -> str:
    """Readable in the page (the JSON keeps ISO 8601): 2026-06-01 09:30:12 UTC."""
    if not iso:
        return ""
    return datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M:%S %Z").strip()


def _yes(flag: bool) -> str:
    return '<span class="ok">có</span>' if flag else '<span class="bad">không</span>'


def html_body(report: Report) -> str:
    """The report as an HTML fragment (the web page puts its form above it)."""
    rows = "".join(
        f"<tr><td>{'✔' if c.passed else '✘'}</td><td>{_e(c.title)}</td>"
        f'<td class="{"ok" if c.passed else "bad"}">{_e(c.detail)}</td></tr>'
        for c in report.checks
    )
    sigs = "".join(
        f"<tr><td>{_e(s.order)}</td><td>{_e(ROLE_TITLES.get(s.role or '', s.field))}</td><td>{_e(s.signer)}"
        f"{_e(f' (ký thay {s.on_behalf_of})' if s.on_behalf_of else '')}</td>"
        f"<td>{_e(_when(s.time))}</td><td>{_e(s.level)}</td><td>{_yes(s.intact and s.valid)}</td><td>{_yes(s.trusted)}</td>"
        f"<td>{_e(s.modification_level)}</td><td>{_e(VERDICT_WORDS.get(s.indication))} {_e(s.sub_indication)}</td></tr>"
        for s in report.signatures
    )
    xml = ""
    if report.xml_signatures is not None:
        xml_rows = "".join(
            f"<tr><td>{_e(s.order)}</td><td>{_e(ROLE_TITLES.get(s.role or '', s.role))}</td><td>{_e(s.signer)}</td>"
            f"<td>{_e(_when(s.time))}</td><td>{_yes(s.verified and s.references_ok)}</td><td>{_yes(s.trusted)}</td>"
            f"<td>{_e(VERDICT_WORDS.get(s.indication))} {_e(s.sub_indication)}</td></tr>"
            for s in report.xml_signatures
        )
        xml = (
            "<h2>Chữ ký trên gói XML</h2><table><tr><th>Bước</th><th>Vai trò</th><th>Người ký</th><th>Thời điểm</th>"
            f"<th>Nguyên vẹn</th><th>Tin cậy</th><th>Kết luận</th></tr>{xml_rows}</table>"
        )
    return (
        f'<div class="verdict {_e(report.indication)}" id="verdict">{_e(VERDICT_WORDS[report.indication])}</div>'
        f"<p>Học bạ của <b>{_e(report.student)}</b>, lớp {_e(report.class_name)}, năm học {_e(report.school_year)}, "
        f"{_e(report.school)}.</p>"
        f"<p>Kết luận theo ETSI: <code>{_e(report.indication)}</code> {_e(report.sub_indication or '')}</p>"
        f'<h2>Các bước kiểm tra</h2><table id="checks">{rows}</table>'
        "<h2>Chữ ký trên PDF</h2><table><tr><th>Bước</th><th>Vai trò</th><th>Người ký</th><th>Thời điểm</th>"
        "<th>Mức</th><th>Nguyên vẹn</th><th>Tin cậy</th><th>Thay đổi sau ký</th><th>Kết luận</th></tr>"
        f"{sigs}</table>{xml}"
        f"<p>SHA-256 của tài liệu: <code>{_e(report.document_sha256)}</code><br>"
        f"Thời điểm kiểm tra: {_e(report.validation_time.isoformat(timespec='seconds'))}; "
        f"{_e(report.validator['name'])} {_e(report.validator['version'])}</p>"
    )


def page(title: str, body: str) -> str:
    return (
        f'<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>{_e(title)}</title>'
        f"<style>{_STYLE}</style></head><body>{body}</body></html>"
    )


def to_html(report: Report) -> str:
    return page("Kết quả kiểm tra học bạ số", "<h1>Kết quả kiểm tra học bạ số</h1>" + html_body(report))
