"""A signer's signing client: their whole turn through the simulated remote signing service.

What a teacher's signing client does: list my pending steps, get a certificate from my signing provider, ask the
signing service for the data to be signed, have the provider sign every digest, send the values back. `hocba sign
--as` (cli/signing.py), the demo, the benchmarks and the tests sign this way.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from services.runtime import http_client

BATCH = 100
# A 503 on finishing a batch means the timestamp authority did not answer: the signing service kept the prepared
# signatures, and the client sends the same values again later (each value stays valid; nothing is signed twice).
AGAIN_AFTER = (1.0, 2.0, 4.0, 8.0, 15.0)


@dataclass
class SignResult:
    signed: int = 0
    refused: list[dict[str, Any]] = field(default_factory=list)


def sign_as(
    signing_url: str,
    remote_url: str,
    token: str,
    signer_id: str,
    *,
    class_id: str | None = None,
    organisation: str | None = None,
    timeout: float = 120.0,
    skip: frozenset[str] = frozenset(),
) -> SignResult:
    headers = {"Authorization": f"Bearer {token}"}
    result = SignResult()
    with (
        http_client.client(base_url=signing_url, headers=headers, timeout=timeout) as signing,
        http_client.client(base_url=remote_url, timeout=timeout) as remote,
    ):
        params = {"class_id": class_id} if class_id else {}
        pending = signing.get("/signing/pending", params=params)
        pending.raise_for_status()
        # ``skip``: year records this signer leaves for later (the chaos test holds one back on purpose).
        steps = [s for s in pending.json() if s["year_record_id"] not in skip]
        if not steps:
            return result
        enrolled = remote.post(
            "/enrol",
            json={"signer_id": signer_id, "name": steps[0]["signer_name"], "organisation": organisation},
        )
        enrolled.raise_for_status()
        credentials = enrolled.json()
        for start in range(0, len(steps), BATCH):
            chunk = steps[start : start + BATCH]
            prepared = signing.post(
                "/signing/batches",
                json={
                    "records": [{"year_record_id": s["year_record_id"], "order": s["order"]} for s in chunk],
                    "certificate": credentials["certificate"],
                    "chain": credentials["chain"],
                },
            )
            prepared.raise_for_status()
            batch = prepared.json()
            result.refused += batch["refused"]
            items = batch["items"]
            if not items:
                continue
            digests = [d for item in items for d in (item["pdf_to_sign"], item["xml_to_sign"])]
            signed = remote.post("/sign", json={"signer_id": signer_id, "digests": digests})
            signed.raise_for_status()
            values = signed.json()["signatures"]
            finished = _send_signatures(
                signing,
                f"/signing/batches/{batch['batch_id']}/signatures",
                {
                    "signatures": [
                        {
                            "item_id": item["item_id"],
                            "pdf_signature": values[2 * i],
                            "xml_signature": values[2 * i + 1],
                        }
                        for i, item in enumerate(items)
                    ]
                },
            )
            outcome = finished.json()
            result.signed += len(outcome["signed"])
            result.refused += outcome["refused"]
    return result


def _send_signatures(signing: httpx.Client, path: str, body: dict[str, Any]) -> httpx.Response:
    """POST the signature values, again after a pause while the service answers 503 (its timestamp authority is
    down for a moment); any other error, or a 503 that outlasts every pause, is raised."""
    for pause in (*AGAIN_AFTER, None):
        finished = signing.post(path, json=body)
        if finished.status_code != 503 or pause is None:
            break
        time.sleep(pause)
    finished.raise_for_status()
    return finished
