"""`hocba export` and `hocba import`: a school year's data from every service as one archive, and restoring it.

Export reads each service's rows for the school year (``services/<service>/store/archive.py``), the sealed
documents and the audit chain (as the signed export of ``hocba audit export``), and writes a tar with a manifest
of hashes, signed with the platform's archive key and timestamped, encrypted to the custodian's public key and the
encrypted file signed again, into a file only its owner reads. Import checks the file's signature before it
decrypts or untars anything, then checks the rest before it writes anything, refuses a deployment that already
holds the year, restores each service in one transaction and verifies the restored audit chain.
"""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import IO, Annotated, Any

import typer
from rich.console import Console

from cli import archive_crypto as crypto
from cli import archive_format as fmt
from cli.options import School

console = Console(stderr=True)
SERVICES = ("gradebook", "transcript", "signing", "sync", "audit")


class ArchiveRefused(Exception):
    """The archive is not intact or cannot go into this deployment; nothing was written."""


def _stores() -> dict[str, ModuleType]:
    from services.audit.store import archive as audit
    from services.gradebook.store import archive as gradebook
    from services.signing.store import archive as signing
    from services.sync.store import archive as sync
    from services.transcript.store import archive as transcript

    return {
        "gradebook": gradebook,
        "transcript": transcript,
        "signing": signing,
        "sync": sync,
        "audit": audit,
    }


def _urls() -> dict[str, str]:
    from services.runtime.settings import get_settings

    return {service: get_settings().db_url(service) for service in SERVICES}


# --- export ---------------------------------------------------------------------------------------------------


def write_archive(
    out: Path,
    school_id: str,
    school_year: str,
    *,
    urls: Mapping[str, str],
    timestamper: Any,
    keys: crypto.ExportKeys,
) -> dict[str, Any]:
    """Write the encrypted archive (mode 0600); returns its manifest."""
    from sqlalchemy.orm import sessionmaker

    from services.audit.app.export import export as export_log
    from services.runtime.db import make_engine
    from services.runtime.timestamps import timestamp

    rows: dict[str, dict[str, list[dict[str, Any]]]] = {}
    audit_text: str | None = None
    for service, store in _stores().items():
        engine = make_engine(urls[service], pool_size=1, application_name="hocba-export")
        try:
            if service == "audit":
                # The signed file first: rows recorded after it are left out, so rows and file match. The whole
                # chain up to now: it verifies only from its first link, and a year's records can still change
                # after 31 July (supplementary assessment, amendments, transfers).
                try:
                    audit_text = export_log(sessionmaker(engine), timestamper, school_id)
                except ValueError:
                    audit_text = None
            with sessionmaker(engine)() as session:
                rows[service] = store.rows_for(session, school_id, school_year)
        finally:
            engine.dispose()
    audit_file = None
    if audit_text is not None:
        last = json.loads(audit_text.splitlines()[-1])["to"]
        for table in ("audit_entries", "audit_checkpoints"):
            rows["audit"][table] = [r for r in rows["audit"][table] if r["chain_seq"] <= last]
        audit_file = f"audit/{fmt.default_name(school_id, school_year).removesuffix('.tar')}.jsonl"

    files: dict[str, bytes] = {}
    blobs: dict[str, bytes] = {}
    for service, tables in rows.items():
        for table, table_rows in tables.items():
            files[fmt.table_file(service, table)] = fmt.rows_to_jsonl(table_rows, blobs)
    documents = _documents(rows["signing"], school_year, files)
    named = {fmt.sha256(content) for content in files.values()}
    for digest in sorted(set(blobs) - named):
        files[f"blobs/{digest}"] = blobs[digest]
    if audit_file is not None and audit_text is not None:
        files[audit_file] = audit_text.encode()

    counts = {service: {t: len(r) for t, r in tables.items()} for service, tables in rows.items()}
    created_at = datetime.now(UTC)
    manifest = fmt.build_manifest(school_id, school_year, created_at, files, counts, documents, audit_file)
    signature = crypto.sign(keys.signing_key, manifest)
    # The token covers the signature (as a CMS signature timestamp does): it dates the signed manifest.
    token = timestamp(timestamper, hashlib.sha256(signature).digest())
    members = [(fmt.MANIFEST, manifest), (fmt.MANIFEST_SIGNATURE, signature), (fmt.MANIFEST_TOKEN, token)]
    # The plain tar lives only in an unlinked temporary file: nothing readable is ever left on disk.
    with tempfile.TemporaryFile() as plain:
        with tarfile.open(fileobj=plain, mode="w") as tar:
            for name, content in [*members, *files.items()]:
                info = tarfile.TarInfo(name)
                info.size, info.mtime, info.mode = len(content), int(created_at.timestamp()), 0o600
                tar.addfile(info, io.BytesIO(content))
        plain.seek(0)
        crypto.seal_to(out, plain, keys)
    return fmt.parse_manifest(manifest)


def _documents(
    signing: Mapping[str, list[dict[str, Any]]], school_year: str, files: dict[str, bytes]
) -> list[dict[str, Any]]:
    """Each sealed year record's PDF and signed XML as files an inspector can open."""
    content = {row["sha256"]: bytes(row["content"]) for row in signing["documents"]}
    index = []
    for record in signing["signing_records"]:
        if record["status"] != "sealed" or not record["pdf_sha256"] or not record["xml_sha256"]:
            continue
        pdf_name, xml_name = fmt.document_names(record["student_id"], school_year, record["version"])
        files[pdf_name] = content[record["pdf_sha256"]]
        files[xml_name] = content[record["xml_sha256"]]
        index.append(
            {
                "year_record_id": record["year_record_id"],
                "student_id": record["student_id"],
                "version": record["version"],
                "pdf": pdf_name,
                "xml": xml_name,
            }
        )
    return index


# --- import ---------------------------------------------------------------------------------------------------


@dataclass
class Opened:
    """An archive whose manifest's timestamp and every file's hash were checked."""

    path: Path
    manifest: dict[str, Any]
    tar: tarfile.TarFile
    plain: IO[bytes]

    def close(self) -> None:
        self.tar.close()
        self.plain.close()

    def read(self, name: str) -> bytes:
        handle = self.tar.extractfile(name)
        assert handle is not None
        return handle.read()

    def blob(self, digest: str) -> bytes:
        for name, entry in self.manifest["files"].items():
            if entry["sha256"] == digest:
                return self.read(name)
        raise ArchiveRefused(f"{self.path}: a row refers to content {digest} that the archive does not hold")


def open_archive(path: Path, roots: list[Any], keys: crypto.ImportKeys) -> Opened:
    """Decrypt and check the archive; ArchiveRefused names the first thing that is not what it should be."""
    from services.runtime.timestamps import check_timestamp

    # The file's signature first: nothing anyone could have encrypted to the custodian is decrypted, parsed or
    # untarred unless the platform signed it.
    try:
        encrypted = crypto.verified_copy(path, keys.verify_key)
    except OSError as error:
        raise ArchiveRefused(f"{path}: not a readable archive ({error})") from None
    except crypto.NotSigned as error:
        raise ArchiveRefused(
            f"{path}: {error}: refused before decrypting (the file does not carry the platform's signature)"
        ) from None
    plain = tempfile.TemporaryFile()  # noqa: SIM115 - Opened owns it; import_archive closes it
    try:
        with encrypted:
            crypto.decrypt_from(encrypted, plain, keys.identity)
        plain.seek(0)
        tar = tarfile.open(fileobj=plain, mode="r:")  # noqa: SIM115 - as above
        members = {m.name: m for m in tar.getmembers()}
    except OSError as error:
        plain.close()
        raise ArchiveRefused(f"{path}: not a readable archive ({error})") from None
    except ValueError as error:  # age: another recipient's archive, or a byte altered anywhere in the file
        plain.close()
        raise ArchiveRefused(
            f"{path}: cannot be decrypted with this deployment's archive identity: altered, corrupted "
            f"or encrypted to someone else ({error})"
        ) from None
    except tarfile.TarError as error:
        plain.close()
        raise ArchiveRefused(f"{path}: not a readable archive ({error})") from None
    opened = Opened(path, {}, tar, plain)
    try:
        irregular = sorted(name for name, m in members.items() if not m.isfile())
        if irregular:
            raise ArchiveRefused(f"{path}: {irregular[0]} is not a regular file")
        if not {fmt.MANIFEST, fmt.MANIFEST_SIGNATURE, fmt.MANIFEST_TOKEN} <= set(members):
            raise ArchiveRefused(
                f"{path}: no {fmt.MANIFEST} with its signature and timestamp: not a year archive"
            )
        manifest_bytes, signature = opened.read(fmt.MANIFEST), opened.read(fmt.MANIFEST_SIGNATURE)
        if not crypto.signature_valid(keys.verify_key, manifest_bytes, signature):
            raise ArchiveRefused(
                f"{path}: {fmt.MANIFEST} does not carry the platform's signature (edited, or signed with "
                "another key)"
            )
        proof = check_timestamp(opened.read(fmt.MANIFEST_TOKEN), hashlib.sha256(signature).digest(), roots)
        if not proof.valid:
            raise ArchiveRefused(
                f"{path}: {fmt.MANIFEST_SIGNATURE} is not the one its timestamp covers ({proof.reason})"
            )
        try:
            opened.manifest = fmt.parse_manifest(manifest_bytes)
        except ValueError as error:
            raise ArchiveRefused(f"{path}: {fmt.MANIFEST}: {error}") from None
        found = {}
        for name in members:
            if name in (fmt.MANIFEST, fmt.MANIFEST_SIGNATURE, fmt.MANIFEST_TOKEN):
                continue
            found[name] = _digest(tar, name)
        problems = fmt.check_files(opened.manifest, found)
        if problems:
            raise ArchiveRefused(
                f"{path}: {problems[0]}" + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else "")
            )
    except ArchiveRefused:
        opened.close()
        raise
    return opened


def _digest(tar: tarfile.TarFile, name: str) -> tuple[str, int]:
    """sha256 and size of one member, read in chunks (sealed PDFs add up)."""
    digest, size = hashlib.sha256(), 0
    handle = tar.extractfile(name)
    assert handle is not None
    while chunk := handle.read(1 << 20):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def _rows(opened: Opened) -> dict[str, dict[str, list[dict[str, Any]]]]:
    rows: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for service, store in _stores().items():
        rows[service] = {}
        for table, _ in store.TABLES:
            name = fmt.table_file(service, table.name)
            if name not in opened.manifest["files"]:
                raise ArchiveRefused(f"{opened.path}: {name} is missing")
            try:
                rows[service][table.name] = fmt.jsonl_to_rows(table, opened.read(name), opened.blob)
            except (ValueError, KeyError, TypeError) as error:
                raise ArchiveRefused(f"{opened.path}: {name}: unreadable rows ({error})") from None
    return rows


def _check_audit(opened: Opened, rows: list[dict[str, Any]], roots: list[Any]) -> None:
    """The signed audit file is intact and genuine, and the audit rows are exactly its entries."""
    from services.audit.app.export import verify_file

    name = opened.manifest.get("audit")
    if name is None:
        if rows:
            raise ArchiveRefused(f"{opened.path}: audit rows without the signed audit file")
        return
    text = opened.read(name).decode()
    problem = verify_file(text, roots)
    if problem is not None:
        raise ArchiveRefused(f"{opened.path}: {name}: broken at {problem.seq}: {problem.reason}")
    signed = [(item["seq"], item["hash"]) for item in map(json.loads, text.splitlines()[:-1])]
    if signed != sorted((row["chain_seq"], row["entry_hash"]) for row in rows):
        raise ArchiveRefused(f"{opened.path}: the audit rows are not the entries of the signed {name}")


def import_archive(
    path: Path, *, urls: Mapping[str, str], roots: list[Any], keys: crypto.ImportKeys
) -> dict[str, Any]:
    """Check, then restore the archive; returns the manifest and the restored row counts (``restored``)."""
    from sqlalchemy.exc import DBAPIError
    from sqlalchemy.orm import Session, sessionmaker

    from services.runtime.db import make_engine

    opened = open_archive(path, roots, keys)
    try:
        manifest = opened.manifest
        rows = _rows(opened)
        _check_audit(opened, rows["audit"]["audit_entries"], roots)
    finally:
        opened.close()
    school, year = manifest["school_id"], manifest["school_year"]
    stores = _stores()
    engines = {s: make_engine(urls[s], pool_size=1, application_name="hocba-import") for s in SERVICES}
    sessions: dict[str, Session] = {}
    try:
        sessions = {s: sessionmaker(engines[s])() for s in SERVICES}
        problems = []
        for service, store in stores.items():
            if service == "audit":
                problems += store.conflicts(sessions[service], rows[service])
            else:
                problems += [
                    f"{service} already holds {t} of {school} in {year}"
                    for t in store.held(sessions[service], school, year)
                ]
        if problems:
            raise ArchiveRefused(f"{path}: not imported, nothing written: " + "; ".join(problems))
        try:
            restored = {
                service: store.restore(sessions[service], rows[service]) for service, store in stores.items()
            }
        except DBAPIError as error:
            # Parameters are hidden by make_engine: the message names the constraint, never a person's data.
            raise ArchiveRefused(
                f"{path}: not imported, nothing written: the database refused a row ({error.orig})"
            ) from None
        # Every service's transaction holds its rows before the first commits: a failure writes nothing.
        for service in SERVICES:
            sessions[service].commit()
    finally:
        for session in sessions.values():
            session.close()
        for engine in engines.values():
            engine.dispose()
    return {**manifest, "restored": restored}


# --- commands -------------------------------------------------------------------------------------------------


def _secret(value: Any) -> str | None:
    return None if value is None else str(value.get_secret_value())


def export_command(
    school: School,
    year: Annotated[str, typer.Option(help="School year, e.g. 2025-2026")],
    out: Annotated[
        Path | None, typer.Option(help="Archive file (default ./hocba-<school>-<year>.tar.age)")
    ] = None,
) -> None:
    """Write a school year's data (every service's rows, sealed PDFs and XML, the signed audit log) to one archive,
    encrypted to HOCBA_ARCHIVE_RECIPIENT and signed with HOCBA_ARCHIVE_SIGNING_KEY."""
    from pyhanko.sign.timestamps.common_utils import TimestampRequestError

    from services.runtime.settings import get_settings
    from services.runtime.timestamps import HttpxTimeStamper

    settings = get_settings()
    try:
        keys = crypto.export_keys(settings.archive_recipient, _secret(settings.archive_signing_key))
    except crypto.KeyProblem as problem:
        typer.echo(f"{problem}; nothing written", err=True)
        raise typer.Exit(1) from None
    target = out or Path(fmt.default_name(school, year).removesuffix(".tar") + crypto.SUFFIX)
    try:
        manifest = write_archive(
            target, school, year, urls=_urls(), timestamper=HttpxTimeStamper(settings.tsa_url), keys=keys
        )
    except TimestampRequestError as error:
        typer.echo(f"the timestamp authority did not answer ({error}); nothing written", err=True)
        raise typer.Exit(1) from None
    rows = sum(n for tables in manifest["rows"].values() for n in tables.values())
    if rows == 0:
        target.unlink()
        typer.echo(f"no data for school {school} in {year}; nothing written", err=True)
        raise typer.Exit(1)
    console.print(
        f"{target}: {rows} rows, {len(manifest['documents'])} sealed year records, "
        f"audit log {'included' if manifest['audit'] else 'empty'}"
    )


def import_command(
    file: Annotated[Path, typer.Argument(help="An archive written by hocba export")],
) -> None:
    """Restore an archive into this deployment: the file's signature checked against HOCBA_ARCHIVE_VERIFY_KEY before
    anything is decrypted, then decrypted with HOCBA_ARCHIVE_IDENTITY, its manifest's signature and every hash
    checked; refused if the school year is here."""
    from cli.audit import chain_results
    from services.runtime.db import make_engine
    from services.runtime.settings import get_settings
    from services.runtime.trust import trust_roots

    settings = get_settings()
    roots, urls = trust_roots(settings), _urls()
    try:
        keys = crypto.import_keys(_secret(settings.archive_identity), settings.archive_verify_key)
        result = import_archive(file, urls=urls, roots=roots, keys=keys)
    except (ArchiveRefused, crypto.KeyProblem) as refused:
        typer.echo(str(refused), err=True)
        raise typer.Exit(1) from None
    rows = sum(n for tables in result["restored"].values() for n in tables.values())
    console.print(f"{file}: {result['school_id']} {result['school_year']} restored ({rows} rows written)")
    engine = make_engine(urls["audit"], pool_size=1)
    try:
        checked = chain_results(engine, roots, result["school_id"])
    finally:
        engine.dispose()
    for chain, last_seq, problem in checked:
        if problem is not None:
            typer.echo(f"restored audit chain {chain} is broken at {problem.seq}: {problem.reason}", err=True)
            raise typer.Exit(1)
        console.print(f"audit chain {chain}: {last_seq} entries, intact")
