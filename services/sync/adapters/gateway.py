"""The province gateway as the sync service sees it: an HTTP API that may be slow, failing, or down."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import httpx


@dataclass(frozen=True)
class Answer:
    """``status`` None: no answer at all (timeout, connection dropped, refused)."""

    status: int | None
    body: dict[str, Any]
    error: str | None = None

    @property
    def reason(self) -> str | None:
        return self.body.get("reason") if self.status is not None and self.status >= 400 else None


class GatewayClient:
    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        self._http = httpx.Client(base_url=base_url, timeout=timeout)

    def _call(self, method: str, path: str, token: str, **kwargs: Any) -> Answer:
        headers = {"Authorization": f"Bearer {token}", **kwargs.pop("headers", {})}
        try:
            response = self._http.request(method, path, headers=headers, **kwargs)
        except httpx.HTTPError as exc:
            return Answer(None, {}, f"{type(exc).__name__}: {exc}"[:300])
        try:
            body = response.json()
        except ValueError:
            body = {}
        return Answer(response.status_code, body if isinstance(body, dict) else {"items": body})

    def submit(self, token: str, key: str, pdf: bytes, xml: bytes, assessment: str) -> Answer:
        return self._call(
            "POST",
            "/api/v1/records",
            token,
            headers={"Idempotency-Key": key},
            json={"pdf": _b64(pdf), "xml": _b64(xml), "assessment": assessment},
        )

    def replace(self, token: str, key: str, record_id: str, pdf: bytes, xml: bytes, reason: str) -> Answer:
        return self._call(
            "POST",
            f"/api/v1/records/{record_id}/replace",
            token,
            headers={"Idempotency-Key": key},
            json={"pdf": _b64(pdf), "xml": _b64(xml), "reason": reason},
        )

    def withdraw(self, token: str, record_id: str, reason: str) -> Answer:
        return self._call("POST", f"/api/v1/records/{record_id}/withdraw", token, json={"reason": reason})

    def transfer(self, token: str, transcript_id: str, to_school: str) -> Answer:
        return self._call(
            "POST", "/api/v1/transfers", token, json={"transcript_id": transcript_id, "to_school": to_school}
        )

    def download(self, token: str, record_id: str, kind: str) -> tuple[int | None, bytes]:
        try:
            response = self._http.get(
                f"/api/v1/records/{record_id}/{kind}", headers={"Authorization": f"Bearer {token}"}
            )
        except httpx.HTTPError:
            return None, b""
        return response.status_code, response.content

    def listing(self, token: str, school_year: str | None = None) -> list[dict[str, Any]] | None:
        """Every record the gateway holds for the school (all pages), or None if it could not be read."""
        items: list[dict[str, Any]] = []
        cursor: int | None = 0
        while True:
            params: dict[str, Any] = {"cursor": cursor, "limit": 500}
            if school_year:
                params["school_year"] = school_year
            answer = self._call("GET", "/api/v1/records", token, params=params)
            if answer.status != 200:
                return None
            items += answer.body.get("items", [])
            cursor = answer.body.get("next_cursor")
            if not cursor:
                return items


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")
