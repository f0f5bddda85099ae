"""`hocba qr trust-list` (the province's signed list of QR certificates) and the QR side of `hocba verify qr`."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from services.signing.verifier.qr import QrVerdict, TrustList

app = typer.Typer(help="The sealed QR summary: the province's trust list of the schools' QR keys.")
DEFAULT_TRUST_LIST = Path("var/qr-trust-list.json")
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".pbm", ".pgm", ".ppm"}


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def read_source(source: str) -> bytes:
    """A trust list from a file or from the gateway (``http(s)://…/api/v1/qr/trust-list``)."""
    if source.startswith(("http://", "https://")):
        from services.runtime import http_client

        response = http_client.get(source, timeout=10)
        response.raise_for_status()
        return response.content
    return Path(source).read_bytes()


def load_trust_list(source: str) -> TrustList:
    from services.signing.verifier.qr import TrustListInvalid, load
    from services.signing.verifier.trust import NoTrustRoots, configured_roots

    try:
        return load(read_source(source), configured_roots())
    except (OSError, NoTrustRoots) as error:
        raise _fail(f"trust list {source}: {error}") from None
    except TrustListInvalid as error:
        raise _fail(f"trust list {source} refused: {error}", 1) from None
    except Exception as error:  # noqa: BLE001 - httpx's errors: say which source failed, no traceback
        raise _fail(f"trust list {source}: {type(error).__name__}: {error}") from None


@app.command("trust-list")
def trust_list(
    out: Annotated[
        Path, typer.Option(help="Where to write the signed list (the gateway serves this file)")
    ] = (DEFAULT_TRUST_LIST),
    revoke: Annotated[
        list[str] | None,
        typer.Option(help="SCHOOL_ID=REASON: keep the school on the list, revoked now; repeatable"),
    ] = None,
    certificate: Annotated[
        list[Path] | None,
        typer.Option(help="A school's QR certificate (PEM or DER) besides the HSM's; repeatable"),
    ] = None,
    check: Annotated[
        str | None, typer.Option(help="Only verify this list (a file or the gateway's URL) and print it")
    ] = None,
) -> None:
    """Build the province's trust list from the HSM's QR certificates, sign it with the (test) province key, verify
    what was written; or, with --check, verify a published list."""
    if check is None:
        write_trust_list(out, revoke or [], certificate or [])
        check = str(out)
    listed = load_trust_list(check)
    typer.echo(f"trust list {check}: signature valid, issued {listed.issued} by {listed.issuer}")
    typer.echo(f"next update due {listed.next_update}; {len(listed.entries)} school(s):")
    for entry in listed.entries:
        state = f"REVOKED {entry.revoked_at} ({entry.reason})" if entry.revoked_at else "valid"
        typer.echo(f"  {entry.kid.hex()}  {entry.school_id}  {entry.school_name}  {state}")


@app.command("page")
def page(
    out: Annotated[Path, typer.Option(help="The HTML file to write")] = Path("var/kiem-tra-qr.html"),
    trust_list_source: Annotated[
        str, typer.Option("--trust-list", help="The trust list to embed (file or URL), verified first")
    ] = str(DEFAULT_TRUST_LIST),
    url: Annotated[
        str | None,
        typer.Option(help="Where the page refreshes the list (the gateway's /api/v1/qr/trust-list)"),
    ] = None,
) -> None:
    """Write the offline checking page: WebCrypto, the province's key pinned, the current trust list inside."""
    from services.signing.verifier.qr_page import render

    listed = load_trust_list(trust_list_source)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(render(listed.signer_key, read_source(trust_list_source), url), encoding="utf-8")
    typer.echo(f"wrote {out} ({len(listed.entries)} school(s) in its trust list)")


def write_trust_list(out: Path, revocations: list[str], certificates: list[Path]) -> None:
    import sandbox.pki as pki
    from services.runtime.settings import get_settings
    from services.signing.adapters.hsm import SealKeys
    from services.signing.verifier import qr as qr_trust
    from services.signing.verifier.trust import parse_roots

    keys = SealKeys(get_settings(), (pki.issuing_ca(),))
    found = [qr_trust.entry_for(c) for c in keys.qr_certificates()]
    for path in certificates:
        found.extend(qr_trust.entry_for(c) for c in parse_roots(path.read_bytes()))
    reasons: dict[str, str] = {}
    for item in revocations:
        school, _, reason = item.partition("=")
        reasons[school] = reason or "thu hồi"
    unknown = set(reasons) - {e.school_id for e in found}
    if unknown:
        raise _fail(f"--revoke names schools without a QR certificate: {', '.join(sorted(unknown))}")
    now = datetime.now(UTC)
    entries = [qr_trust.revoke(e, now, reasons[e.school_id]) if e.school_id in reasons else e for e in found]
    province = pki.province_qr()
    document = qr_trust.build(
        entries,
        province.key,  # type: ignore[arg-type]
        province.certificate,
        province.chain,
        issuer="Sở Giáo dục và Đào tạo (thử nghiệm)",
        issued=now,
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_bytes(document)
    typer.echo(f"wrote {out} ({len(entries)} school(s), {len(reasons)} revoked)")


def decode_image(path: Path) -> list[str]:
    """Every QR's text in the image, read by zbar (Debian's zbar-tools)."""
    zbarimg = shutil.which("zbarimg")
    if zbarimg is None:
        raise _fail("zbarimg missing (Debian package zbar-tools; `make setup` installs it as root)")
    result = subprocess.run(
        [zbarimg, "--raw", "--quiet", "-Sdisable", "-Sqrcode.enable", str(path)],
        capture_output=True,
        check=False,
    )
    # zbarimg exits 4 when it found no symbol; its stderr is noise (D-Bus) when it did.
    texts = [line for line in result.stdout.decode("utf-8", "replace").splitlines() if line.strip()]
    if not texts:
        raise _fail(f"no QR code found in {path}", 1)
    return texts


def render_first_page(pdf: Path, folder: Path) -> Path:
    """Page 1 at 300 dpi (poppler's pdftoppm): what a phone's camera gives of the printed footer's QR."""
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        raise _fail("pdftoppm missing (Debian package poppler-utils)")
    subprocess.run(
        [pdftoppm, "-r", "300", "-f", "1", "-l", "1", "-png", "-singlefile", str(pdf), str(folder / "page")],
        check=True,
        capture_output=True,
    )
    return folder / "page.png"


def qr_texts(value: str) -> list[str]:
    path = Path(value)
    if path.suffix.lower() == ".pdf":
        import tempfile

        if not path.is_file():
            raise _fail(f"cannot read {path}")
        with tempfile.TemporaryDirectory() as folder:
            return decode_image(render_first_page(path, Path(folder)))
    if path.suffix.lower() in IMAGE_SUFFIXES:
        if not path.is_file():
            raise _fail(f"cannot read {path}")
        return decode_image(path)
    return [value]


def describe(verdict: QrVerdict) -> list[str]:
    """The summary and verdict as the reader sees them (Vietnamese)."""
    lines = [verdict.message_vi]  # it opens with the verdict: HỢP LỆ, KHÔNG HỢP LỆ, …
    summary = verdict.summary
    if summary is None:
        return lines
    if not verdict.valid:
        lines.append("Nội dung dưới đây KHÔNG được xác thực:")
    results = [
        f"{label}: {value}"
        for label, value in (
            ("Kết quả học tập", summary.learning),
            ("Kết quả rèn luyện", summary.conduct),
            ("Kết quả năm học", summary.year_result),
            ("Lên lớp / hoàn thành", summary.promotion),
        )
        if value
    ]
    lines += [
        f"  Học sinh: {summary.student_name}",
        f"  Trường: {summary.school_name} ({summary.school_id})",
        f"  Năm học {summary.school_year}, lớp {summary.class_name}",
        *(f"  {r}" for r in results),
        f"  Ngày hiệu lực: {summary.effective_date}; phiên bản {summary.version}",
        f"  Mã số tra cứu: {summary.lookup_code}",
        f"  SHA-256 của hồ sơ XML: {summary.record_sha256}",
    ]
    return lines


def as_json(verdict: QrVerdict) -> dict[str, Any]:
    summary = verdict.summary
    return {
        "valid": verdict.valid,
        "code": verdict.code,
        "message": verdict.message_vi,
        "detail": verdict.detail,
        "school_id": verdict.entry.school_id if verdict.entry else None,
        "summary": None if summary is None else summary.__dict__,
    }


def verdicts_for(value: str, trust_source: str) -> tuple[list[QrVerdict], TrustList]:
    """The verdict on every QR in VALUE (text, image or a PDF's first page) against the list from trust_source."""
    from services.signing.verifier.qr import check

    texts = qr_texts(value)
    listed = load_trust_list(trust_source)
    return [check(text, listed) for text in texts], listed


def verify_command(value: str, trust_source: str, json_out: bool) -> None:
    """`hocba verify qr`: exit 0 when every QR read is valid, 1 when one is not, 2 when nothing could be read."""
    verdicts, listed = verdicts_for(value, trust_source)
    if json_out:
        typer.echo(json.dumps([as_json(v) for v in verdicts], ensure_ascii=False, indent=1))
    else:
        for verdict in verdicts:
            for line in describe(verdict):
                typer.echo(line)
            if verdict.detail:
                typer.echo(f"detail: {verdict.detail}")
            typer.echo(f"verdict: {verdict.code}")
    if datetime.fromisoformat(listed.next_update) < datetime.now(UTC):
        typer.echo(f"warning: the trust list was due for an update on {listed.next_update}", err=True)
    raise typer.Exit(0 if all(v.valid for v in verdicts) else 1)
