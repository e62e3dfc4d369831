"""A model's JSON, read once by the schema that constrained it.

The grammar built from a schema makes a model write JSON of that shape, but a cut-off
stream, a model without grammar support or a scripted reply can still hand back
anything. :func:`read` turns the text into exactly the schema's properties, each of its
declared type (a string, a list of strings, an object of strings), an absent or
mistyped value reading as empty; callers build their dataclass from that and never
look at raw JSON again.
"""

from __future__ import annotations

import json
from typing import Any

Value = str | list[str] | dict[str, str]


def _value(spec: dict[str, Any], raw: Any) -> Value:
    kind = spec.get("type")
    if kind == "array":
        items = raw if isinstance(raw, list) else []
        allowed = spec.get("items", {}).get("enum")
        kept = [str(i).strip() for i in items if isinstance(i, str) and str(i).strip()]
        kept = [i for i in kept if allowed is None or i in allowed]
        return kept[:spec.get("maxItems", len(kept))]
    if kind == "object":
        values = raw if isinstance(raw, dict) else {}
        return {key: str(_value(sub, values.get(key))) for key, sub in spec.get("properties", {}).items()}
    text = raw.strip() if isinstance(raw, str) else ""
    return text[:spec["maxLength"]] if "maxLength" in spec else text


def read(text: str, schema: dict[str, Any]) -> dict[str, Value] | None:
    """The schema's properties from a model's JSON text; None when the text is no JSON object."""
    try:
        raw = json.loads(text)
    except (ValueError, TypeError):
        return None
    if not isinstance(raw, dict):
        return None
    return {key: _value(spec, raw.get(key)) for key, spec in schema.get("properties", {}).items()}


def text(values: dict[str, Value], key: str) -> str:
    value = values.get(key, "")
    return value if isinstance(value, str) else ""


def texts(values: dict[str, Value], key: str) -> list[str]:
    value = values.get(key, [])
    return value if isinstance(value, list) else []


def fields(values: dict[str, Value], key: str) -> dict[str, str]:
    value = values.get(key, {})
    return value if isinstance(value, dict) else {}
