"""JSON Schemas published for procedure authors (and, later, export readers)."""

from __future__ import annotations

from typing import Any

from escalate.procedure import Procedure

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"


def procedure_schema() -> dict[str, Any]:

    schema = Procedure.model_json_schema(mode="validation")
    return {
        "$schema": SCHEMA_DIALECT,
        "$id": "https://escalate.invalid/schema/procedure-1.json",
        "title": "escalate procedure file (format 1)",
        "description": "One local safeguarding partnership's escalation procedure, written in TOML. "
        "See procedures/TEMPLATE.toml and docs/procedure-format.md.",
        **{k: v for k, v in schema.items() if k not in ("title", "description")},
    }
