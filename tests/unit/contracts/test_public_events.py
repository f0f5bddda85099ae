"""Nothing on hocba.public opens a child's record: every public model, found through the registry, is checked."""

from __future__ import annotations

import importlib
import pkgutil
import re
from collections.abc import Iterator
from typing import Any

import pytest
from pydantic import BaseModel, Field

import contracts
from contracts.envelope import ContractModel, EventModel
from contracts.registry import EVENT_MODELS

# A field named like this, or described like this, carries what opens a record or identifies a child.
FORBIDDEN_NAME = re.compile(r"lookup|personal|name|birth|dob|address|moet|cccd|phone|email", re.IGNORECASE)
FORBIDDEN_DESCRIPTION = re.compile(
    r"lookup|personal|\bnames?\b|birth|address|mã (số )?tra cứu|định danh|ngày sinh|họ (và )?tên|địa chỉ",
    re.IGNORECASE,
)


def public_models() -> list[type[BaseModel]]:
    return [m.PUBLIC_MODEL for m in EVENT_MODELS if m.PUBLIC_MODEL is not None]


def fields(schema: dict[str, Any]) -> Iterator[tuple[str, str, str]]:
    """(model, field, description) for every property of the schema and of every model nested in it."""
    definitions = {"": schema, **schema.get("$defs", {})}
    for model, definition in definitions.items():
        for name, prop in definition.get("properties", {}).items():
            yield model or schema.get("title", ""), name, prop.get("description", "")


def leaks(model: type[BaseModel]) -> list[str]:
    found = []
    for owner, name, description in fields(model.model_json_schema(mode="serialization")):
        if FORBIDDEN_NAME.search(name) or FORBIDDEN_DESCRIPTION.search(description):
            found.append(f"{owner}.{name}: {description}")
    return found


def test_the_registry_holds_every_event_model_of_the_contracts():
    """A new event that is not registered would escape the check below: the registry must know them all."""
    for module in pkgutil.iter_modules(contracts.__path__):
        importlib.import_module(f"contracts.{module.name}")

    def subclasses(cls: type) -> set[type]:
        return {s for c in cls.__subclasses__() for s in {c, *subclasses(c)}}

    defined = {m for m in subclasses(EventModel) if m.__module__.startswith("contracts.")}
    assert defined - set(EVENT_MODELS) == set()


def test_there_are_public_models_to_check():
    assert len(public_models()) >= 4


@pytest.mark.parametrize("model", public_models(), ids=lambda m: m.__name__)
def test_no_public_field_is_named_or_described_as_a_key_to_personal_data(model):
    assert leaks(model) == []


def test_an_event_publishes_only_through_its_declared_public_model():
    """The outbox publishes ``public_view()``; declaring the model (checked here, documented in AsyncAPI) and
    overriding the view go together, so no event reaches hocba.public unchecked."""
    for event in EVENT_MODELS:
        overrides = event.public_view is not EventModel.public_view
        assert overrides == (event.PUBLIC_MODEL is not None), event.__name__


class _Nested(ContractModel):
    full_name: str = Field(description="Student")
    born: str = Field(description="Ngày sinh")


class _LeakyPublic(ContractModel):
    school_id: str = Field(description="Opaque school id")
    code: str = Field(description="32-character lookup code printed on the record")
    student: _Nested = Field(description="Who")


def test_the_check_catches_a_lookup_code_and_a_nested_name_or_birth_date():
    assert sorted(leaks(_LeakyPublic)) == [
        "_LeakyPublic.code: 32-character lookup code printed on the record",
        "_Nested.born: Ngày sinh",
        "_Nested.full_name: Student",
    ]


def test_the_vendor_guide_names_every_public_event_and_each_of_its_fields():
    from pathlib import Path

    guide = (Path(__file__).resolve().parents[3] / "docs" / "vendors.md").read_text()
    for event in EVENT_MODELS:
        if event.PUBLIC_MODEL is None:
            continue
        row = next((line for line in guide.splitlines() if line.startswith(f"| `{event.ce_type()}`")), "")
        assert row, f"{event.ce_type()} missing from docs/vendors.md"
        documented = set(re.findall(r"`([a-z_]+)`", row.split("|")[3]))
        assert documented == set(event.PUBLIC_MODEL.model_fields), event.ce_type()
