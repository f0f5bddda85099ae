"""The data key's sub-keys (HKDF per purpose) and the sealed formats: known answers, v1 written, v0 still read."""

import hashlib
import hmac
import os

import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from services.runtime.data_key import HEADER_V1, DataVault, Hashed, Sealed, derive

KEY = b"0123456789abcdef0123456789abcdef"  # the tests' HOCBA_DATA_KEY (tests/conftest.py), decoded

# Written down once: if one of these changes, every value sealed since would stop decrypting.
KNOWN = {
    Sealed.PERSONAL_ID: "2d26bfc646bfe5e2f9769afdfff2dc08f939e40e2dd60dea3a1a57c073911cb5",
    Sealed.PERSONAL_DETAILS: "f13d56ec7d78b37054480c8caa9aef319e6a7a1c1ddd85b27b56c7397a244491",
    Sealed.GATEWAY_CREDENTIALS: "700069e87e9296867444891b94c94903e57b7c7d996501d0503f8f6d57fa7c83",
    Hashed.PERSONAL_ID_LOOKUP: "9b602cfc79644d39b4fdac538b4337343c5bce05c4ae8d84c50e05b7821fac51",
    Hashed.AUDIT_PSEUDONYM: "fb21d6cad10884f91d156037940af7d8716be468c8d84fef4d42137ee8a17b06",
}


def _rfc5869(key: bytes, info: bytes) -> bytes:
    """HKDF-SHA256 written out from RFC 5869 (no salt: a string of zeros), 32 bytes: one block of expand."""
    prk = hmac.new(b"\x00" * 32, key, hashlib.sha256).digest()
    return hmac.new(prk, info + b"\x01", hashlib.sha256).digest()


def _v0_seal(text: str, aad: bytes) -> bytes:
    """How a value was sealed before the sub-keys: the data key itself, the purpose's label as associated data."""
    nonce = os.urandom(12)
    return nonce + AESGCM(KEY).encrypt(nonce, text.encode(), aad)


def test_each_purpose_has_its_own_stable_sub_key_which_is_rfc5869_hkdf():
    derived = {p: derive(KEY, p) for p in KNOWN}
    assert {p: k.hex() for p, k in derived.items()} == KNOWN
    assert len(set(derived.values())) == len(KNOWN) and KEY not in derived.values()
    for purpose, key in derived.items():
        label = purpose.label if isinstance(purpose, Sealed) else purpose.value
        assert key == _rfc5869(KEY, b"hocba/data-key/v1/" + label.encode())
    assert derive(b"\x01" * 32, Sealed.PERSONAL_ID) != derived[Sealed.PERSONAL_ID]


def test_values_are_written_v1_under_the_purpose_sub_key_and_read_back():
    vault = DataVault(KEY)
    blob = vault.encrypt("001311122816", Sealed.PERSONAL_ID)
    assert blob.startswith(HEADER_V1) and vault.is_current(blob, Sealed.PERSONAL_ID)
    body = blob[len(HEADER_V1) :]
    # Independently of the vault: AES-GCM under the derived sub-key, the header as associated data.
    assert AESGCM(derive(KEY, Sealed.PERSONAL_ID)).decrypt(body[:12], body[12:], HEADER_V1) == b"001311122816"
    assert vault.decrypt(blob, Sealed.PERSONAL_ID) == "001311122816"
    with pytest.raises(InvalidTag):
        AESGCM(KEY).decrypt(body[:12], body[12:], HEADER_V1)  # the data key itself no longer seals anything


def test_a_blob_of_one_purpose_never_decrypts_as_another():
    vault = DataVault(KEY)
    token = vault.encrypt("token-of-the-school", Sealed.GATEWAY_CREDENTIALS)
    with pytest.raises(InvalidTag):
        vault.decrypt(token, Sealed.PERSONAL_ID)
    details = vault.encrypt('{"birth_date": "2011-04-24"}', Sealed.PERSONAL_DETAILS)
    with pytest.raises(InvalidTag):
        vault.decrypt(details, Sealed.PERSONAL_ID)


def test_values_sealed_with_the_single_key_still_decrypt():
    vault = DataVault(KEY)
    old_id = _v0_seal("001311122816", b"personal_id")
    old_details = _v0_seal('{"birth_place": "Nghệ An"}', b"personal_details")
    old_token = _v0_seal("token-of-the-school", b"personal_id")  # sync sealed tokens under the ID's label
    assert vault.decrypt(old_id, Sealed.PERSONAL_ID) == "001311122816"
    assert vault.decrypt(old_details, Sealed.PERSONAL_DETAILS) == '{"birth_place": "Nghệ An"}'
    assert vault.decrypt(old_token, Sealed.GATEWAY_CREDENTIALS) == "token-of-the-school"
    assert not vault.is_current(old_id, Sealed.PERSONAL_ID)
    with pytest.raises(InvalidTag):
        vault.decrypt(old_details, Sealed.PERSONAL_ID)  # v0's labels still keep the kinds apart
    with pytest.raises(InvalidTag):
        DataVault(b"\x01" * 32).decrypt(old_id, Sealed.PERSONAL_ID)


def test_a_v0_blob_whose_nonce_starts_like_the_header_still_decrypts():
    nonce = HEADER_V1 + os.urandom(8)
    old = nonce + AESGCM(KEY).encrypt(nonce, b"001311122816", b"personal_id")
    assert DataVault(KEY).decrypt(old, Sealed.PERSONAL_ID) == "001311122816"
    assert not DataVault(KEY).is_current(old, Sealed.PERSONAL_ID)


def test_keyed_hashes_differ_per_purpose_and_the_v0_hash_is_still_offered_for_lookups():
    vault = DataVault(KEY)
    current, legacy = vault.keyed_hashes("001311122816", Hashed.PERSONAL_ID_LOOKUP)
    assert (
        current
        == hmac.new(derive(KEY, Hashed.PERSONAL_ID_LOOKUP), b"001311122816", hashlib.sha256).hexdigest()
    )
    assert legacy == hmac.new(KEY, b"001311122816", hashlib.sha256).hexdigest()
    assert current == vault.keyed_hash("001311122816", Hashed.PERSONAL_ID_LOOKUP) != legacy
    assert vault.keyed_hash("001311122816", Hashed.AUDIT_PSEUDONYM) not in (current, legacy)
