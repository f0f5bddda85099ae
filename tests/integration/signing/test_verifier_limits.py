"""A verifier that stays up (issue 28, item 9): a decompression bomb, a slow verification and an out-of-memory one are
refused at once in Vietnamese, and the server keeps answering.

The bomb is the review's: a genuine signed học bạ with an incremental update whose catalog lists ~100 Flate-bomb
copies of ``hocba.xml`` (each 240 KiB decoding to 240 MiB, inside pyHanko's own per-stream defaults), 25 MiB in all.
Before the budget, one upload held 2.6 GB for 18.5 s.
"""

from __future__ import annotations

import functools
import io
import re
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from werkzeug.test import Client

from services.runtime import http_client
from services.signing.verifier import TooLarge, verify
from services.signing.verifier import web as verifier_web
from services.signing.verifier.limits import DEFAULT_BUDGET, BudgetedReader, MiB
from services.signing.verifier.trust import configured_roots
from services.signing.verifier.web import MAX_UPLOAD, VerifierApp
from tests.helpers import wait_for
from tests.integration.signing.signed import signed_record
from tests.integration.signing.verifier_server import verifier_server

REFUSED_IN = 5.0  # seconds: the bound (a loaded 2-core machine included)
WORKER_RSS = 512 * MiB  # the bound per worker


@functools.cache
def _flate_bomb(decoded: int = 240 * MiB) -> bytes:
    squeeze = zlib.compressobj(9)
    chunk = bytes(16 * MiB)
    parts = [squeeze.compress(chunk) for _ in range(decoded // len(chunk))]
    return b"".join([*parts, squeeze.flush()])


@functools.cache
def bomb_pdf(size: int = MAX_UPLOAD - 64 * 1024) -> bytes:
    """A genuine signed PDF whose newest catalog's /AF lists Flate bombs named hocba.xml, ``size`` bytes at most."""
    genuine = signed_record().pdf
    writer = IncrementalPdfFileWriter(io.BytesIO(genuine), strict=False)
    bomb = _flate_bomb()
    specs = generic.ArrayObject()
    for _ in range((size - len(genuine)) // (len(bomb) + 512)):
        stream = generic.StreamObject(
            {generic.pdf_name("/Filter"): generic.pdf_name("/FlateDecode")}, encoded_data=bomb
        )
        specs.append(
            writer.add_object(
                generic.DictionaryObject(
                    {
                        generic.pdf_name("/Type"): generic.pdf_name("/Filespec"),
                        generic.pdf_name("/F"): generic.pdf_string("hocba.xml"),
                        generic.pdf_name("/UF"): generic.pdf_string("hocba.xml"),
                        generic.pdf_name("/EF"): generic.DictionaryObject(
                            {generic.pdf_name("/F"): writer.add_object(stream)}
                        ),
                    }
                )
            )
        )
    writer.root[generic.pdf_name("/AF")] = specs
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)
    data = out.getvalue()
    assert size - 2 * MiB < len(data) <= size
    return data


def _peak_rss(pid: int) -> int:
    """The process's high-water resident set (VmHWM), in bytes."""
    status = Path(f"/proc/{pid}/status").read_text()
    found = re.search(r"^VmHWM:\s+(\d+) kB", status, re.MULTILINE)
    assert found, status
    return int(found.group(1)) * 1024


def test_the_verifier_refuses_a_25_mib_flate_bomb_quickly_and_keeps_answering() -> None:
    bomb, genuine = bomb_pdf(), signed_record().pdf
    with verifier_server("--workers", "2") as served:
        workers = served.wait_for_workers(2)

        def limited(pid: int) -> bool:
            limits = Path(f"/proc/{pid}/limits").read_text()
            return bool(
                re.search(rf"^Max address space\s+{WORKER_RSS}\s+{WORKER_RSS}\s", limits, re.MULTILINE)
            )

        # The memory limit is in force in each worker, not only the budget. A worker is listed as soon as it is
        # forked and sets its limit in gunicorn's post_fork, before it takes a request: wait for that, not a race.
        wait_for(
            lambda: all(limited(pid) for pid in workers), timeout=30, what="each worker's address-space limit"
        )
        with http_client.client(base_url=served.url, timeout=60) as http:
            started = time.monotonic()
            refused = http.post("api/verify", files={"pdf": ("bomb.pdf", bomb, "application/pdf")})
            elapsed = time.monotonic() - started
            peak = max(_peak_rss(pid) for pid in workers)
            print(
                f"\n[bomb] {len(bomb) / MiB:.1f} MiB refused in {elapsed:.2f} s, worker peak RSS {peak / MiB:.0f} MiB"
            )

            assert refused.status_code == 413, refused.text
            assert refused.headers["content-type"] == "application/problem+json"
            detail = refused.json()["detail"]
            assert "giải nén ra quá nhiều dữ liệu" in detail and "không được kiểm tra" in detail
            assert elapsed < REFUSED_IN
            assert peak < WORKER_RSS

            page = http.post("/", files={"pdf": ("bomb.pdf", bomb, "application/pdf")})
            assert page.status_code == 413 and "giải nén ra quá nhiều dữ liệu" in page.text

            # Still answering, with the same workers (none was killed or had to be replaced).
            for _ in range(3):
                good = http.post("api/verify", files={"pdf": ("hocba.pdf", genuine, "application/pdf")})
                assert good.status_code == 200 and good.json()["indication"] == "TOTAL_PASSED"
            assert served.workers() == workers
            assert max(_peak_rss(pid) for pid in workers) < WORKER_RSS


def test_the_budget_refuses_the_bomb_in_process_and_a_genuine_record_passes() -> None:
    with pytest.raises(TooLarge):
        verify(bomb_pdf())
    assert verify(signed_record().pdf).passed


def test_every_revision_draws_on_one_budget() -> None:
    reader = BudgetedReader(io.BytesIO(signed_record().pdf), DEFAULT_BUDGET)
    assert reader.get_historical_resolver(1).decode_context is reader.decode_context


def _app(**kwargs: object) -> Client:
    return Client(VerifierApp(configured_roots(), **kwargs))  # type: ignore[arg-type]


def test_a_verification_past_its_deadline_is_refused_in_vietnamese_and_the_worker_carries_on() -> None:
    # The deadline is SIGALRM in a worker's main thread: only the real server shows it (pytest runs tests elsewhere).
    genuine = signed_record().pdf
    with verifier_server("--workers", "1", "--time-limit", "0.01") as served:
        worker = served.wait_for_workers(1)
        with http_client.client(base_url=served.url, timeout=60) as http:
            for _ in range(2):
                answer = http.post("api/verify", files={"pdf": ("hocba.pdf", genuine, "application/pdf")})
                assert answer.status_code == 422, answer.text
                assert "vượt quá thời gian cho phép (0,01 giây)" in answer.json()["detail"]
        assert served.workers() == worker


# The budget all but off (8 GiB, 1 GiB a stream): only the worker's 400 MiB address space stands in the bomb's way.
_NO_BUDGET = """
from services.signing.verifier.limits import Budget, MiB
from services.signing.verifier.server import ServeOptions, serve
from services.signing.verifier.trust import configured_roots
budget = Budget(total=8192 * MiB, per_stream=1024 * MiB)
serve(configured_roots(), ServeOptions(port=0, workers=1, memory_mb=400, budget=budget))
"""


def test_a_worker_out_of_memory_refuses_in_vietnamese_and_is_replaced() -> None:
    bomb, genuine = bomb_pdf(), signed_record().pdf
    with verifier_server(command=[sys.executable, "-c", _NO_BUDGET]) as served:
        worker = served.wait_for_workers(1)
        with http_client.client(base_url=served.url, timeout=60) as http:
            refused = http.post("api/verify", files={"pdf": ("bomb.pdf", bomb, "application/pdf")})
            assert refused.status_code == 413, refused.text
            assert "cần quá nhiều bộ nhớ" in refused.json()["detail"]
            fresh = wait_for(
                lambda: (now := served.workers()) and now != worker and now, what="a fresh worker"
            )
            assert len(fresh) == 1
            good = http.post("api/verify", files={"pdf": ("hocba.pdf", genuine, "application/pdf")})
            assert good.status_code == 200 and good.json()["indication"] == "TOTAL_PASSED"


def test_a_memory_error_anywhere_in_a_verification_retires_the_worker(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def exhausted(*args: object, **kwargs: object) -> None:
        raise MemoryError

    retired: list[bool] = []
    monkeypatch.setattr(verifier_web, "verify", exhausted)
    answer = _app(retire=lambda: retired.append(True)).post(
        "/api/verify", data={"pdf": (io.BytesIO(b"%PDF-1.7"), "a.pdf")}
    )
    assert answer.status_code == 413 and "cần quá nhiều bộ nhớ" in answer.json["detail"]
    assert retired == [True]


_SWALLOWED_ALARM = """
import time
from services.signing.verifier.limits import TimeLimit, deadline
try:
    with deadline(0.01):
        ends = time.monotonic() + 0.3
        while time.monotonic() < ends:
            try:
                sum(range(1000))
            except TimeLimit:  # what Python does to an exception raised in a __del__ or weakref callback
                pass
except TimeLimit:
    raise SystemExit("refused")
raise SystemExit("answered after its deadline")
"""


def test_a_verification_that_swallowed_its_alarm_is_still_refused_when_it_ends_late() -> None:
    # In its own interpreter: the alarm is for the main thread, and pytest's (eventlet's) is not one.
    ran = subprocess.run([sys.executable, "-c", _SWALLOWED_ALARM], capture_output=True, text=True, timeout=60)
    assert ran.stderr.strip().endswith("refused"), ran.stderr
