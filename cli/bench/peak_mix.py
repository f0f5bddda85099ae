"""`hocba bench peak`'s projection for a mix of records: how many signatures each kind of record has, and its share.

The run measures one kind of record (grade 8: 15 PDF signatures with the seal). The CPU that grows with
signatures (the signing service, its relay and its database) is divided by the signatures made; everything else
(entry, assembly, audit, sync, the broker) by the records. A record with ``k`` signatures then costs
``rest_per_record + k × per_signature``, and a mix costs the share-weighted sum of its kinds.
"""

from __future__ import annotations

from dataclasses import dataclass

# The sample schools' plans (sandbox/sample_school.py through transcript's plan_signatures, the seal counted): a
# primary record 9 steps (six subject steps, the homeroom teacher, the principal, the seal; a school whose homeroom
# teachers teach more has fewer, down to 3), a lower-secondary one 15 (twelve subject teachers, the homeroom
# teacher, the principal, the seal). Shares: Hà Nội-like, about 47 % of the year's records primary and 53 %
# secondary (grades 6–12, each counted as grade 8's plan) — an estimate; pass the Sở's figures with --mix.
DEFAULT_MIX = "primary=9:0.47,secondary=15:0.53"


@dataclass(frozen=True)
class Kind:
    name: str
    signatures: int  # PDF signatures per record, the school's seal included
    share: float


class BadMix(ValueError):
    pass


def parse_mix(text: str) -> list[Kind]:
    """``name=SIGNATURES:SHARE,…`` (shares summing to 1), e.g. ``primary=9:0.47,secondary=15:0.53``."""
    kinds = []
    try:
        for part in text.split(","):
            name, rest = part.split("=")
            signatures, share = rest.split(":")
            kinds.append(Kind(name.strip(), int(signatures), float(share)))
    except ValueError as error:
        raise BadMix(f"{text!r}: expected name=SIGNATURES:SHARE,… ({error})") from error
    if not kinds or any(k.signatures < 1 or not 0 < k.share <= 1 for k in kinds):
        raise BadMix(f"{text!r}: every kind needs at least one signature and a share in (0, 1]")
    if abs(sum(k.share for k in kinds) - 1) > 1e-6:
        raise BadMix(f"{text!r}: the shares sum to {sum(k.share for k in kinds):g}, not 1")
    return kinds


def signature_bound(name: str) -> bool:
    """The processes whose CPU grows with signatures: the signing service (replicas too), its relay, its database."""
    return name.split("#")[0] in ("signing", "signing-relay", "postgres signing")


@dataclass(frozen=True)
class Split:
    per_record: float  # CPU s of everything but signing, per record
    per_signature: float  # CPU s of signing per PDF signature

    def record(self, signatures: int) -> float:
        return self.per_record + signatures * self.per_signature


def split(
    processes: list[dict[str, object]], kinds: tuple[str, ...], net_cpu: float, records: int, signatures: int
) -> Split:
    """The run's net CPU (after the idle stack's) split into per record and per signature, in the proportions of the
    measured processes of ``kinds``."""
    counted = [p for p in processes if p["kind"] in kinds]
    measured = sum(float(str(p["cpu_s"])) for p in counted)
    signing = sum(float(str(p["cpu_s"])) for p in counted if signature_bound(str(p["name"])))
    scale = net_cpu / measured if measured else 0.0
    return Split(
        per_record=(measured - signing) * scale / records if records else 0.0,
        per_signature=signing * scale / signatures if signatures else 0.0,
    )


def mix_cpu_per_record(parts: Split, mix: list[Kind]) -> float:
    return sum(k.share * parts.record(k.signatures) for k in mix)
