"""`hocba verify FILE.pdf`: check a signed học bạ; `hocba verify qr`: a printed QR; `hocba verify serve`: the web page.

Exit 0 only when the document passes every check, 1 with the reasons when it does not, 2 when the input cannot be
read at all. The reasons come from the report (Vietnamese); this command's own words are English.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Any

import typer
from typer.core import TyperGroup


class _FileOrCommand(TyperGroup):
    """`hocba verify FILE.pdf` and `hocba verify serve` side by side: anything not a subcommand is a file to check."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:  # typer's vendored click.Context
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["check", *args]
        return super().parse_args(ctx, args)


app = typer.Typer(
    cls=_FileOrCommand, help="Verify a signed học bạ (PDF, and its signed XML package).", no_args_is_help=True
)


@app.callback()
def verify() -> None:
    """Verify a signed học bạ: `hocba verify FILE.pdf [--xml FILE.xml]`, `hocba verify qr TEXT|IMAGE`, or `hocba verify serve`."""


def _quiet() -> None:
    # pyHanko logs every rejected modification with a traceback; the report already says it, once and in words.
    for name in ("pyhanko", "pyhanko_certvalidator"):
        logging.getLogger(name).setLevel(logging.CRITICAL)


def _roots(trust: list[Path] | None) -> list[Any]:
    from services.signing.verifier.trust import NoTrustRoots, configured_roots

    try:
        return configured_roots(trust or ())
    except (NoTrustRoots, OSError, ValueError) as error:
        typer.echo(f"error: trust roots: {error}", err=True)
        raise typer.Exit(2) from None


@app.command("check")
def check(
    file: Annotated[Path, typer.Argument(help="The học bạ PDF")],
    xml: Annotated[Path | None, typer.Option("--xml", help="The standalone signed XML package")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON")] = False,
    html: Annotated[
        Path | None, typer.Option("--html", help="Write the report in Vietnamese as HTML here")
    ] = None,
    trust: Annotated[
        list[Path] | None, typer.Option("--trust", help="Extra trusted root certificates (PEM), repeatable")
    ] = None,
    online: Annotated[
        bool, typer.Option("--online", help="Fetch CRLs/OCSP (default: only the document's)")
    ] = False,
    partial: Annotated[
        bool, typer.Option("--partial", help="Accept a document still being signed (steps so far, no seal)")
    ] = False,
) -> None:
    """Check FILE (exit 0 valid, 1 not valid, 2 unreadable)."""
    from services.signing.verifier import Unreadable
    from services.signing.verifier import verify as run_verify
    from services.signing.verifier.report import to_html

    _quiet()
    try:
        pdf = file.read_bytes()
        package = xml.read_bytes() if xml is not None else None
    except OSError as error:
        typer.echo(f"error: cannot read {error.filename}: {error.strerror}", err=True)
        raise typer.Exit(2) from None
    roots = _roots(trust)
    try:
        report = run_verify(pdf, package, trust_roots=roots, online=online, complete=not partial)
    except Unreadable as error:
        typer.echo(f"error: {file}: {error}", err=True)
        raise typer.Exit(2) from None
    if html is not None:
        html.write_text(to_html(report), encoding="utf-8")
    if as_json:
        typer.echo(report.to_json())
    else:
        verdict = "valid" if report.passed else "NOT valid"
        suffix = f" ({report.sub_indication})" if report.sub_indication else ""
        typer.echo(
            f"{file}: {verdict}: {report.indication}{suffix}; {len(report.signatures)} signatures, "
            f"{len(report.timestamps)} document timestamps, checked in {report.duration_ms:.0f} ms"
        )
        for c in report.checks:
            typer.echo(f"  {'ok  ' if c.passed else 'FAIL'} {c.name}: {c.detail}")
    raise typer.Exit(0 if report.passed else 1)


@app.command("qr")
def verify_qr(
    value: Annotated[
        str, typer.Argument(help="The QR's text (HB1:…) or an image of the page or the QR (PNG, JPEG)")
    ],
    trust_list: Annotated[
        str, typer.Option(help="The province's trust list: a cached file or the gateway's URL")
    ] = "var/qr-trust-list.json",
    as_json: Annotated[bool, typer.Option("--json", help="Print the verdicts as JSON")] = False,
) -> None:
    """Check a printed page's sealed QR summary offline against the trust list (exit 0 valid, 1 not, 2 unreadable)."""
    from cli.qr import verify_command

    verify_command(value, trust_list, as_json)


@app.command("extract")
def verify_extract(
    file: Annotated[
        Path, typer.Argument(help="The extract (hocba-trich-luc.zip) downloaded from the portal")
    ],
    trust: Annotated[
        list[Path] | None, typer.Option("--trust", help="Extra trusted root certificates (PEM), repeatable")
    ] = None,
) -> None:
    """Check a family's extract: the province's signature on its manifest, every file it lists, and each year's
    record with its signatures (exit 0 all valid, 1 not, 2 unreadable)."""
    import io

    from pyhanko.pdf_utils.reader import PdfFileReader

    from services.signing.verifier import Unreadable
    from services.signing.verifier import verify as run_verify
    from services.signing.verifier.extract import ExtractInvalid
    from services.signing.verifier.extract import verify as open_extract
    from services.signing.verifier.pdf_checks import attachments

    _quiet()
    try:
        data = file.read_bytes()
    except OSError as error:
        typer.echo(f"error: cannot read {error.filename}: {error.strerror}", err=True)
        raise typer.Exit(2) from None
    roots = _roots(trust)
    try:
        extract = open_extract(data, roots)
    except ExtractInvalid as error:
        typer.echo(f"{file}: NOT valid: {error}")
        raise typer.Exit(1) from None
    typer.echo(
        f"{file}: manifest signed by {extract.issuer} on {extract.issued}; {len(extract.records)} year(s)"
    )
    passed = True
    for record in extract.records:
        try:
            # The PDF carries the record's XML inside (hocba.xml, under every signature): the file beside it must be
            # that XML.
            report = run_verify(record.pdf, None, trust_roots=roots)
            same_xml = attachments(PdfFileReader(io.BytesIO(record.pdf)).root) == [record.xml]
            ok = report.passed and same_xml
            detail = f"{len(report.signatures)} signatures, {report.indication}" + (
                "" if same_xml else "; the XML file is not the one the PDF carries"
            )
        except Unreadable as error:
            ok, detail = False, f"unreadable: {error}"
        passed &= ok
        typer.echo(
            f"  {'ok  ' if ok else 'FAIL'} {record.school_year} v{record.version} ({record.status}): {detail}"
        )
    raise typer.Exit(0 if passed else 1)


@app.command("serve")
def serve(
    port: Annotated[int, typer.Option(help="HTTP port (0: one from the OS, printed when ready)")] = 8090,
    host: Annotated[str, typer.Option(help="Interface to listen on")] = "127.0.0.1",
    trust: Annotated[list[Path] | None, typer.Option("--trust", help="Extra trusted roots (PEM)")] = None,
    online: Annotated[bool, typer.Option("--online", help="Fetch CRLs/OCSP")] = False,
    workers: Annotated[int, typer.Option(help="Worker processes (gunicorn)")] = 2,
    memory_mb: Annotated[int, typer.Option(help="Address-space limit per worker, MiB")] = 512,
    time_limit: Annotated[float, typer.Option(help="Seconds one verification may take")] = 20.0,
    budget_mb: Annotated[int, typer.Option(help="Bytes one verification may decompress, MiB")] = 64,
) -> None:
    """Serve the verification page (upload a PDF, read the verdict in Vietnamese) with a pool of bounded workers."""
    from services.signing.verifier.limits import Budget, MiB
    from services.signing.verifier.server import ServeOptions
    from services.signing.verifier.server import serve as run_server

    _quiet()
    options = ServeOptions(
        host=host,
        port=port,
        workers=workers,
        memory_mb=memory_mb,
        time_limit=time_limit,
        budget=Budget(total=budget_mb * MiB, per_stream=min(Budget().per_stream, budget_mb * MiB)),
        online=online,
    )
    run_server(_roots(trust), options)
