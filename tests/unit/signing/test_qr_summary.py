"""The sealed QR summary and the province's trust list, with software keys: what the QR carries and every verdict."""

from __future__ import annotations

import base64
import functools
import hashlib
import json
import zlib
from dataclasses import replace
from datetime import UTC, datetime

import base45
import cbor2
import pytest
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives.asymmetric import ec

import sandbox.pki as pki
from services.signing.adapters.sealer import FakeQrSealer
from services.signing.documents import qr_seal
from services.signing.verifier import qr as qr_trust
from services.transcript.documents import xml_package
from services.transcript.domain.model import PeriodResult
from tests.integration.signing.records import primary_year_record, year_record

SCHOOL_ID, SCHOOL_NAME = "s-thu-nghiem", "Trường THCS Thử Nghiệm"


@functools.cache
def school_key() -> tuple[ec.EllipticCurvePrivateKey, bytes]:
    key = ec.generate_private_key(ec.SECP256R1())
    certificate = pki.issue_qr(key.public_key(), school_id=SCHOOL_ID, school_name=SCHOOL_NAME)
    return key, certificate.dump()


@functools.cache
def record_xml() -> bytes:
    return xml_package.build(year_record())  # the XML alone: rendering the PDF is not needed here


def sealed_text(
    key_and_cert: tuple[ec.EllipticCurvePrivateKey, bytes] | None = None, xml: bytes | None = None
) -> str:
    key, der = key_and_cert or school_key()
    return FakeQrSealer(key, der).summary_text(SCHOOL_ID, xml or record_xml()) or ""


def cose_bytes(text: str) -> bytes:
    packed = base45.b45decode(text[4:])
    return zlib.decompress(packed) if packed[:1] == b"\x78" else packed


def trust_list(*, revoked: bool = False) -> qr_trust.TrustList:
    entry = qr_trust.entry_for(asn1_x509.Certificate.load(school_key()[1]))
    if revoked:
        entry = qr_trust.revoke(entry, datetime(2026, 9, 1, tzinfo=UTC), "khóa bị lộ")
    province = pki.province_qr()
    document = qr_trust.build(
        [entry], province.key, province.certificate, province.chain, issuer="Sở (thử nghiệm)"
    )
    return qr_trust.load(document, [pki.root()])


def test_the_summary_carries_the_year_results_and_no_personal_id_or_birth_date():
    xml = record_xml()
    text = sealed_text()
    assert text.startswith("HB1:") and len(text) <= 468  # fits a version-11 QR at level L (61 modules)
    summary = qr_seal.unseal(text).summary
    assert (summary.student_name, summary.class_name, summary.school_year) == (
        "Phạm Thị Ngọc Ánh",
        "8A1",
        "2025-2026",
    )
    assert (summary.learning, summary.conduct, summary.promotion) == ("Khá", "Tốt", "lên lớp")
    assert summary.effective_date == "2026-06-30" and summary.version == 1
    assert summary.school_id == SCHOOL_ID and summary.school_name == SCHOOL_NAME
    assert summary.record_sha256 == hashlib.sha256(xml).hexdigest()
    decoded = cose_bytes(text)
    for private in (b"0123456789", b"2011-07-13", "Cửa Nam".encode(), b"st-1", b"017/2023"):
        assert private not in decoded  # MoetCode (personal ID), birth date, birth place, ids


def test_a_primary_record_carries_its_tt27_year_result():
    xml = xml_package.build(primary_year_record())
    summary = qr_seal.unseal(sealed_text(xml=xml)).summary
    assert summary.year_result == "Hoàn thành"


def test_after_the_summer_the_summary_carries_the_results_and_promotion_decided_again():
    record = year_record()
    summer = replace(
        record,
        periods=(*record.periods, PeriodResult("summer", "Đạt", "Khá")),
        promotion="ở lại lớp nếu không đạt sau hè",
        promotion_after_summer="lên lớp",
    )
    summary = qr_seal.summary_of(xml_package.build(summer))
    assert (summary.learning, summary.conduct, summary.promotion) == ("Đạt", "Khá", "lên lớp")


def test_a_sealed_summary_verifies_against_the_trust_list():
    verdict = qr_trust.check(sealed_text(), trust_list())
    assert verdict.valid and verdict.code == "VALID", verdict.message_vi
    assert "HỢP LỆ" in verdict.message_vi


def test_one_changed_character_fails():
    text = sealed_text()
    middle = len(text) // 2
    changed = text[:middle] + ("A" if text[middle] != "A" else "B") + text[middle + 1 :]
    verdict = qr_trust.check(changed, trust_list())
    assert not verdict.valid and verdict.code in ("MALFORMED", "BAD_SIGNATURE")


def test_a_changed_result_under_the_same_signature_fails_as_tampered():
    text = sealed_text()
    tag = cbor2.loads(cose_bytes(text))
    protected, unprotected, payload, signature = tag.value
    claims = cbor2.loads(payload)
    claims[qr_seal.HOCBA_CLAIM]["r"]["ht"] = "Tốt"  # Khá → Tốt
    forged = cbor2.dumps(cbor2.CBORTag(18, [protected, unprotected, cbor2.dumps(claims), signature]))
    # zlib-compressed this time: readers take both forms (the sealer compresses only where it shrinks)
    verdict = qr_trust.check("HB1:" + base45.b45encode(zlib.compress(forged)).decode(), trust_list())
    assert verdict.code == "BAD_SIGNATURE" and "sửa đổi" in verdict.message_vi


def test_a_key_not_on_the_trust_list_fails_as_unknown():
    stranger = ec.generate_private_key(ec.SECP256R1())
    der = pki.issue_qr(stranger.public_key(), school_id=SCHOOL_ID, school_name=SCHOOL_NAME).dump()
    verdict = qr_trust.check(sealed_text((stranger, der)), trust_list())
    assert verdict.code == "UNKNOWN_KEY" and "không có trong danh sách tin cậy" in verdict.message_vi


def test_a_revoked_school_fails_as_revoked():
    verdict = qr_trust.check(sealed_text(), trust_list(revoked=True))
    assert (
        verdict.code == "REVOKED" and "thu hồi" in verdict.message_vi and "khóa bị lộ" in verdict.message_vi
    )


def test_text_that_is_not_a_summary_is_malformed_and_a_lookup_url_says_it_is_only_that():
    assert qr_trust.check("HB1:not base45 at all", trust_list()).code == "MALFORMED"
    verdict = qr_trust.check("https://tracuu.example.vn/hocba/x", trust_list())
    assert verdict.code == "URL_ONLY" and "tra cứu trực tuyến" in verdict.message_vi


def test_a_trust_list_with_a_changed_entry_is_refused():
    province = pki.province_qr()
    entry = qr_trust.entry_for(asn1_x509.Certificate.load(school_key()[1]))
    document = json.loads(
        qr_trust.build([entry], province.key, province.certificate, province.chain, issuer="Sở")
    )
    body = json.loads(base64.b64decode(document["payload"]))
    body["entries"][0]["revoked_at"] = None
    body["entries"][0]["school_name"] = "Trường khác"
    document["payload"] = base64.b64encode(json.dumps(body).encode()).decode()
    with pytest.raises(qr_trust.TrustListInvalid, match="signature"):
        qr_trust.load(json.dumps(document).encode(), [pki.root()])


def test_a_trust_list_signed_by_a_school_key_is_refused():
    key, der = school_key()
    certificate = asn1_x509.Certificate.load(der)
    document = qr_trust.build(
        [qr_trust.entry_for(certificate)], key, certificate, (pki.issuing_ca(),), issuer="?"
    )
    with pytest.raises(qr_trust.TrustListInvalid, match="not certified"):
        qr_trust.load(document, [pki.root()])
