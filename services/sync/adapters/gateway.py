"""The province gateway as the sync service sees it: an HTTP API that may be slow, failing, or down."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import httpx

from services.runtime import http_client


@dataclass(frozen=True)
class Answer:
    """``status`` None: no answer at all (timeout, connection dropped, refused)."""

    status: int | None
    body: dict[str, Any]
    error: str | None = None

    @property
    def reason(self) -> str | None:
        return self.body.get("reason") if self.status is not None and self.status >= 400 else None


def _record_path(record_id: str, tail: str) -> str:
    """A record's path at the gateway. The id may come from a caller (a school downloading a transferred record):
    quoted whole, so a slash cannot reach another path and a control character cannot make the URL invalid."""
    return f"/api/v1/records/{quote(record_id, safe='')}/{tail}"


class GatewayClient:
    def __init__(self, base_url: str, timeout: float = 10.0) -> None:
        self._http = http_client.client(base_url=base_url, timeout=timeout)

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
            _record_path(record_id, "replace"),
            token,
            headers={"Idempotency-Key": key},
            json={"pdf": _b64(pdf), "xml": _b64(xml), "reason": reason},
        )

    def withdraw(self, token: str, record_id: str, reason: str) -> Answer:
        return self._call("POST", _record_path(record_id, "withdraw"), token, json={"reason": reason})

    def transfer(self, token: str, transcript_id: str, to_school: str) -> Answer:
        return self._call(
            "POST", "/api/v1/transfers", token, json={"transcript_id": transcript_id, "to_school": to_school}
        )

    def download(self, token: str, record_id: str, kind: str) -> tuple[int | None, bytes]:
        try:
            response = self._http.get(
                _record_path(record_id, kind), headers={"Authorization": f"Bearer {token}"}
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


# A gateway that answers nothing at all, as GatewayClient reports a timeout or a refused connection.
UNREACHABLE = Answer(None, {}, "ConnectError: the gateway did not answer")


@dataclass(frozen=True)
class Call:
    """One request the fake gateway received: what was asked, with which key, for which record."""

    operation: str  # submit, replace, withdraw, transfer
    key: str | None  # the Idempotency-Key (submit and replace send one)
    record_id: str | None = None  # the gateway's record replaced or withdrawn
    assessment: str | None = None


class FakeGateway:
    """The province gateway in memory, for tests: the same methods as :class:`GatewayClient`, every call recorded.

    ``script`` answers the next submits and replaces in order (``Answer(503, {})``, :data:`UNREACHABLE`…); once it
    runs out, the fake accepts as the gateway does: a new record id per idempotency key, the same record again for a
    key it has seen (so a retry after a lost answer lands once).
    """

    def __init__(self, *script: Answer) -> None:
        self.script = list(script)
        self.calls: list[Call] = []
        self.records: dict[str, dict[str, Any]] = {}  # gateway record id -> what it holds
        self._by_key: dict[str, str] = {}

    def _answer(self, call: Call, pdf: bytes, xml: bytes) -> Answer:
        self.calls.append(call)
        if self.script:
            return self.script.pop(0)
        if call.key in self._by_key:
            return Answer(200, {"id": self._by_key[call.key]})
        record_id = f"gw-{len(self.records) + 1}"
        if call.key is not None:
            self._by_key[call.key] = record_id
        self.records[record_id] = {"id": record_id, "status": "received", "pdf": pdf, "xml": xml}
        if call.record_id in self.records:
            self.records[call.record_id]["status"] = "replaced"
        return Answer(201, {"id": record_id})

    def submit(self, token: str, key: str, pdf: bytes, xml: bytes, assessment: str) -> Answer:
        return self._answer(Call("submit", key, assessment=assessment), pdf, xml)

    def replace(self, token: str, key: str, record_id: str, pdf: bytes, xml: bytes, reason: str) -> Answer:
        return self._answer(Call("replace", key, record_id), pdf, xml)

    def withdraw(self, token: str, record_id: str, reason: str) -> Answer:
        self.calls.append(Call("withdraw", None, record_id))
        if record_id not in self.records:
            return Answer(404, {"reason": "not_found"})
        self.records[record_id]["status"] = "withdrawn"
        return Answer(200, {"id": record_id, "status": "withdrawn"})

    def transfer(self, token: str, transcript_id: str, to_school: str) -> Answer:
        self.calls.append(Call("transfer", None, transcript_id))
        return Answer(202, {"transcript_id": transcript_id, "to_school": to_school})

    def download(self, token: str, record_id: str, kind: str) -> tuple[int | None, bytes]:
        record = self.records.get(record_id)
        return (200, record[kind]) if record is not None and kind in ("pdf", "xml") else (404, b"")

    def listing(self, token: str, school_year: str | None = None) -> list[dict[str, Any]] | None:
        return [{"id": r["id"], "status": r["status"]} for r in self.records.values()]
