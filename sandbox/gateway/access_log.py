"""Access logs without lookup codes: a code opens a student's record page, so it is a credential, never a log field."""

from __future__ import annotations

import re
from typing import Any

from werkzeug.serving import WSGIRequestHandler

HIDDEN = "***"
# A code as typed may carry spaces and dashes; what ends it is the next path segment, parameter or the protocol.
_END = r"(?=[/?&#]|\s+HTTP/|\s*$)"
_PATTERNS = (
    re.compile(r"(/hocba/)[^/?&#]*?" + _END, re.IGNORECASE),
    re.compile(r"([?&]ma=)[^&#]*?" + _END.replace("/", ""), re.IGNORECASE),
    # Anywhere else (a referrer, a form field echoed in an error): 32 hexadecimal digits in a row.
    re.compile(r"()(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])", re.IGNORECASE),
)


def scrub_codes(text: str) -> str:
    for pattern in _PATTERNS:
        text = pattern.sub(lambda m: m.group(1) + HIDDEN, text)
    return text


class ScrubbingRequestHandler(WSGIRequestHandler):
    """Werkzeug's request handler, its access log lines (and error lines quoting a request) scrubbed of codes."""

    def log(self, type: str, message: str, *args: Any) -> None:
        super().log(type, message, *(scrub_codes(a) if isinstance(a, str) else a for a in args))
