"""The demo's output: every sealed PDF and signed XML package of a school, and what `hocba verify` says of each."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from cli.demo.pipeline import DemoSchool, Pipeline
from services.runtime import http_client

SEALED = ("sealed", "reported", "effective")  # the transcript service's record status once the seal is on


def collect(pipeline: Pipeline, demo: DemoSchool, out: Path) -> list[dict[str, Any]]:
    """Write ``out/<school>/<student>-<year>.pdf`` and ``.signed.xml`` for every sealed record; stale files of an
    earlier run go first, so the folder holds exactly this run's view."""
    folder = out / demo.school_id
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    staff = pipeline.auth(demo.school_id, "van-thu", "staff")
    records = http_client.get(
        f"{pipeline.url['transcript']}/schools/{demo.school_id}/records", headers=staff, timeout=60
    ).json()["records"]
    written = []
    with http_client.client(base_url=pipeline.url["signing"], headers=staff, timeout=60) as signing:
        for record in (r for r in records if r["status"] in SEALED):
            paths = {}
            for kind, suffix in (("pdf", ".pdf"), ("xml", ".signed.xml")):
                response = signing.get(f"/records/{record['id']}/{kind}")
                response.raise_for_status()
                paths[kind] = folder / f"{record['student_id']}-{record['school_year']}{suffix}"
                paths[kind].write_bytes(response.content)
            written.append({"year_record_id": record["id"], **paths})
    return written


def verify_all(sealed: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """What `hocba verify FILE.pdf --xml FILE.signed.xml` says of each sealed record."""
    from services.signing.verifier import verify

    verdicts = []
    for item in sealed:
        report = verify(item["pdf"].read_bytes(), item["xml"].read_bytes())
        verdicts.append(
            {
                "file": str(item["pdf"]),
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
