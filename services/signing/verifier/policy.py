"""The workflow policy, pure: the plan and what was observed in, checks and verdicts out.

pyHanko's own verdict misses what only the plan knows (signing.md §1.3): a file truncated before the seal still
validates, and nothing in a PDF says who was *meant* to sign. Every reason is Vietnamese, for the reader of the
report; the check names are stable identifiers for machines.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from services.signing.domain.model import ROLE_TITLES, Plan, Step
from services.signing.verifier.model import (
    FORMAT_FAILURE,
    HASH_FAILURE,
    NO_CERTIFICATE_CHAIN_FOUND,
    REVOKED,
    SIG_CONSTRAINTS_FAILURE,
    SIG_CRYPTO_FAILURE,
    Check,
    Judged,
    PdfFacts,
    RecordFacts,
    Signer,
    Verdict,
    XmlFacts,
    XmlSignature,
)
from services.signing.verifier.page import page_disagreements

# What may follow a person's signature (the next people fill their fields), and what may follow the seal.
AFTER_PERSON = frozenset({"NONE", "FORM_FILLING", "LTA_UPDATES"})
AFTER_SEAL = frozenset({"NONE", "LTA_UPDATES"})


def who(step: Step) -> str:
    return f"bước {step.order} ({ROLE_TITLES[step.role]}, {step.signer_name})"


def signer_matches(step: Step, signer: Signer | None, school_name: str) -> bool:
    """The certificate belongs to the planned signer: CN is their name (the seal: the school's O or CN), and a
    subject serialNumber, when the CA put one there, is their id."""
    if signer is None:
        return False
    if step.is_seal:
        named = school_name in (signer.organisation, signer.common_name)
    else:
        named = signer.common_name == step.signer_name
    return named and (signer.serial_number is None or signer.serial_number == step.signer_id)


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def _join(items: Sequence[object]) -> str:
    return ", ".join(str(i) for i in items)


def _holder(signer: Signer | None) -> str:
    return (signer.common_name if signer else None) or "không rõ"


class _Tally:
    """Collects each check's problems and charges each problem to the signature it concerns."""

    def __init__(self, n_pdf: int, n_xml: int) -> None:
        self.checks: list[Check] = []
        self.pdf: dict[int, list[str]] = defaultdict(list)
        self.xml: dict[int, list[str]] = defaultdict(list)
        self.n_pdf, self.n_xml = n_pdf, n_xml

    def add(self, name: str, title: str, problems: list[tuple[str, str]], ok: str) -> None:
        """``problems``: (sub-indication, reason) pairs; none means the check passed with ``ok`` as its detail."""
        if not problems:
            self.checks.append(Check(name, title, True, ok))
            return
        worst = Verdict.worst([s for s, _ in problems]).sub_indication
        self.checks.append(Check(name, title, False, " ".join(r for _, r in problems), worst))

    def judged(self) -> Judged:
        return Judged(
            tuple(self.checks),
            tuple(Verdict.worst(list(self.pdf[i])) for i in range(self.n_pdf)),
            tuple(Verdict.worst(list(self.xml[i])) for i in range(self.n_xml)),
        )


def _integrity(pdf: PdfFacts, plan: Plan, tally: _Tally) -> None:
    by_field = {s.field_name: s for s in plan.steps}
    problems: list[tuple[str, str]] = []
    untrusted: list[tuple[str, str]] = []
    changed_after: dict[str, list[object]] = defaultdict(
        list
    )  # one sentence per kind of change, not per signature
    for i, sig in enumerate(pdf.signatures):
        step = by_field.get(sig.field)
        name = who(step) if step else f"ô {sig.field}"
        found: tuple[str, str] | None = None
        if sig.error:
            found = (FORMAT_FAILURE, f"Chữ ký ở {name} không đọc được ({sig.error}).")
        elif not sig.intact:
            found = (HASH_FAILURE, f"Chữ ký ở {name} không còn nguyên vẹn: tài liệu đã bị sửa sau khi ký.")
        elif not sig.valid:
            found = (SIG_CRYPTO_FAILURE, f"Giá trị chữ ký ở {name} không khớp với chứng thư số.")
        elif sig.revoked:
            found = (REVOKED, f"Chứng thư số của chữ ký ở {name} đã bị thu hồi.")
        if found:
            problems.append(found)
            tally.pdf[i].append(found[0])
            continue
        if not sig.trusted:
            indic = sig.trust_problem or NO_CERTIFICATE_CHAIN_FOUND
            untrusted.append(
                (
                    indic,
                    f"Chứng thư số của chữ ký ở {name} do «{sig.signer.issuer or 'không rõ'}» cấp, "
                    f"không phải tổ chức chứng thực tin cậy ({indic}).",
                )
            )
            tally.pdf[i].append(indic)
        if not sig.docmdp_ok or sig.modification_level not in AFTER_PERSON:
            changed_after[sig.modification_level].append(step.order if step else sig.field)
            tally.pdf[i].append(SIG_CONSTRAINTS_FAILURE)
    changed = [
        (
            SIG_CONSTRAINTS_FAILURE,
            f"Sau chữ ký ở bước {_join(where)}, tài liệu bị thay đổi theo cách không được phép (mức thay đổi {level}).",
        )
        for level, where in changed_after.items()
    ]
    for ts in pdf.timestamps:
        if not (ts.intact and ts.valid):
            problems.append(
                (HASH_FAILURE, f"Dấu thời gian của tài liệu (phiên bản {ts.revision}) không hợp lệ.")
            )
        elif not ts.trusted:
            untrusted.append(
                (
                    NO_CERTIFICATE_CHAIN_FOUND,
                    f"Dấu thời gian (phiên bản {ts.revision}) không do TSA tin cậy cấp.",
                )
            )
        elif ts.modification_level not in AFTER_SEAL:
            changed.append(
                (
                    SIG_CONSTRAINTS_FAILURE,
                    f"Sau dấu thời gian (phiên bản {ts.revision}) tài liệu bị thay đổi.",
                )
            )
    if not pdf.signatures:
        problems.append((FORMAT_FAILURE, "Tài liệu không có chữ ký số nào."))
    tally.add(
        "signatures_intact",
        "Chữ ký còn nguyên vẹn và hợp lệ",
        problems,
        f"Cả {len(pdf.signatures)} chữ ký và {len(pdf.timestamps)} dấu thời gian còn nguyên vẹn.",
    )
    tally.add(
        "certificates_trusted",
        "Chứng thư số do tổ chức tin cậy cấp",
        untrusted,
        "Mọi chứng thư số đều tin cậy.",
    )
    tally.add(
        "modifications_allowed",
        "Không có thay đổi trái phép sau khi ký",
        changed,
        "Sau mỗi chữ ký chỉ có các chữ ký tiếp theo và dữ liệu xác thực.",
    )


def _workflow(record: RecordFacts, pdf: PdfFacts, tally: _Tally, complete: bool) -> None:
    plan = record.plan
    by_field = {s.field_name: s for s in plan.steps}
    planned = [(i, sig, by_field[sig.field]) for i, sig in enumerate(pdf.signatures) if sig.field in by_field]
    signed_orders = [step.order for _, _, step in planned]

    # completeness: every step (or, for a document still being signed, every step up to the last one signed)
    needed = plan.steps if complete else plan.steps[: max(signed_orders, default=0)]
    missing = [
        (SIG_CONSTRAINTS_FAILURE, f"Thiếu chữ ký của {who(s)}.")
        for s in needed
        if s.order not in signed_orders
    ]
    tally.add("plan_complete", "Đủ chữ ký theo kế hoạch", missing, f"Đủ {len(needed)} chữ ký theo kế hoạch.")

    extra: list[tuple[str, str]] = []
    seen: set[str] = set()
    for i, sig in enumerate(pdf.signatures):
        if sig.field not in by_field:
            extra.append(
                (
                    SIG_CONSTRAINTS_FAILURE,
                    f"Có chữ ký ở ô {sig.field} ({_holder(sig.signer)}) ngoài kế hoạch ký.",
                )
            )
            tally.pdf[i].append(SIG_CONSTRAINTS_FAILURE)
        elif sig.field in seen:
            extra.append((SIG_CONSTRAINTS_FAILURE, f"Ô {sig.field} được ký nhiều lần."))
            tally.pdf[i].append(SIG_CONSTRAINTS_FAILURE)
        seen.add(sig.field)
    tally.add(
        "only_planned_signatures", "Không có chữ ký ngoài kế hoạch", extra, "Mọi chữ ký đều thuộc kế hoạch."
    )

    disorder: list[tuple[str, str]] = []
    for (i, _, before), (j, _, after) in zip(planned, planned[1:], strict=False):
        if after.order < before.order:
            disorder.append((SIG_CONSTRAINTS_FAILURE, f"{_cap(who(before))} được ký trước {who(after)}."))
            tally.pdf[i].append(SIG_CONSTRAINTS_FAILURE)
            tally.pdf[j].append(SIG_CONSTRAINTS_FAILURE)
    tally.add("order", "Ký đúng thứ tự", disorder, "Các bước được ký đúng thứ tự của kế hoạch.")

    wrong_signer: list[tuple[str, str]] = []
    wrong_role: list[tuple[str, str]] = []
    for i, sig, step in planned:
        if not signer_matches(step, sig.signer, record.school_name):
            wrong_signer.append(
                (
                    SIG_CONSTRAINTS_FAILURE,
                    f"Chữ ký của bước {step.order} không phải của {step.signer_name} "
                    f"(chứng thư số cấp cho {_holder(sig.signer)}).",
                )
            )
            tally.pdf[i].append(SIG_CONSTRAINTS_FAILURE)
        if sig.claimed_roles != (step.claimed_role,):
            claimed = ", ".join(sig.claimed_roles) or "không khai vai trò"
            wrong_role.append(
                (
                    SIG_CONSTRAINTS_FAILURE,
                    f"Chữ ký của bước {step.order} khai vai trò {claimed}, kế hoạch yêu cầu {step.claimed_role}.",
                )
            )
            tally.pdf[i].append(SIG_CONSTRAINTS_FAILURE)
    tally.add("signers", "Đúng người ký", wrong_signer, "Mỗi bước do đúng người trong kế hoạch ký.")
    tally.add("roles", "Đúng vai trò ký", wrong_role, "Mỗi chữ ký khai đúng vai trò của bước mình.")
    _seal(record, pdf, tally, complete)


def _seal(record: RecordFacts, pdf: PdfFacts, tally: _Tally, complete: bool) -> None:
    seal_field = record.plan.seal.field_name
    seal_at = next((i for i, s in enumerate(pdf.signatures) if s.field == seal_field), None)
    if seal_at is None:
        problem = [(SIG_CONSTRAINTS_FAILURE, "Tài liệu chưa có dấu của nhà trường.")] if complete else []
        tally.add("seal_last", "Dấu của nhà trường đóng sau cùng", problem, "Chưa đến bước đóng dấu.")
        tally.add("nothing_after_seal", "Sau dấu chỉ có dấu thời gian", [], "Chưa đến bước đóng dấu.")
        return
    seal = pdf.signatures[seal_at]
    later = [(i, s) for i, s in enumerate(pdf.signatures) if s.revision > seal.revision]
    not_last = [
        (SIG_CONSTRAINTS_FAILURE, f"Sau dấu của nhà trường còn chữ ký ở ô {s.field}.") for _, s in later
    ]
    for i, _ in later:
        tally.pdf[i].append(SIG_CONSTRAINTS_FAILURE)
    tally.add(
        "seal_last", "Dấu của nhà trường đóng sau cùng", not_last, "Dấu của nhà trường là chữ ký cuối cùng."
    )
    after: list[tuple[str, str]] = []
    if seal.modification_level not in AFTER_SEAL or not seal.docmdp_ok:
        after.append(
            (
                SIG_CONSTRAINTS_FAILURE,
                "Sau khi đóng dấu, tài liệu bị thay đổi ngoài dấu thời gian và dữ liệu xác thực "
                f"(mức thay đổi {seal.modification_level}).",
            )
        )
        tally.pdf[seal_at].append(SIG_CONSTRAINTS_FAILURE)
    tally.add(
        "nothing_after_seal",
        "Sau dấu chỉ có dấu thời gian",
        after,
        "Sau dấu chỉ có dấu thời gian tài liệu và dữ liệu xác thực (PAdES-LTA).",
    )


def _xml_consistency(record: RecordFacts, pdf: PdfFacts, tally: _Tally) -> None:
    problems: list[tuple[str, str]] = []
    if pdf.other_embedded_xml:
        problems.append((FORMAT_FAILURE, "PDF chứa nhiều tệp hocba.xml khác nhau."))
    by_field = {s.field_name: s for s in record.plan.steps}
    differs = [
        by_field[sig.field].order if sig.field in by_field else sig.field
        for sig in pdf.signatures
        if pdf.signed_xml.get(sig.revision) != pdf.embedded_xml
    ]
    if differs:
        problems.append(
            (SIG_CONSTRAINTS_FAILURE, f"Tệp hocba.xml đính kèm khác tệp đã được ký ở bước {_join(differs)}.")
        )
    tally.add(
        "xml_embedded_signed",
        "Tệp XML đính kèm là tệp đã được ký",
        problems,
        "Tệp hocba.xml đính kèm đúng là tệp mọi người đã ký.",
    )
    page = [(SIG_CONSTRAINTS_FAILURE, p) for p in page_disagreements(record, pdf.page_text)]
    tally.add(
        "xml_matches_page",
        "Nội dung XML khớp với trang in",
        page,
        "Họ tên, lớp, năm học và điểm các môn khớp.",
    )


def _xml_package(record: RecordFacts, pdf: PdfFacts, xml: XmlFacts, tally: _Tally, complete: bool) -> None:
    same = xml.record is not None and xml.record == pdf.embedded_xml
    tally.add(
        "xml_package_record",
        "Gói XML ký số chứa đúng học bạ trong PDF",
        [] if same else [(SIG_CONSTRAINTS_FAILURE, "Học bạ trong gói XML khác tệp hocba.xml trong PDF.")],
        "Học bạ trong gói XML trùng khớp từng byte với tệp trong PDF.",
    )
    tally.add(
        "xml_package_schema",
        "Gói XML đúng lược đồ (XSD)",
        [
            (FORMAT_FAILURE, f"Gói XML không đúng lược đồ hocba-signed-1.xsd: {e}")
            for e in xml.schema_errors[:3]
        ],
        "Gói XML đúng lược đồ hocba-signed-1.xsd (học bạ, XML-DSig, XAdES).",
    )
    plan = record.plan
    invalid: list[tuple[str, str]] = []
    mismatch: list[tuple[str, str]] = []
    for i, sig in enumerate(xml.signatures):
        found: list[tuple[str, str]] = []
        if not sig.verified:
            found.append(
                (sig.error_indication or FORMAT_FAILURE, f"Chữ ký XML thứ {sig.position} sai: {sig.error}.")
            )
        if not sig.references_ok:
            found.append(
                (FORMAT_FAILURE, f"Chữ ký XML thứ {sig.position} không phủ học bạ và mọi chữ ký trước nó.")
            )
        if sig.revoked:
            found.append((REVOKED, f"Chứng thư số của chữ ký XML thứ {sig.position} đã bị thu hồi."))
        elif not sig.trusted and sig.signer is not None:
            indic = sig.trust_problem or NO_CERTIFICATE_CHAIN_FOUND
            found.append((indic, f"Chứng thư số của chữ ký XML thứ {sig.position} không tin cậy ({indic})."))
        invalid.extend(found)
        tally.xml[i].extend(s for s, _ in found)
        step = plan.step(sig.position) if sig.position <= len(plan.steps) else None
        problems = _xml_step_problems(step, sig, record.school_name)
        mismatch.extend((SIG_CONSTRAINTS_FAILURE, p) for p in problems)
        tally.xml[i].extend(SIG_CONSTRAINTS_FAILURE for _ in problems)
    needed = plan.steps if complete else plan.steps[: len(xml.signatures)]
    mismatch.extend(
        (SIG_CONSTRAINTS_FAILURE, f"Gói XML thiếu chữ ký của {who(s)}.")
        for s in needed[len(xml.signatures) :]
    )
    tally.add(
        "xml_signatures_valid", "Chữ ký XML hợp lệ", invalid, f"Cả {len(xml.signatures)} chữ ký XML hợp lệ."
    )
    tally.add(
        "xml_plan", "Chữ ký XML đúng kế hoạch", mismatch, "Chữ ký XML đúng người, đúng vai trò, đúng thứ tự."
    )


def _xml_step_problems(step: Step | None, sig: XmlSignature, school_name: str) -> list[str]:
    if step is None:
        return [f"Chữ ký XML thứ {sig.position} nằm ngoài kế hoạch ký."]
    problems = []
    if (sig.order, sig.role, sig.field) != (str(step.order), step.role, step.field_name):
        problems.append(
            f"Chữ ký XML thứ {sig.position} ghi bước {sig.order}, vai trò {sig.role}, ô {sig.field}."
        )
    if sig.signer is not None and not signer_matches(step, sig.signer, school_name):
        problems.append(
            f"Chữ ký XML của bước {step.order} không phải của {step.signer_name} "
            f"(chứng thư số cấp cho {_holder(sig.signer)})."
        )
    if sig.verified and sig.claimed_roles != (step.claimed_role,):
        problems.append(
            f"Chữ ký XML của bước {step.order} khai sai vai trò ({', '.join(sig.claimed_roles)})."
        )
    return problems


def judge(
    record: RecordFacts, pdf: PdfFacts, xml: XmlFacts | None = None, *, complete: bool = True
) -> Judged:
    """All checks; ``complete=False`` accepts a document still being signed (a prefix of the plan, no seal yet)."""
    tally = _Tally(len(pdf.signatures), len(xml.signatures) if xml else 0)
    _integrity(pdf, record.plan, tally)
    _workflow(record, pdf, tally, complete)
    _xml_consistency(record, pdf, tally)
    if xml is not None:
        _xml_package(record, pdf, xml, tally, complete)
    return tally.judged()
