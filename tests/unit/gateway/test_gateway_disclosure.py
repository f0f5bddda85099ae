"""What the portal discloses: masks, the birth-date check, and the TT27 words it prints for the XML's codes."""

from datetime import date

import pytest

from sandbox.gateway.domain import disclosure
from services.gradebook.domain import tt27


def test_the_personal_id_keeps_only_its_last_three_digits():
    assert disclosure.mask_personal_id("001212345678") == "*********678"
    assert disclosure.mask_personal_id("") == ""


def test_the_page_content_carries_no_part_of_the_birth_date():
    from sandbox.gateway import documents
    from tests.integration.gateway.support import BIRTH_DATE, docs, year_record

    d = docs(year_record())
    assert documents.birth_date(d.xml) == BIRTH_DATE
    shown = repr(documents.content(d.xml))
    assert "birth" not in shown and str(BIRTH_DATE.year) not in shown


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("05/09/2012", date(2012, 9, 5)),
        ("5/9/2012", date(2012, 9, 5)),
        (" 05-09-2012 ", date(2012, 9, 5)),
        ("2012-09-05", date(2012, 9, 5)),
        ("31/02/2012", None),
        ("09/2012", None),
        ("", None),
    ],
)
def test_a_birth_date_is_read_as_a_reader_types_it(typed, expected):
    assert disclosure.parse_birth_date(typed) == expected


def test_only_the_recorded_birth_date_matches_and_a_record_without_one_never_does():
    born = date(2012, 9, 5)
    assert disclosure.birth_date_matches(born, born)
    assert not disclosure.birth_date_matches(date(2012, 5, 9), born)
    assert not disclosure.birth_date_matches(None, born)
    assert not disclosure.birth_date_matches(born, None)


def test_the_portals_trait_words_are_the_circulars_names():
    """The gateway is an outside system with its own copy of the vocabulary; it must say what the gradebook says."""
    assert {k: v.lower() for k, v in disclosure.QUALITY_NAMES.items()} == tt27.QUALITY_NAMES
    assert {k: v.lower() for k, v in disclosure.COMPETENCY_NAMES.items()} == tt27.COMPETENCY_NAMES
    assert disclosure.TRAIT_LEVELS == tt27.QUALITY_LEVELS
    assert disclosure.trait(disclosure.QUALITY_NAMES, "cham_chi", "T") == ("Chăm chỉ", "Tốt")


@pytest.mark.parametrize(
    ("address", "bucket"),
    [
        ("203.0.113.7", "addr:203.0.113.7"),
        ("2001:db8:1:2:aaaa::1", "addr:2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:fffe", "addr:2001:db8:1:2::/64"),  # the same subscriber's /64
        ("2001:db8:1:3::1", "addr:2001:db8:1:3::/64"),
        ("::ffff:203.0.113.7", "addr:203.0.113.7"),
        ("fe80::1%eth0", "addr:fe80::/64"),
        (None, "addr:unknown"),
        ("not an address", "addr:unknown"),
    ],
)
def test_an_ipv6_client_is_counted_by_its_64_and_an_ipv4_one_by_its_address(address, bucket):
    from sandbox.gateway.portal.limits import address_bucket

    assert address_bucket(address) == bucket


def test_forwarded_for_is_believed_only_from_our_own_proxies():
    from sandbox.gateway.portal.limits import client_address, parse_networks

    proxies = parse_networks("10.0.0.0/8, fd00::/8")
    # No trusted proxies: the header is the client's own words.
    assert client_address("198.51.100.4", "1.2.3.4", ()) == "198.51.100.4"
    # A stranger's header is ignored even when proxies are configured.
    assert client_address("198.51.100.4", "1.2.3.4", proxies) == "198.51.100.4"
    # Through our proxies: the first address from the right that is not ours; what the client wrote to its left
    # (a spoofed 1.2.3.4) is never reached.
    assert client_address("10.0.0.2", "1.2.3.4, 198.51.100.4, 10.0.0.9", proxies) == "198.51.100.4"
    assert client_address("fd00::2", "2001:db8::5", proxies) == "2001:db8::5"
    assert client_address("10.0.0.2", None, proxies) == "10.0.0.2"


def test_lookup_codes_are_scrubbed_from_log_lines():
    from sandbox.gateway.access_log import scrub_codes

    code = "0123456789abcdef0123456789abcdef"
    assert scrub_codes(f"GET /hocba/{code} HTTP/1.1") == "GET /hocba/*** HTTP/1.1"
    assert scrub_codes(f"POST /hocba/{code}/a1b2-c3.pdf HTTP/1.1") == "POST /hocba/***/a1b2-c3.pdf HTTP/1.1"
    assert scrub_codes("GET /tra-cuu?ma=0123 4567 89AB CDEF HTTP/1.1") == "GET /tra-cuu?ma=*** HTTP/1.1"
    assert scrub_codes("GET /tra-cuu?x=1&ma=ab-cd&y=2 HTTP/1.1") == "GET /tra-cuu?x=1&ma=***&y=2 HTTP/1.1"
    assert scrub_codes(f"referer https://example.vn/?q={code.upper()}") == "referer https://example.vn/?q=***"
    assert scrub_codes("GET /healthz HTTP/1.1") == "GET /healthz HTTP/1.1"
