"""pyHanko's PDF reader, with hexadecimal strings read in one pass instead of byte by byte.

Every signature's ``/Contents`` is a hexadecimal string of twice its reserved size (32,768 hex digits for a
person's signature here, 65,536 for the seal), and pyHanko reads such strings one byte per Python call
(``generic.read_hex_string_from_stream`` → ``misc.read_non_whitespace``). Preparing a signature reads the
certifying signature's dictionary (its DocMDP constraints), the seal reads every earlier signature (the LTA
timestamp chain), and the verifier reads them all: measured under ``hocba bench peak``, 11 % of the signing
service's CPU was spent in that loop.

:func:`install` replaces the function pyHanko's object parser calls with :func:`read_hex_string`, which finds the
closing ``>`` and decodes the digits with :mod:`binascii` in C. It gives the same object for every string it
accepts; anything unusual (a ``%`` comment, a character that is not a hex digit or PDF whitespace, no closing
``>``) is handed to pyHanko's own function from the same position, so its result and its error are pyHanko's
(``tests/unit/runtime/test_pdf_reading.py`` compares the two on random and malformed strings). pyHanko is pinned
(pyproject.toml): the parser calls the module-level name, which the test checks too.
"""

from __future__ import annotations

import binascii
import os
from typing import Any, BinaryIO

from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.misc import PDF_WHITESPACE

_PYHANKO_READ = generic.read_hex_string_from_stream
_CHUNK = 1 << 16


def read_hex_string(stream: BinaryIO) -> Any:
    """The hexadecimal string starting at ``stream``'s position (its ``<``), as pyHanko's reader returns it."""
    start = stream.tell()
    stream.read(1)  # the opening "<"
    chunks: list[bytes] = []
    while True:
        chunk = stream.read(_CHUNK)
        end = chunk.find(b">")
        if end >= 0:
            chunks.append(chunk[:end])
            break
        if not chunk:
            return _pyhanko_read(stream, start)  # no closing ">": pyHanko's own error
        chunks.append(chunk)
    body = b"".join(chunks)
    digits = body.translate(None, PDF_WHITESPACE)
    if digits.translate(None, generic.HEX_DIGITS):
        return _pyhanko_read(stream, start)  # a comment or a stray character: pyHanko decides
    stream.seek(start + 1 + len(body) + 1, os.SEEK_SET)  # just past the closing ">"
    if len(digits) % 2:
        digits += b"0"  # PDF: a missing last digit is 0
    return generic.pdf_string(binascii.unhexlify(digits))


def _pyhanko_read(stream: BinaryIO, start: int) -> Any:
    stream.seek(start, os.SEEK_SET)
    return _PYHANKO_READ(stream)


def install() -> None:
    """Make pyHanko's object parser read hexadecimal strings with :func:`read_hex_string` (idempotent)."""
    generic.read_hex_string_from_stream = read_hex_string
