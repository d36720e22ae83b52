"""JSON Schema of the scenario format, generated from the model (one source of truth)."""

from __future__ import annotations

from typing import Any

from simulator.scenario.model import Scenario

__all__ = ["scenario_json_schema", "SCHEMA_ID"]

SCHEMA_ID = "https://journeysim.dev/schema/scenario-v1.json"


def scenario_json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) for scenario YAML files, with aliases as keys."""
    schema = Scenario.model_json_schema(by_alias=True, mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = SCHEMA_ID
    schema["title"] = "journeysim scenario"
    schema["description"] = (
        "A journeysim scenario: population, systems, sync links, policies, messages, journeys and gates. "
        "Durations are seconds or strings like 30m/4h/2d; times are ISO 8601 with a zone."
    )
    return schema
