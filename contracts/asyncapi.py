"""The AsyncAPI 3.0 document for subscribers, generated from the event models (checked in CI)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from contracts.envelope import envelope_type
from contracts.registry import EVENT_MODELS

PUBLIC_EXCHANGE = "hocba.public"

CE_HEADERS = {
    "type": "object",
    "description": "CloudEvents 1.0 AMQP binary-mode attributes",
    "properties": {
        "ce-specversion": {"type": "string", "const": "1.0"},
        "ce-id": {"type": "string", "format": "uuid", "description": "Unique event id; deduplicate on it"},
        "ce-type": {"type": "string"},
        "ce-source": {"type": "string"},
        "ce-time": {"type": "string", "format": "date-time"},
        "ce-subject": {"type": "string"},
        "ce-schemaversion": {"type": "string"},
    },
    "required": ["ce-specversion", "ce-id", "ce-type", "ce-source", "ce-time"],
}


def _binding(exchange: str) -> dict[str, Any]:
    return {
        "amqp": {
            "is": "routingKey",
            "exchange": {
                "name": exchange,
                "type": "topic",
                "durable": True,
                "autoDelete": False,
                "vhost": "/",
            },
            "bindingVersion": "0.3.0",
        }
    }


def _key(text: str) -> str:
    return text.replace(".", "_")


def public_description(model: type[BaseModel]) -> str:
    """Exactly what the public body holds, field by field, and what it never holds."""
    lines = [f"- `{name}`: {field.description}" for name, field in model.model_fields.items()]
    return (
        "The body holds exactly these fields (CloudEvents attributes travel as `ce-*` headers):\n"
        + "\n".join(lines)
        + "\n\nNever a lookup code, personal identification number, name or birth date: nothing here opens a "
        "child's record. Correlate on the opaque ids."
    )


def asyncapi_document(version: str = "1.0.0") -> dict[str, Any]:
    models: list[type[BaseModel]] = []
    for model in EVENT_MODELS:
        models.append(envelope_type(model))
        if model.PUBLIC_MODEL is not None:
            models.append(model.PUBLIC_MODEL)
    refs, schemas = models_json_schema(
        [(m, "serialization") for m in models], ref_template="#/components/schemas/{model}"
    )
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for model in EVENT_MODELS:
        internal = f"{model.__name__}"
        messages[internal] = {
            "name": internal,
            "title": model.ce_type(),
            "summary": (model.__doc__ or "").strip().splitlines()[0],
            "contentType": "application/json",
            "payload": refs[(envelope_type(model), "serialization")],
        }
        for service in model.EMITTED_BY:
            channel = _key(f"{service}.events.{model.routing_key()}")
            channels[channel] = {
                "address": model.routing_key(),
                "description": f"Internal: the whole envelope on the {service}.events exchange",
                "messages": {internal: {"$ref": f"#/components/messages/{internal}"}},
                "bindings": _binding(f"{service}.events"),
            }
            operations[f"send_{channel}"] = {"action": "send", "channel": {"$ref": f"#/channels/{channel}"}}
        if model.PUBLIC_MODEL is not None:
            public = f"{model.__name__}Public"
            messages[public] = {
                "name": public,
                "title": model.ce_type(),
                "summary": "For vendors: opaque ids only, CloudEvents binary mode",
                "description": public_description(model.PUBLIC_MODEL),
                "contentType": "application/json",
                "headers": CE_HEADERS,
                "payload": refs[(model.PUBLIC_MODEL, "serialization")],
            }
            channel = _key(f"public.{model.ce_type()}")
            channels[channel] = {
                "address": model.ce_type(),
                "description": f"Public: routing key = CloudEvents type on the {PUBLIC_EXCHANGE} exchange",
                "messages": {public: {"$ref": f"#/components/messages/{public}"}},
                "bindings": _binding(PUBLIC_EXCHANGE),
            }
            operations[f"send_{channel}"] = {"action": "send", "channel": {"$ref": f"#/channels/{channel}"}}
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Học bạ số — events",
            "version": version,
            "description": "Events of the digital school transcript platform. Vendors subscribe to hocba.public; "
            "a breaking change gets a new major version in the type (…v2) and both run side by side.",
        },
        "defaultContentType": "application/json",
        "servers": {"local": {"host": "127.0.0.1:5672", "protocol": "amqp", "protocolVersion": "0.9.1"}},
        "channels": channels,
        "operations": operations,
        "components": {"schemas": schemas.get("$defs", {}), "messages": messages},
    }
