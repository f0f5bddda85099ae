"""How much one verification may take: decompressed bytes (a budget shared by every revision of the document, and
pypdf's caps) and time (a deadline in the worker's main thread).

A học bạ PDF decodes to a few MB (its fonts, images, CRLs and the embedded XML, once per revision that pyHanko
compares); an upload that wants far more is a decompression bomb, refused as :class:`TooLarge` before it holds the
memory. pyHanko 0.38 already bounds each stream and each document, but sized for any PDF (256 MiB, or 100 times
the upload: 2.5 GB for 25 MiB) and with a fresh budget for every historical revision; we want one small budget for
the whole verification. pypdf (the page text) has its own per-stream caps, lowered here.
"""

from __future__ import annotations

import io
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pypdf
from pyhanko.pdf_utils.decode_limits import (
    DEFAULT_PURPOSE_LIMITS,
    DecodeContext,
    DecodeLimits,
    DocumentDecodeBudget,
    StreamDecodeLimits,
)
from pyhanko.pdf_utils.misc import PdfDecodeLimitError
from pyhanko.pdf_utils.reader import PdfFileReader
from pypdf.errors import LimitReachedError

from services.signing.verifier.model import Unreadable

MiB = 1024 * 1024


@dataclass(frozen=True)
class Budget:
    """Bytes one verification may decode in all (``total``) and from any one stream (``per_stream``)."""

    total: int = 64 * MiB
    per_stream: int = 16 * MiB
    pages: int = (
        64  # a học bạ has one page per year; the page text of more is not read (the check then fails)
    )

    def pdf_limits(self) -> DecodeLimits:
        return DecodeLimits(
            per_stream=StreamDecodeLimits(max_output_size=self.per_stream),
            per_purpose=dict(DEFAULT_PURPOSE_LIMITS),
            # max_ratio 0: the same budget whatever the upload's size (pyHanko's default grows with it)
            document_budget=DocumentDecodeBudget(base_allowance=self.total, max_ratio=0),
        )


DEFAULT_BUDGET = Budget()


class TooLarge(Unreadable):
    """The upload decodes to more than the budget allows: a decompression bomb, or at least not a học bạ."""

    def __init__(self, budget: Budget, detail: str = "") -> None:
        super().__init__(f"decodes to more than {budget.total // MiB} MiB{f' ({detail})' if detail else ''}")
        self.budget = budget


class OutOfMemory(TooLarge):
    """The worker's memory limit (RLIMIT_AS) ran out mid-verification: refused like a bomb, and the worker retires."""


class _SharedBudget(DecodeContext):
    """pyHanko gives every historical revision a ``fresh()`` budget; ours is one for the whole verification."""

    def fresh(self) -> DecodeContext:
        return self


class BudgetedReader(PdfFileReader):
    """A :class:`PdfFileReader` whose historical revisions draw on the same decode budget as the newest one."""

    def __init__(self, stream: io.BytesIO, budget: Budget) -> None:
        # Before pyHanko's own __init__: reading the cross-reference streams already decodes.
        self.budget = budget
        self._shared = _SharedBudget(budget.pdf_limits(), input_size=len(stream.getbuffer()))
        super().__init__(stream, strict=False, decode_limits=budget.pdf_limits())

    @property
    def decode_context(self) -> DecodeContext:
        return self._shared


def over_budget(error: BaseException, budget: Budget, where: str = "") -> TooLarge | None:
    """The refusal to raise when ``error`` (or what it was raised from: pyHanko wraps some errors in its own) is a
    decode limit or the worker's memory limit; ``None`` when it is any other error.

    The readers catch ``Exception`` to report a malformed part and carry on; a limit must not be carried on from.
    """
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, TooLarge):
            return current
        if isinstance(current, MemoryError):
            return OutOfMemory(budget, where)
        if isinstance(current, PdfDecodeLimitError | LimitReachedError):
            return TooLarge(budget, where)
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


@contextmanager
def pypdf_caps(budget: Budget) -> Iterator[None]:
    """pypdf's per-stream limits (75 MB by default) brought down to ours, for this context only."""
    with pypdf.apply_configuration(
        zlib_maximum_output_length=budget.per_stream,
        lzw_maximum_output_length=budget.per_stream,
        run_length_maximum_output_length=budget.per_stream,
        brotli_maximum_output_length=budget.per_stream,
        array_based_stream_maximum_output_length=budget.per_stream,
        stream_decoding_work_maximum_length=budget.per_stream * 2,
        xform_maximum_invocations_per_extraction=200,
    ):
        yield


class TimeLimit(BaseException):
    """The verification ran past its deadline. A ``BaseException``, so no reader's ``except Exception`` keeps going."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"verification took more than {seconds:g} s")
        self.seconds = seconds


@contextmanager
def deadline(seconds: float | None) -> Iterator[None]:
    """Raise :class:`TimeLimit` in this thread after ``seconds`` (SIGALRM; only the main thread can take signals,
    which a gunicorn sync worker's request is in; elsewhere, e.g. a threaded test server, this bounds nothing).

    A timer already running (pytest-timeout's) is put back afterwards, less the time spent here.

    The alarm fires once, and Python drops an exception raised while it runs a ``__del__`` or a weakref callback
    ("Exception ignored in …"): a verification the alarm could not stop is still refused when it ends late.
    """
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum: int, frame: object) -> None:
        raise TimeLimit(seconds)

    started = time.monotonic()
    previous = signal.signal(signal.SIGALRM, expire)
    outer, outer_interval = signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
        if time.monotonic() - started > seconds:
            raise TimeLimit(seconds)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer:
            left = outer - (time.monotonic() - started)
            signal.setitimer(signal.ITIMER_REAL, max(left, 0.001), outer_interval)
