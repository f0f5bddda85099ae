"""The year-end archive's protection: age encryption to the custodian's key and the platform's Ed25519 signature.

The tar is encrypted with age (X25519 recipient, ChaCha20-Poly1305 in authenticated chunks), so only the holder of
``HOCBA_ARCHIVE_IDENTITY`` reads it and any altered byte fails decryption. Encrypting needs only the public
recipient, which anyone may have: the manifest is therefore signed with ``HOCBA_ARCHIVE_SIGNING_KEY`` (Ed25519),
which import checks against ``HOCBA_ARCHIVE_VERIFY_KEY``; the RFC 3161 token covers that signature, so it dates a
signed manifest and a re-timestamped edit still lacks the platform's signature.

The encrypted file itself is signed too, outside the encryption: ``MAGIC``, the Ed25519 signature over ``MAGIC`` and
the SHA-256 of the age file, then the age file. Import checks that signature before it decrypts, parses or untars a
single byte, so a file anyone encrypted to the custodian (a tar bomb, a hostile tar header) is refused unread.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import pyrage
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

SUFFIX = ".tar.age"
MAGIC = b"hocba-archive/v1\n"
SIGNATURE_SIZE = 64  # Ed25519


class NotSigned(ValueError):
    """The file does not start with the platform's signature over what follows."""


class KeyProblem(Exception):
    """An archive key is missing or malformed in the configuration."""


@dataclass(frozen=True)
class ExportKeys:
    """What `hocba export` needs: whom to encrypt to and the key that signs the manifest."""

    recipient: Any  # pyrage.x25519.Recipient
    signing_key: Ed25519PrivateKey


@dataclass(frozen=True)
class ImportKeys:
    """What `hocba import` needs: the custodian's identity and the platform's public signing key."""

    identity: Any  # pyrage.x25519.Identity
    verify_key: Ed25519PublicKey


def generate() -> dict[str, str]:
    """A fresh set of archive keys as HOCBA_* values (for development and tests; production keys are issued)."""
    identity = pyrage.x25519.Identity.generate()
    signing = Ed25519PrivateKey.generate()
    return {
        "HOCBA_ARCHIVE_RECIPIENT": str(identity.to_public()),
        "HOCBA_ARCHIVE_IDENTITY": str(identity),
        "HOCBA_ARCHIVE_SIGNING_KEY": base64.b64encode(signing.private_bytes_raw()).decode(),
        "HOCBA_ARCHIVE_VERIFY_KEY": public_text(signing.public_key()),
    }


def public_text(key: Ed25519PublicKey) -> str:
    return base64.b64encode(key.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


def export_keys(recipient: str | None, signing_key: str | None) -> ExportKeys:
    if not recipient:
        raise KeyProblem("HOCBA_ARCHIVE_RECIPIENT (the custodian's age public key) is not set")
    if not signing_key:
        raise KeyProblem("HOCBA_ARCHIVE_SIGNING_KEY (the platform's Ed25519 archive key) is not set")
    try:
        parsed_recipient = pyrage.x25519.Recipient.from_str(recipient.strip())
    except Exception as error:  # pyrage raises its own RecipientError or ValueError by version
        raise KeyProblem(f"HOCBA_ARCHIVE_RECIPIENT is not an age X25519 public key ({error})") from None
    try:
        parsed_key = Ed25519PrivateKey.from_private_bytes(base64.b64decode(signing_key, validate=True))
    except ValueError as error:
        raise KeyProblem(f"HOCBA_ARCHIVE_SIGNING_KEY is not a base64 Ed25519 key ({error})") from None
    return ExportKeys(parsed_recipient, parsed_key)


def import_keys(identity: str | None, verify_key: str | None) -> ImportKeys:
    if not identity:
        raise KeyProblem("HOCBA_ARCHIVE_IDENTITY (the custodian's age secret key) is not set")
    if not verify_key:
        raise KeyProblem("HOCBA_ARCHIVE_VERIFY_KEY (the platform's Ed25519 public archive key) is not set")
    try:
        parsed_identity = pyrage.x25519.Identity.from_str(identity.strip())
    except Exception as error:  # the message never contains the key
        raise KeyProblem(
            f"HOCBA_ARCHIVE_IDENTITY is not an age X25519 secret key ({type(error).__name__})"
        ) from None
    try:
        parsed_key = Ed25519PublicKey.from_public_bytes(base64.b64decode(verify_key, validate=True))
    except ValueError as error:
        raise KeyProblem(f"HOCBA_ARCHIVE_VERIFY_KEY is not a base64 Ed25519 public key ({error})") from None
    return ImportKeys(parsed_identity, parsed_key)


def sign(key: Ed25519PrivateKey, manifest: bytes) -> bytes:
    return key.sign(manifest)


def signature_valid(key: Ed25519PublicKey, manifest: bytes, signature: bytes) -> bool:
    try:
        key.verify(signature, manifest)
    except InvalidSignature:
        return False
    return True


def _signed_message(ciphertext_digest: bytes) -> bytes:
    return MAGIC + ciphertext_digest


def seal_to(out: Path, plain: IO[bytes], keys: ExportKeys) -> None:
    """Encrypt ``plain`` and sign the result into ``out``, readable by its owner only (0600 from creation, also
    when it existed)."""
    with tempfile.TemporaryFile() as encrypted:
        pyrage.encrypt_io(plain, encrypted, [keys.recipient])
        encrypted.seek(0)
        digest = hashlib.file_digest(encrypted, "sha256").digest()
        signature = keys.signing_key.sign(_signed_message(digest))
        encrypted.seek(0)
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.fchmod(fd, 0o600)  # an existing file keeps its old mode through O_CREAT
        with os.fdopen(fd, "wb") as sink:
            sink.write(MAGIC + signature)
            shutil.copyfileobj(encrypted, sink, 1 << 20)


def verified_copy(path: Path, verify_key: Ed25519PublicKey) -> IO[bytes]:
    """The age file inside ``path``, copied to an unlinked temporary file (what is decrypted is what was checked),
    once its signature is the platform's; NotSigned before anything else is read from it."""
    with path.open("rb") as source:
        head = source.read(len(MAGIC) + SIGNATURE_SIZE)
        if len(head) < len(MAGIC) + SIGNATURE_SIZE or not head.startswith(MAGIC):
            raise NotSigned("not a signed year archive")
        copy = tempfile.TemporaryFile()  # noqa: SIM115 - the caller owns it
        digest = hashlib.sha256()
        while chunk := source.read(1 << 20):
            digest.update(chunk)
            copy.write(chunk)
    try:
        verify_key.verify(head[len(MAGIC) :], _signed_message(digest.digest()))
    except InvalidSignature:
        copy.close()
        raise NotSigned("its signature is not the platform's (altered, or signed with another key)") from None
    copy.seek(0)
    return copy


def decrypt_from(source: IO[bytes], sink: IO[bytes], identity: Any) -> None:
    """Decrypt the age file ``source`` into ``sink``; ValueError if it is not for this identity or a byte was
    altered."""
    try:
        pyrage.decrypt_io(source, sink, [identity])
    except Exception as error:  # pyrage.DecryptError, or OSError from its stream reader on a bad chunk
        raise ValueError(str(error) or type(error).__name__) from None
