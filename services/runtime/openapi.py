"""OpenAPI 3.1 documents generated from a service's route table and pydantic request models."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

PROBLEM_SCHEMA = {
    "type": "object",
    "description": "RFC 9457 problem details: English title, Vietnamese detail",
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "object"}},
    },
    "required": ["type", "title", "status", "detail"],
}


@dataclass(frozen=True)
class Route:
    method: str
    path: str  # OpenAPI style: /classes/{class_id}
    summary: str
    body: type[BaseModel] | None
    roles: tuple[str, ...]
    description: str = ""
    query: type[BaseModel] | None = None


def openapi_document(title: str, version: str, routes: list[Route]) -> dict[str, Any]:
    models = sorted({r.body for r in routes if r.body is not None}, key=lambda m: m.__name__)
    refs, schemas = models_json_schema(
        [(m, "validation") for m in models], ref_template="#/components/schemas/{model}"
    )
    components = {**schemas.get("$defs", {}), "Problem": PROBLEM_SCHEMA}
    paths: dict[str, dict[str, Any]] = {}
    for route in routes:
        operation: dict[str, Any] = {
            "summary": route.summary,
            "description": " ".join(filter(None, [route.description, f"Roles: {', '.join(route.roles)}."])),
            "security": [{"bearer": []}],
            "parameters": [
                {"name": p, "in": "path", "required": True, "schema": {"type": "string"}}
                for p in re.findall(r"{(\w+)}", route.path)
            ]
            + query_parameters(route.query),
            "responses": {
                "200": {"description": "OK", "content": {"application/json": {"schema": {"type": "object"}}}},
                "default": {
                    "description": "Problem",
                    "content": {
                        "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
                    },
                },
            },
        }
        if route.body is not None:
            operation["requestBody"] = {
                "required": True,
                "content": {"application/json": {"schema": refs[(route.body, "validation")]}},
            }
        paths.setdefault(route.path, {})[route.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": title, "version": version},
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }


def query_parameters(model: type[BaseModel] | None) -> list[dict[str, Any]]:
    if model is None:
        return []
    schema = model.model_json_schema()
    required = set(schema.get("required", []))
    parameters = []
    for name, prop in schema["properties"].items():
        prop = dict(prop)
        description = prop.pop("description", None)
        prop.pop("title", None)
        parameter = {"name": name, "in": "query", "required": name in required, "schema": prop}
        if description:
            parameter["description"] = description
        parameters.append(parameter)
    return parameters


def werkzeug_path(path: str) -> str:
    """/classes/{class_id} → /classes/<string:class_id> (nameko's router syntax)."""
    return re.sub(r"{(\w+)}", r"<string:\1>", path)
