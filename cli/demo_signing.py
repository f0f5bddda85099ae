"""The demo's signing stage: every signer signs through the simulated remote signing service, the HSM seals, and
each sealed record is written to demo-out/ with the verifier's verdict."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console

from cli.registry import SERVICES
from cli.sign import sign_as

REMOTE_SIGNER = "http://127.0.0.1:9898"


def sign_and_seal(
    school_id: str,
    school_name: str,
    expected: int,
    token: Callable[[str, list[str], str | None], str],
    console: Console,
    out: Path,
    wait: Callable[..., Any],
) -> list[dict[str, Any]]:
    """Returns the verifier's report per sealed record."""
    import sandbox.pki as pki
    from services.runtime.settings import get_settings
    from services.signing.hsm import SealKeys

    signing = f"http://127.0.0.1:{SERVICES['signing'].port}"
    staff = {"Authorization": f"Bearer {token('van-thu', ['staff'], school_id)}"}
    SealKeys(get_settings(), (pki.issuing_ca(),)).provision(
        school_id,
        lambda public: pki.issue(
            public, common_name=school_name, unit="Con dấu", organisation=school_name, subject_id=school_id
        ),
    )
    console.print(
        "8. the school's seal key was generated inside the HSM (SoftHSM2 token), certificate from the test CA"
    )

    def status() -> dict[str, Any]:
        response = httpx.get(f"{signing}/schools/{school_id}/signing/status", headers=staff, timeout=30)
        response.raise_for_status()
        return response.json()

    wait(
        lambda: sum(c["records"] for c in status()["classes"]) >= expected,
        180,
        "records registered for signing",
    )
    started, signatures = time.monotonic(), 0
    while waiting := {w["signer_id"]: w for c in status()["classes"] for w in c["waiting_for"]}:
        for signer_id, step in waiting.items():
            result = sign_as(
                signing,
                REMOTE_SIGNER,
                token(signer_id, ["teacher", "homeroom", "principal"], school_id),
                signer_id,
                organisation=school_name,
            )
            signatures += result.signed
            console.print(f"   {step['signer_name']} ({step['role_title']}) signed {result.signed} records")
    console.print(
        f"9. {signatures} personal signatures (PAdES B-T + XAdES) in {time.monotonic() - started:.0f} s, "
        "each through the remote signing service"
    )
    report = wait(
        lambda: (r := status()) and all(c.get("sealed", 0) == c["records"] for c in r["classes"]) and r,
        600,
        "every record sealed",
    )
    console.print(f"10. the HSM sealed {sum(c['sealed'] for c in report['classes'])} records (PAdES B-LTA)")
    return _collect(signing, school_id, staff, out)


def _collect(signing: str, school_id: str, staff: dict[str, str], out: Path) -> list[dict[str, Any]]:
    from sqlalchemy import select

    from services.runtime.db import make_engine
    from services.runtime.settings import get_settings
    from services.signing.store.tables import records

    engine = make_engine(get_settings().db_url("signing"), pool_size=1)
    with engine.connect() as conn:
        rows = conn.execute(
            select(
                records.c.year_record_id, records.c.class_id, records.c.student_id, records.c.school_year
            ).where(records.c.school_id == school_id, records.c.status == "sealed")
        ).all()
    engine.dispose()
    written = []
    for row in rows:
        stem = f"{row.class_id}-{row.student_id}-{row.school_year}"
        paths = {}
        for kind in ("pdf", "xml"):
            content = httpx.get(
                f"{signing}/records/{row.year_record_id}/{kind}", headers=staff, timeout=30
            ).content
            paths[kind] = out / f"{stem}.{'signed.xml' if kind == 'xml' else 'pdf'}"
            paths[kind].write_bytes(content)
        written.append({"year_record_id": row.year_record_id, **paths})
    return written


def verify_all(sealed: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What `hocba verify FILE.pdf --xml FILE.xml` says of each sealed record."""
    from services.signing.verifier import verify

    verdicts = []
    for item in sealed:
        report = verify(item["pdf"].read_bytes(), item["xml"].read_bytes())
        verdicts.append(
            {
                "file": item["pdf"].name,
                "passed": report.passed,
                "indication": report.indication,
                "summary": (
                    f"{len(report.signatures)} signatures in plan order, seal last, XML = PDF"
                    if report.passed
                    else "; ".join(report.reasons)[:200]
                ),
            }
        )
    return verdicts
