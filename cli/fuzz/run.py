"""schemathesis per operation, real tokens and ids: each answer checked (no server error, refusals Vietnamese problems)."""

from __future__ import annotations

import copy
import json
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import seed as hypothesis_seed

from cli.fuzz.seed import Mint, Seeds
from services.runtime.openapi import Route

SERVICES = ("gradebook", "transcript", "signing", "sync", "audit")
# Answers that say a dependency is down or not set up (the province's gateway: 502, 503), each a problem in
# Vietnamese: counted apart from server errors, which are the 500s of an unhandled exception and any 5xx that is not
# such a problem.
DEPENDENCY_STATUSES = frozenset({502, 503, 504})
# Letters only Vietnamese text has (a detail in English or an untranslated message has none of them).
_VIETNAMESE = re.compile(
    "[àáảãạăằắẳẵặâầấẩẫậđèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵ]", re.IGNORECASE
)


def routes_of(service: str) -> list[Route]:
    """The service's route table (what its OpenAPI document is generated from)."""
    from importlib import import_module

    return list(import_module(f"services.{service}.api").ROUTES)


def is_vietnamese(text: str) -> bool:
    return bool(_VIETNAMESE.search(text))


def problem_failure(response: Any) -> str | None:
    """Why a refusal (schemathesis's response: lower-case header names, a list of values each) is not a
    problem+json in Vietnamese, or None when it is one."""
    kind = (response.headers.get("content-type") or [""])[0].split(";")[0].strip()
    if kind != "application/problem+json":
        return f"{response.status_code} as {kind or 'no content type'}, not application/problem+json"
    try:
        body = response.json()
    except ValueError:
        return f"{response.status_code} problem+json that is not JSON"
    if not isinstance(body, dict) or body.get("status") != response.status_code:
        return f"{response.status_code} problem whose status is {body.get('status') if isinstance(body, dict) else body!r}"
    if not is_vietnamese(str(body.get("detail", ""))):
        return f"{response.status_code} problem whose detail is not Vietnamese: {body.get('detail')!r}"
    return None


@dataclass
class OperationReport:
    service: str
    label: str
    examples: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)

    server_errors: int = 0

    @property
    def only_404(self) -> bool:
        return set(self.statuses) <= {404}


@dataclass
class Report:
    operations: list[OperationReport]
    seconds: float

    @property
    def examples(self) -> int:
        return sum(o.examples for o in self.operations)

    @property
    def server_errors(self) -> int:
        return sum(o.server_errors for o in self.operations)

    def dependency_answers(self) -> dict[str, int]:
        """Operation → how many 502/503/504 problems it answered (a dependency down or not set up)."""
        return {
            f"{o.service} {o.label}": n
            for o in self.operations
            if (n := sum(c for s, c in o.statuses.items() if s in DEPENDENCY_STATUSES))
        }

    @property
    def failures(self) -> list[str]:
        return [f"{o.service} {o.label}: {f}" for o in self.operations for f in o.failures]

    def summary(self) -> dict[str, Any]:
        return {
            "operations": len(self.operations),
            "examples": self.examples,
            "server_errors": self.server_errors,
            "dependency_answers": self.dependency_answers(),
            "failures": len(self.failures),
            "only_404": [f"{o.service} {o.label}" for o in self.operations if o.only_404],
            "seconds": round(self.seconds, 1),
        }


def with_real_ids(document: dict[str, Any], seeds: Seeds) -> dict[str, Any]:
    """The document with each seeded path parameter, and each seeded body field, drawn from the school's real
    values: valid requests reach real rows (invalid ones, schemathesis's negative cases, still try any string)."""
    document = copy.deepcopy(document)
    for path, operations in document["paths"].items():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                values = seeds.values_for(path, parameter["name"])
                if parameter["in"] == "path" and values:
                    parameter["schema"] = {"type": "string", "enum": values}
    for schema in document.get("components", {}).get("schemas", {}).values():
        for name, values in seeds.body.items():
            if name in schema.get("properties", {}):
                schema["properties"][name] = {"type": "string", "enum": values}
    return document


def caller_headers(route: Route, seeds: Seeds, mint: Mint) -> dict[str, str]:
    """A token the route's roles allow, for the seeded school: the teacher of the class's Toán where marks are
    entered, its homeroom teacher where only they act, its principal otherwise; an operator's for operator routes."""
    school = seeds.school
    roles = [r for r in route.roles if r not in ("operator", "inspector")]
    if not roles:
        return {"Authorization": f"Bearer {mint('sys-op', ['operator'], None)}"}
    if "{subject_code}" in route.path or roles == ["teacher"]:
        user = school.teacher_of(seeds.class_id, "toan")
    elif "homeroom" in roles and "principal" not in roles:
        user = school.homeroom_of(seeds.class_id)
    else:
        user = school.principal_id
    return {"Authorization": f"Bearer {mint(user, roles, school.school_id)}"}


def fuzz_operation(
    operation: Any,
    base_url: str,
    headers: dict[str, str],
    report: OperationReport,
    max_examples: int,
    seed: int,
    session: requests.Session,
) -> None:
    """``max_examples`` valid and as many invalid requests for one operation; answers recorded in ``report``."""
    from schemathesis import GenerationMode

    def send(case: Any) -> None:
        response = case.call(base_url=base_url, headers=headers, session=session, timeout=30)
        report.examples += 1
        report.statuses[response.status_code] += 1
        where = f"{case.method} {case.formatted_path}"
        status = response.status_code
        why = problem_failure(response) if status >= 400 else None
        if status >= 500 and (why or status not in DEPENDENCY_STATUSES):
            report.server_errors += 1
            report.failures.append(f"server error {status} for {where}: {response.text[:300]}")
        elif why:
            report.failures.append(f"{why} ({where})")

    for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
        run = settings(
            max_examples=max_examples,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
            print_blob=False,
        )(hypothesis_seed(seed)(given(operation.as_strategy(generation_mode=mode))(send)))
        try:
            run()
        except Exception as error:  # noqa: BLE001 - an operation with nothing to make invalid, and the like
            if "Unsatisfiable" not in type(error).__name__ and "Unsatisfiable" not in str(error):
                report.failures.append(f"{mode.value}: {type(error).__name__}: {str(error)[:300]}")


def fuzz(
    urls: dict[str, str],
    seeds: Seeds,
    mint: Mint,
    max_examples: int = 5,
    seed: int = 0,
    services: tuple[str, ...] = SERVICES,
    progress: Callable[[OperationReport], None] | None = None,
) -> Report:
    """Every operation of every service in ``urls``, from the document it serves, against that service."""
    import schemathesis
    from schemathesis.core.result import Err

    started = time.monotonic()
    reports = []
    with requests.Session() as session:
        for service in services:
            served = session.get(f"{urls[service]}/openapi.json", timeout=30)
            served.raise_for_status()
            schema = schemathesis.openapi.from_dict(with_real_ids(json.loads(served.text), seeds))
            routes = {(r.method, r.path): r for r in routes_of(service)}
            for result in schema.get_all_operations():
                if isinstance(result, Err):  # an operation its own document describes wrongly
                    reports.append(OperationReport(service, "(document)", failures=[str(result.err())]))
                    continue
                operation = result.ok()
                report = OperationReport(service, operation.label)
                route = routes[(operation.method.upper(), operation.path)]
                headers = caller_headers(route, seeds, mint)
                fuzz_operation(operation, urls[service], headers, report, max_examples, seed, session)
                reports.append(report)
                if progress is not None:
                    progress(report)
    return Report(reports, time.monotonic() - started)
