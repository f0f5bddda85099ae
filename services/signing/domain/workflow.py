"""Whose turn it is: the checks made before a signature is prepared and again before it is embedded."""

from __future__ import annotations

import unicodedata

from services.signing.domain.errors import (
    AlreadySigned,
    CertificateRefused,
    NotYourTurn,
    SigningCancelled,
    SupersededVersion,
    WrongSigner,
)
from services.signing.domain.model import ROLE_TITLES, Step

# The role a caller's token must carry to sign a step (the role names gradebook's permissions use). The person in
# the plan is only who the step names: a plan typed in by a clerk (a digitised year) could name anyone, so the
# token's role is what makes a teacher's step a teacher's and the principal's step the principal's.
TOKEN_ROLE: dict[str, str] = {
    "subject_teacher": "teacher",
    "homeroom_teacher": "homeroom",
    "principal": "principal",
}
TOKEN_ROLE_TITLES: dict[str, str] = {
    "teacher": "giáo viên",
    "homeroom": "giáo viên chủ nhiệm",
    "principal": "hiệu trưởng",
}


def required_role(step_role: str, on_behalf_of: str | None) -> str:
    """The token role a step needs: one signed on behalf of a departed teacher is the principal's to sign."""
    if on_behalf_of is not None:
        return "principal"
    return TOKEN_ROLE[step_role]


def check_turn(
    *,
    status: str,
    next_order: int,
    step: Step,
    caller_id: str,
    caller_roles: frozenset[str],
    superseded: bool = False,
) -> None:
    """Refuse a step out of turn, by the wrong person or role, or on a version that no longer collects signatures.

    The school is checked before this (another school's record reads as unknown).
    """
    if superseded or status == "cancelled":
        raise SupersededVersion(
            "Phiên bản học bạ này đã được thay thế sau khi điều chỉnh; hãy ký phiên bản mới."
            if superseded
            else "Phiên bản học bạ này đã bị hủy và không nhận thêm chữ ký."
        )
    if status in ("sealing", "sealed"):
        raise AlreadySigned("Học bạ đã đủ chữ ký và đã (hoặc đang được) đóng dấu; không thể ký thêm.")
    if status != "collecting":
        raise SigningCancelled("Học bạ này không còn nhận chữ ký.")
    if step.signer_id != caller_id:
        raise WrongSigner(
            f"Bước {step.order} ({ROLE_TITLES[step.role]}) do {step.signer_name} ký, không phải người đang đăng nhập."
        )
    needed = required_role(step.role, step.on_behalf_of)
    if needed not in caller_roles:
        raise WrongSigner(
            f"Bước {step.order} ({ROLE_TITLES[step.role]}) chỉ được ký bằng tài khoản có vai trò "
            f"{TOKEN_ROLE_TITLES[needed]} của trường; tài khoản đang đăng nhập không có vai trò này."
        )
    if step.order < next_order:
        raise AlreadySigned(f"Bước {step.order} đã được ký.")
    if step.order > next_order:
        raise NotYourTurn(f"Chưa đến lượt bước {step.order}: bước {next_order} chưa ký.")


def _fold(name: str) -> str:
    return " ".join(unicodedata.normalize("NFC", name).casefold().split())


def check_certificate_holder(step: Step, common_name: str | None, serial_number: str | None) -> None:
    """The certificate must be the step's signer's: by the holder id it carries, else by name."""
    if serial_number is not None and serial_number != step.signer_id:
        raise CertificateRefused(f"Chứng thư số không phải của {step.signer_name} (mã người ký không khớp).")
    if serial_number is None and _fold(common_name or "") != _fold(step.signer_name):
        raise CertificateRefused(
            f"Chứng thư số cấp cho {common_name or 'người không rõ tên'}, không phải {step.signer_name}."
        )
