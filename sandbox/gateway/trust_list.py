"""The province's published trust list of the schools' QR certificates: served as the province signed it.

The gateway does not build or check the list (``hocba qr trust-list build`` signs it with the province's key and
writes the file the gateway serves); readers verify its signature themselves, so any copy, cached or mirrored, is
as good as this one.
"""

from __future__ import annotations

from pathlib import Path

from werkzeug.wrappers import Request, Response

from sandbox.gateway.context import Context
from sandbox.gateway.domain import errors


def trust_list(ctx: Context, request: Request) -> Response:
    path = Path(ctx.settings.qr_trust_list)
    try:
        body = path.read_bytes()
    except FileNotFoundError:
        raise errors.TrustListMissing("Sở chưa công bố danh sách tin cậy mã QR.") from None
    # A phone keeps the list for offline checks; an hour keeps revocations moving without hammering the gateway.
    return Response(
        body,
        mimetype="application/json",
        headers={"Cache-Control": "public, max-age=3600", "Access-Control-Allow-Origin": "*"},
    )
