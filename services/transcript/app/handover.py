"""A student's học bạ handed over to another school: the receiving school's học bạ continues it.

It continues the chain (its next record links to the sending school's last sealed one) and the lookup code: the
student keeps one học bạ and one lookup code for life (rules.md, "Cases every school has").
"""

from __future__ import annotations

from contracts.sync import TranscriptTransferredV1
from services.runtime.data_key import DataVault, Hashed, Sealed
from services.transcript.app.unit_of_work import TranscriptUnitOfWork
from services.transcript.domain.model import StudentKeys, new_lookup_code

CONSUMER = "transcript.handover"


def student_keys(vault: DataVault, moet_code: str | None, personal_id: str | None) -> StudentKeys:
    """How a handover finds this student: the MOET code, and the keyed hash of the personal ID (the current and the
    pre-rotation form, data_key.py) for a student the Ministry's database has not given a code yet."""
    hashes = vault.keyed_hashes(personal_id, Hashed.PERSONAL_ID_LOOKUP) if personal_id else ()
    return StudentKeys(moet_code, tuple(dict.fromkeys(hashes)))


def receive_handover(event: TranscriptTransferredV1, uow: TranscriptUnitOfWork, vault: DataVault) -> None:
    """Only the platform that assembled the sending school's records knows the student's MOET code, last record
    and lookup code; a transfer to or from a school elsewhere simply finds nothing here.

    The lookup code is read here from the sending school's học bạ, never carried by the event: it opens the
    child's record on the portal, and the bus need not carry it for the platform to know it.
    """
    # Only the sending school's own học bạ is handed over: an event naming another school's reads as unknown.
    transcript = uow.transcripts.transcript(event.transcript_id, event.from_school)
    last = uow.transcripts.last_record(event.transcript_id) if transcript else None
    if transcript is not None and last is not None:
        sealed_id = transcript.personal_id_enc
        # The sending học bạ's personal ID, as a keyed hash: the receiving school's records find the student by it
        # where neither school has a MOET code (the number itself never leaves the sealed column).
        personal_id = vault.decrypt(bytes(sealed_id), Sealed.PERSONAL_ID) if sealed_id else None
        uow.transcripts.add_handover(
            {
                "transcript_id": event.transcript_id,
                "to_school": event.to_school,
                "moet_code": transcript.moet_code,
                "school_year": last.school_year,
                "previous_record_sha256": last.xml_sha256,
                "lookup_code": transcript.lookup_code,
                "level": transcript.level,
                "personal_id_hash": vault.keyed_hash(personal_id, Hashed.PERSONAL_ID_LOOKUP)
                if personal_id
                else None,
            }
        )


def lookup_code_for(uow: TranscriptUnitOfWork, school_id: str, student: StudentKeys, level: str) -> str:
    """The lookup code a học bạ the school starts for the student now takes: the handed-over one, else a new one.

    Adopted when the receiving school first records the student, whichever route comes first (the year's lock or
    a digitised year): the latest handover to this school naming the student (by MOET code, or by the keyed hash of
    the personal ID: ``student_keys``; as the chain's link is found) at the same level, since a học bạ is one per level. Any year: unlike the link, which is to the year
    before, the code is the student's whatever year the school records first.

    The receiving school's học bạ stays its own row, with its own id, school and records: only the code, which the
    family holds and the portal opens, is shared, so the portal shows every school's years under it and each
    school's own listings and reads still show that school's records only. A học bạ the school had already started
    keeps its code: its records are printed and sealed with it.
    """
    return uow.transcripts.handed_over_code(school_id, student, level) or new_lookup_code()
