"""The portal's attempt limits live in the gateway's database: two gateways share them, a restart keeps them."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.conftest import RUN
from tests.helpers import wait_for
from tests.integration.gateway.support import (
    BIRTH_DATE,
    GatewayProcess,
    docs,
    sha256,
    submit,
    visitor,
    year_record,
)

pytestmark = pytest.mark.integration

# This module's own database: what other gateway tests attempted never counts here, nor the other way round.
DB = f"postgresql+psycopg://postgres@127.0.0.1:5432/{RUN}_gateway_limits"
PER_ADDRESS = 3
PER_CODE = 4
ENV = {
    "GATEWAY_TODAY": "2026-05-20",
    "GATEWAY_PORTAL_BIRTH_DATE_FAILURES": str(PER_ADDRESS),
    "GATEWAY_PORTAL_BIRTH_DATE_WINDOW_S": "600",
    "GATEWAY_PORTAL_CODE_FAILURES": str(PER_CODE),
    "GATEWAY_PORTAL_CODE_WINDOW_S": "86400",
    "GATEWAY_LOG_LEVEL": "INFO",  # the access log is under test too
}
RIGHT = BIRTH_DATE.strftime("%d/%m/%Y")
LOCKOUT = re.compile(
    r"Cổng đã tạm dừng tải bản PDF này vì có quá nhiều lần thử không thành công\. "
    r"Vui lòng thử lại sau (\d\d:\d\d) ngày (\d\d/\d\d/\d{4}) \(khoảng (\d+) (phút|giờ) nữa\)\."
)


def _psql(sql: str) -> None:
    with psycopg.connect(DB.replace("+psycopg", ""), autocommit=True) as conn:
        conn.execute(sql)


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[GatewayProcess, GatewayProcess]]:
    """Two gateway processes on one database, as two replicas behind a load balancer."""
    from services.runtime.db import drop_database

    drop_database(DB)
    logs = tmp_path_factory.mktemp("limits")
    first = GatewayProcess(DB, env=ENV).start(logs / "first.log")
    second = GatewayProcess(DB, env=ENV).start(logs / "second.log")
    yield first, second
    first.stop()
    second.stop()
    drop_database(DB)


def record(gateway: GatewayProcess) -> tuple[str, str, bytes]:
    """A fresh record: its PDF's portal address, its lookup code and the PDF."""
    d = docs(year_record())
    with gateway.client("s1") as school:
        accepted = submit(school, d)
    assert accepted.status_code == 201, accepted.text
    url = f"/hocba/{d.record.lookup_code}/{accepted.json()['id']}.pdf"
    return url, d.record.lookup_code, d.pdf


def guess(gateway: GatewayProcess, url: str, day: str = "01/01/2011") -> httpx.Response:
    """One attempt from an address nobody else uses."""
    with visitor() as reader:
        return reader.post(gateway.url + url, data={"ngay_sinh": day})


def test_the_per_code_limit_holds_across_addresses_and_both_gateways(pair):
    first, second = pair
    url, _, pdf = record(first)
    answers = [guess((first, second)[n % 2], url).status_code for n in range(PER_CODE)]
    assert answers == [403] * PER_CODE  # each from another address: only the code's count stops them
    for gateway in pair:
        locked = guess(gateway, url, RIGHT)  # even the right date, from yet another address
        assert locked.status_code == 429 and b"%PDF" not in locked.content
        assert LOCKOUT.search(locked.text), locked.text
        assert 0 < int(locked.headers["retry-after"]) <= 86400
    other_url, _, other_pdf = record(first)
    served = guess(second, other_url, RIGHT)
    assert served.status_code == 200 and sha256(served.content) == sha256(other_pdf)


def test_the_limit_survives_a_restart_of_the_gateway(pair, tmp_path):
    first, _ = pair
    url, _, _ = record(first)
    before = GatewayProcess(DB, env=ENV).start(tmp_path / "before.log")
    try:
        for _ in range(PER_CODE):
            assert guess(before, url).status_code == 403
    finally:
        before.stop()  # the process that counted the failures is gone
    after = GatewayProcess(DB, env=ENV).start(tmp_path / "after.log")
    try:
        locked = guess(after, url, RIGHT)
    finally:
        after.stop()
    assert locked.status_code == 429 and LOCKOUT.search(locked.text)


def test_the_per_address_limit_is_shared_by_both_gateways_and_counts_unknown_codes(pair):
    first, second = pair
    urls = [record(first)[0] for _ in range(PER_ADDRESS)]
    unknown = f"/hocba/{uuid.uuid4().hex}/{uuid.uuid4()}.pdf"
    with visitor() as reader:
        # Wrong dates at two records and a guess at a code that does not exist: three failures for this address.
        assert reader.post(first.url + urls[0], data={"ngay_sinh": "01/01/2011"}).status_code == 403
        assert reader.post(second.url + urls[1], data={"ngay_sinh": "02/01/2011"}).status_code == 403
        assert reader.post(first.url + unknown, data={"ngay_sinh": RIGHT}).status_code == 404
        known = reader.post(second.url + urls[2], data={"ngay_sinh": RIGHT})
        stranger = reader.post(first.url + unknown, data={"ngay_sinh": RIGHT})
    assert known.status_code == stranger.status_code == 429
    # One answer for a known code with the right date and for a code that does not exist.
    same = [LOCKOUT.sub("…", answer.text) for answer in (known, stranger)]
    assert same[0] == same[1]
    for word in ("Ngày sinh không khớp", "Không tìm thấy", "Không có bản PDF"):
        assert word not in known.text
    with visitor() as elsewhere:
        assert elsewhere.post(first.url + urls[2], data={"ngay_sinh": RIGHT}).status_code == 200


def test_parallel_guesses_get_no_more_tries_than_the_limit(pair):
    """Counted before the answer is checked: a burst cannot slip its guesses in before the first is counted."""
    first, second = pair
    url, _, _ = record(first)
    burst = 4 * PER_CODE
    with ThreadPoolExecutor(burst) as pool:
        statuses = list(
            pool.map(
                lambda n: guess((first, second)[n % 2], url, f"{n + 1:02d}/01/2011").status_code, range(burst)
            )
        )
    assert sorted(statuses) == [403] * PER_CODE + [429] * (burst - PER_CODE)


def test_a_right_answer_does_not_count_and_the_code_opens_again_after_its_window(pair):
    first, _ = pair
    url, _, pdf = record(first)
    for _ in range(PER_CODE + 2):
        assert guess(first, url, RIGHT).status_code == 200  # right answers are never counted
    for _ in range(PER_CODE):
        assert guess(first, url).status_code == 403
    assert guess(first, url, RIGHT).status_code == 429
    # A day later, as far as the database can tell: every attempt so far is older than any window.
    _psql("update portal_attempts set at = at - interval '1 day 1 minute'")
    served = guess(first, url, RIGHT)
    assert served.status_code == 200 and sha256(served.content) == sha256(pdf)


def test_portal_answers_carry_security_headers(pair):
    first, _ = pair
    url, code, _ = record(first)
    with visitor() as reader:
        answers = [
            reader.get(first.url + "/"),
            reader.get(first.url + f"/hocba/{code}"),
            reader.get(first.url + url),
            reader.post(first.url + url, data={"ngay_sinh": RIGHT}),
        ]
    for answer in answers:
        csp = answer.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in csp and "default-src 'none'" in csp, answer.request.url
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["referrer-policy"] == "no-referrer"


def test_access_logs_carry_no_lookup_code(pair, tmp_path):
    logged = GatewayProcess(DB, env=ENV).start(tmp_path / "gateway.log")
    try:
        url, code, _ = record(logged)
        spaced = " ".join(code[i : i + 4] for i in range(0, 32, 4)).upper()
        with visitor(follow_redirects=True) as reader:
            assert reader.get(logged.url + "/tra-cuu", params={"ma": spaced}).status_code == 200
            assert reader.get(logged.url + url).status_code == 200
            assert reader.post(logged.url + url, data={"ngay_sinh": "01/01/2011"}).status_code == 403
        log = Path(tmp_path / "gateway.log")
        wait_for(lambda: log.read_text().count("/hocba/***") >= 3, timeout=10, what="the access log lines")
    finally:
        logged.stop()
    text = log.read_text()
    assert "tra-cuu?ma=***" in text
    for form in (code, code.upper(), spaced, spaced.replace(" ", "%20"), spaced.replace(" ", "+")):
        assert form not in text
