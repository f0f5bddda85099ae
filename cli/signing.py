"""`hocba signing status|provision-seal` and `hocba sign --as`: signing readiness, the school seal, signing for people."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from cli.options import School
from cli.registry import dev_token, local_url
from cli.service_call import school_status
from cli.signer_client import sign_as

app = typer.Typer(help="Signatures and the school seal.", no_args_is_help=True)
console = Console()


def _show_readiness(school: str, report: dict[str, Any]) -> None:
    """The school's signing readiness: which steps wait for whom, certificates missing or expiring."""
    table = Table(
        title=f"signing readiness — {school} (cutoff {report['cutoff']}, {report['days_to_cutoff']} days)"
    )
    for column in ("class", "records", "sealed", "collecting", "waiting for"):
        table.add_column(column)
    for klass in report["classes"]:
        waiting = ", ".join(
            f"{w['signer_name']} ({w['role_title']}): {w['records']}" for w in klass["waiting_for"]
        )
        table.add_row(
            klass["class_id"],
            str(klass["records"]),
            str(klass.get("sealed", 0)),
            str(klass.get("collecting", 0)),
            waiting,
        )
    console.print(table)
    console.print(
        f"unsigned steps: {report['unsigned_steps']}; last hour: {report['signatures_last_hour']} signatures; "
        f"projected finish: {report['projected_finish'] or 'unknown (no signatures in the last hour)'}"
    )
    for person in report["signers_without_certificate"]:
        console.print(
            f"[yellow]no registered certificate:[/yellow] {person['signer_name']} ({person['signer_id']})"
        )
    for person in report["certificates_expiring_before_cutoff"]:
        console.print(
            f"[red]certificate expires before the cutoff:[/red] {person['signer_name']} ({person['not_after']})"
        )
    for record in report.get("stuck_seals", []):
        # The error text is printed as it is (markup off: a "[…]" in it must not vanish).
        console.print(
            "seal failing: "
            f"{record['year_record_id']} (class {record['class_id']}), {record['attempts']} tries, "
            f"next {record['next_try']}: {record['last_error']}",
            style="red",
            markup=False,
        )


app.command("status")(
    school_status(
        "signing",
        _show_readiness,
        "Per class: which steps wait for whom, missing or expiring certificates, the projected finish.",
    )
)


@app.command("provision-seal")
def provision_seal(
    school: School,
    name: Annotated[str, typer.Option(help="The school's name, as on its organisation certificate")],
) -> None:
    """Generate the school's seal key and QR-summary key inside the HSM, each with its (sandbox CA's) certificate."""
    import sandbox.pki as pki
    from services.runtime.settings import get_settings
    from services.signing.adapters.hsm import SealKeys

    keys = SealKeys(get_settings(), (pki.issuing_ca(),))
    certificate = keys.provision(
        school,
        lambda public: pki.issue(
            public, common_name=name, unit="Con dấu", organisation=name, subject_id=school
        ),
    )
    console.print(
        f"seal of {school}: {certificate.subject.human_friendly}, valid to {certificate.not_valid_after:%Y-%m-%d}"
    )
    qr = keys.provision_qr(school, lambda public: pki.issue_qr(public, school_id=school, school_name=name))
    console.print(f"QR key of {school}: valid to {qr.not_valid_after:%Y-%m-%d}")


def sign_command(
    signer: Annotated[str, typer.Option("--as", help="Signer id (teacher, homeroom teacher or principal)")],
    school: School,
    class_id: Annotated[str | None, typer.Option("--class", help="Only this class")] = None,
    remote: Annotated[str, typer.Option(help="Simulated remote signing service")] = "http://127.0.0.1:9898",
    url: Annotated[str | None, typer.Option(help="Signing service base URL")] = None,
) -> None:
    """Sign everything waiting for SIGNER through the sandbox's remote signing service."""
    token = dev_token(signer, ["teacher", "homeroom", "principal"], school)
    result = sign_as(url or local_url("signing"), remote, token, signer, class_id=class_id)
    console.print(f"{signer}: signed {result.signed}")
    for refusal in result.refused:
        console.print(
            f"[yellow]refused[/yellow] {refusal['year_record_id']} step {refusal['order']}: {refusal['detail']}"
        )
    if result.refused:
        raise typer.Exit(1)
