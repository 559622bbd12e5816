"""Our own strategy for schemathesis (loaded through SCHEMATHESIS_HOOKS): what its generators
avoid, added to the cases it generates for POST /predict, and what the service must answer.

schemathesis generates schema-valid and schema-invalid JSON, but never a lone UTF-16
surrogate, a field name of hundreds of kilobytes or a body that stops half-way. Each
positive case is kept as generated or turned into one of those; the kind is carried in a
header the service ignores, so that the check below knows what to expect:

- ``surrogate``: one field's value is a lone surrogate. A field the model uses gets a 422
  naming it; a column the schema declares ignored is accepted.
- ``huge-name``: an unknown field whose name is up to 300 KB. 422, and the answer stays small.
- ``stall``: the declared length is sent, then only part of the body. 408 once
  ``serve.body_timeout_seconds`` has passed (the test's service uses 2 s).

The OpenAPI schema cannot say "no lone surrogates", so schemathesis would count the refusals
of these generated-as-valid cases as "schema-valid request rejected": that failure alone is
dropped for them, and only for them, because the check below asks for more.
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import strategies as st
from schemathesis.core.failures import Failure

HOSTILE = "X-Hostile-Case"
# Drawn in these proportions: a stall costs the service's body timeout, so it is the rarest.
KINDS = ("as generated",) * 4 + ("surrogate",) * 3 + ("huge-name",) * 2 + ("stall",)
SURROGATES = ("\ud800", "\udfff", "a\udbff", "\udc00z")
MAX_ERROR_BYTES = 16_384


def _records(case: Any) -> list[dict] | None:
    body = case.body
    if not isinstance(body, dict) or not isinstance(body.get("records"), list):
        return None
    records = body["records"]
    if not records or not all(isinstance(record, dict) for record in records):
        return None
    return records


def _hostile(case: Any, draw: random.Random) -> Any:
    kind = draw.choice(KINDS)
    if kind == "as generated":
        return case
    records = [dict(record) for record in case.body["records"]]
    record = draw.choice(records)
    field = ""
    if kind == "surrogate" and record:
        field = draw.choice(sorted(record))
        record[field] = draw.choice(SURROGATES)
    elif kind == "huge-name":
        field = "x" * draw.randint(1_000, 300_000)
        record[field] = 1
    case.body = {**case.body, "records": records}
    case.headers = {**(case.headers or {}), HOSTILE: f"{kind}:{field[:20]}"}
    return case


@schemathesis.hook("flatmap_case").apply_to(path="/predict", method="POST")
def add_what_generators_avoid(context: Any, case: Any) -> Any:
    meta = case.meta
    if _records(case) is None or meta is None or not meta.generation.mode.is_positive:
        return st.just(case)
    # A Random from hypothesis (seeded by the run's --seed): choices uniform in KINDS,
    # where hypothesis' own integers and sampled_from lean hard on their first values.
    return st.builds(_hostile, st.just(case), st.randoms(use_true_random=False))


class _StalledBody:
    """A body that declares its full length but gives only its first part."""

    def __init__(self, payload: bytes) -> None:
        self._payload = payload
        self._sent = False

    def __len__(self) -> int:
        return len(self._payload)

    def read(self, _size: int = -1) -> bytes:
        if self._sent:
            return b""
        self._sent = True
        return self._payload[: len(self._payload) // 2]


def _kind(case: Any) -> tuple[str, str] | None:
    value = (case.headers or {}).get(HOSTILE)
    if not value:
        return None
    kind, _, field = value.partition(":")
    return kind, field


@schemathesis.hook
def before_call(context: Any, case: Any, kwargs: dict[str, Any]) -> None:
    hostile = _kind(case)
    if hostile and hostile[0] == "stall":
        kwargs["data"] = _StalledBody(json.dumps(case.body).encode())


def _ignored_columns(case: Any) -> set[str]:
    body = case.operation.definition.raw["requestBody"]["content"]["application/json"]["schema"]
    schema = case.operation.schema.raw_schema
    record = _resolve(schema, body)["properties"]["records"]["items"]
    properties = _resolve(schema, record)["properties"]
    return {
        name
        for name, spec in properties.items()
        if str(spec.get("description", "")).endswith("ignored")
    }


def _resolve(schema: dict, node: dict) -> dict:
    """Follow local `$ref`s (`#/components/schemas/Record`) to the node they name."""
    while "$ref" in node:
        target = schema
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


@schemathesis.check
def hostile_case_answered_as_promised(ctx: Any, response: Any, case: Any) -> bool | None:
    hostile = _kind(case)
    if hostile is None:
        return None
    kind, field = hostile
    status = response.status_code
    if kind == "stall":
        if status != 408:
            raise AssertionError(f"a stalled body got {status}, expected 408")
        return True
    if len(response.content) > MAX_ERROR_BYTES:
        raise AssertionError(f"{kind}: answer of {len(response.content)} bytes")
    if kind == "surrogate" and status == 200 and field in _ignored_columns(case):
        return True
    if status != 422:
        raise AssertionError(f"{kind} in {field[:20]!r}: got {status}, expected 422")
    named = {str(part) for problem in response.json()["detail"] for part in problem["loc"]}
    if not any(name.startswith(field[:20]) for name in named):
        raise AssertionError(f"{kind}: the 422 does not name {field[:20]!r}: {sorted(named)[:5]}")
    return True


@schemathesis.hook
def after_call(context: Any, case: Any, response: Any) -> None:
    """Tally each hostile case sent and its status in $HOSTILE_TALLY (the test reads it:
    a run whose strategy never fired must not pass as a fuzzing run)."""
    hostile, tally = _kind(case), os.environ.get("HOSTILE_TALLY")
    if hostile and tally:
        with Path(tally).open("a", encoding="utf-8") as lines:
            lines.write(f"{hostile[0]} {response.status_code}\n")


@schemathesis.hook
def filter_failure(context: Any, failure: Failure, case: Any, response: Any) -> bool:
    """Keep every failure except "schema-valid request rejected" on our hostile cases."""
    return not (_kind(case) and type(failure).__name__ == "RejectedPositiveData")
