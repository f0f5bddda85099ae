"""The demo's reporting stage: sync reports every sealed record to the reference gateway, which accepts it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from rich.console import Console

from cli.registry import SERVICES

GATEWAY = "http://127.0.0.1:8700"
# The demo rehearses the end of school year 2025-2026 before its reporting cutoff (30 June 2026).
REHEARSAL_DAY = "2026-06-20"
DEMO_ENV = {
    "HOCBA_REPORTING_DAY": REHEARSAL_DAY,
    "GATEWAY_TODAY": REHEARSAL_DAY,
    "HOCBA_LOOKUP_BASE_URL": f"{GATEWAY}/hocba",
}


def connect(
    school_id: str, token: Callable[[str, list[str], str | None], str], wait: Callable[..., Any]
) -> str:
    """The school's account at the province gateway, stored in sync before anything is sealed."""
    from sandbox.gateway.auth import mint
    from sandbox.gateway.settings import get_gateway_settings as gateway_settings

    sync = f"http://127.0.0.1:{SERVICES['sync'].port}"
    wait(lambda: httpx.get(f"{GATEWAY}/healthz", timeout=2).status_code == 200, 60, "the reference gateway")
    wait(lambda: httpx.get(f"{sync}/readyz", timeout=2).status_code == 200, 60, "the sync service")
    school_token = mint(gateway_settings().secret.get_secret_value().encode(), school_id)
    httpx.put(
        f"{sync}/schools/{school_id}/sync/credentials",
        json={"token": school_token},
        headers={"Authorization": f"Bearer {token('ops', ['operator'], None)}"},
        timeout=30,
    ).raise_for_status()
    return school_token


def report(
    school_id: str,
    expected: int,
    token: Callable[[str, list[str], str | None], str],
    console: Console,
    wait: Callable[..., Any],
) -> dict[str, Any]:
    sync = f"http://127.0.0.1:{SERVICES['sync'].port}"
    school_token = connect(school_id, token, wait)
    principal = {"Authorization": f"Bearer {token('hieu-truong', ['principal'], school_id)}"}

    def status() -> dict[str, Any]:
        return httpx.get(f"{sync}/schools/{school_id}/sync/status", headers=principal, timeout=30).json()

    done = wait(
        lambda: (s := status()) and s["accepted"] + s["rejected"] >= expected and s,
        600,
        "every record reported",
    )
    console.print(
        f"14. sync reported to the province gateway: {done['accepted']} accepted, {done['rejected']} rejected, "
        f"{done['pending']} pending; {done['classes'][0]['days_to_cutoff']} days to the cutoff "
        f"({done['classes'][0]['cutoff']}) — `hocba sync status --school {school_id}`"
    )
    with httpx.Client(
        base_url=GATEWAY, headers={"Authorization": f"Bearer {school_token}"}, timeout=30
    ) as gw:
        items = gw.get("/api/v1/records", params={"limit": 3}).json()["items"]
    for item in items:
        console.print(f"    lookup: {GATEWAY}/hocba/{item['lookup_code']}")
    return done
