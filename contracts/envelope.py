"""The CloudEvents 1.0 style envelope every event travels in, and the base of every event model."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from functools import cache
from typing import Any, ClassVar, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, model_validator

TYPE_PREFIX = "vn.hocba"
CONSUMER = {"consumer": True}


class ContractModel(BaseModel):
    """Strict for producers, tolerant for consumers.

    A producer building a model must not invent fields (a typo would vanish silently), while a consumer must
    accept fields added later within the same major version. Consumers validate with ``context=CONSUMER``;
    the context reaches nested models too, which a per-class ``extra`` setting could not do.
    """

    model_config = ConfigDict(extra="ignore", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _forbid_unknown_fields_for_producers(cls, value: Any, info: ValidationInfo) -> Any:
        if isinstance(value, dict) and not (info.context or {}).get("consumer"):
            known = set(cls.model_fields) | {f.alias for f in cls.model_fields.values() if f.alias}
            unknown = sorted(set(value) - known)
            if unknown:
                raise ValueError(f"unknown field(s) for {cls.__name__}: {', '.join(map(str, unknown))}")
        return value


class EventModel(ContractModel):
    """Base of every event payload: a versioned, self-describing contract."""

    # Set by each concrete event: its dotted name (`gradebook.term.locked`) and major version. The exchange is
    # the emitting service's `<service>.events`, so one event (audit.recorded) can come from every service.
    EVENT_NAME: ClassVar[str]
    VERSION: ClassVar[int] = 1
    # Services that emit it (documentation and topology; the audit event comes from every service).
    EMITTED_BY: ClassVar[tuple[str, ...]] = ()
    # The public projection's model, when vendors get one on hocba.public.
    PUBLIC_MODEL: ClassVar[type[BaseModel] | None] = None

    schema_version: int = Field(
        1, description="Major version of this payload's schema; equals the type's suffix"
    )

    @classmethod
    def routing_key(cls) -> str:
        """Routing key on the emitting service's `<service>.events` exchange, e.g. `gradebook.term.locked.v1`."""
        return f"{cls.EVENT_NAME}.v{cls.VERSION}"

    @classmethod
    def ce_type(cls) -> str:
        """CloudEvents `type`, e.g. `vn.hocba.gradebook.term.locked.v1`."""
        return f"{TYPE_PREFIX}.{cls.routing_key()}"

    def public_view(self) -> BaseModel | None:
        """What vendors may see on the public exchange: opaque ids only. None keeps the event internal."""
        return None


E = TypeVar("E", bound=BaseModel)


class Envelope(ContractModel, Generic[E]):
    """CloudEvents 1.0 attributes plus `schema_version`; `id` is the deduplication key end to end."""

    specversion: Literal["1.0"] = Field("1.0", description="CloudEvents specification version")
    id: uuid.UUID = Field(default_factory=uuid.uuid4, description="Unique event id; consumers dedupe on it")
    type: str = Field(description="CloudEvents type, e.g. vn.hocba.gradebook.term.locked.v1")
    source: str = Field(description="URI reference of the emitting service, e.g. /hocba/gradebook")
    time: datetime = Field(
        default_factory=lambda: datetime.now(UTC), description="When the event happened (UTC)"
    )
    subject: str | None = Field(None, description="What the event is about, e.g. class/<id>/term/hk1")
    datacontenttype: Literal["application/json"] = "application/json"
    schema_version: int = Field(description="Major version of `data`'s schema")
    correlationid: str | None = Field(None, description="Id shared by every event caused by one request")
    data: E = Field(description="The event payload")

    @classmethod
    def wrap(
        cls,
        event: EventModel,
        *,
        source_service: str,
        subject: str | None = None,
        correlation_id: str | None = None,
    ) -> Envelope[Any]:
        return envelope_type(type(event))(
            type=event.ce_type(),
            source=f"/hocba/{source_service}",
            subject=subject,
            schema_version=event.VERSION,
            correlationid=correlation_id,
            data=event,
        )

    def wire(self) -> dict[str, Any]:
        """Plain JSON types only: kombu's own encoding of datetime/UUID must never reach subscribers."""
        return self.model_dump(mode="json")


@cache
def envelope_type(model: type[E]) -> type[Envelope[E]]:
    return Envelope[model]  # type: ignore[valid-type]


def parse_envelope(model: type[E], body: Any) -> Envelope[E]:
    """Parse a received message body as a consumer: unknown fields added later are ignored."""
    return envelope_type(model).model_validate(body, context=CONSUMER)
