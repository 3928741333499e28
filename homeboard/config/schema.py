"""The JSON Schema of the config file, made from the same field definitions."""

from __future__ import annotations

import dataclasses
import typing
from datetime import time, timedelta
from pathlib import Path
from typing import Any, Literal

from homeboard.config.fields import _Meta
from homeboard.config.models import Config
from homeboard.config.reader import _fields, _is_model, _optional
from homeboard.config.values import DURATION_PATTERN, TIME_PATTERN, format_duration

SCHEMA_ID = "urn:homeboard:config:1"


def _json_default(value: Any) -> Any:
    if isinstance(value, timedelta):
        return format_duration(value)
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, tuple):
        return [_json_default(v) for v in value]
    return value


def _type_schema(tp: Any, meta: _Meta | None, defs: dict[str, Any]) -> dict[str, Any]:
    inner = _optional(tp)
    if inner is not None:
        return _nullable(_type_schema(inner, meta, defs))
    extra: dict[str, Any] = {}
    for rule in meta.checks if meta is not None else ():
        extra.update(rule.schema())
    if _is_model(tp):
        name = tp.__name__
        if name not in defs:
            defs[name] = {}  # placeholder first, in case a model refers back to itself
            defs[name] = _object_schema(tp, defs)
        return {"$ref": f"#/$defs/{name}"}
    origin = typing.get_origin(tp)
    if origin is tuple:
        return {"type": "array", "items": _type_schema(typing.get_args(tp)[0], meta, defs)}
    if origin is Literal:
        return {"type": "string", "enum": list(typing.get_args(tp)), **extra}
    if tp is timedelta:
        # A bare number is seconds; `within` can bound it, but not the "15m" form.
        number: dict[str, Any] = {"type": "integer", "minimum": extra.get("minimum", 0)}
        if "maximum" in extra:
            number["maximum"] = extra["maximum"]
        return {"anyOf": [{"type": "string", "pattern": DURATION_PATTERN}, number]}
    if tp is time:
        return {"type": "string", "pattern": TIME_PATTERN}
    simple = {str: "string", Path: "string", int: "integer", float: "number", bool: "boolean"}
    return {"type": simple[tp], **extra}


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """`schema`, or null. A plain `type` list keeps validation messages precise."""
    if "type" in schema and "$ref" not in schema:
        out = {**schema, "type": [schema["type"], "null"]}
        if "enum" in out:
            out["enum"] = [*out["enum"], None]
        return out
    if "anyOf" in schema:
        return {**schema, "anyOf": [*schema["anyOf"], {"type": "null"}]}
    return {"anyOf": [schema, {"type": "null"}]}


def _object_schema(cls: type, defs: dict[str, Any]) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    required = []
    for f in _fields(cls):
        schema = _type_schema(f.type, f.meta, defs)
        # The reader takes null for "all defaults" of a section and "none" for a list.
        if (
            _optional(f.type) is None
            and not f.required
            and (_is_model(f.type) or typing.get_origin(f.type) is tuple)
        ):
            schema = _nullable(schema)
        schema["description"] = f.meta.doc
        if f.required:
            required.append(f.key)
        elif not dataclasses.is_dataclass(f.default):
            schema["default"] = _json_default(f.default)
        if f.meta.example is not None:
            schema["examples"] = [f.meta.example]
        properties[f.key] = schema
    out: dict[str, Any] = {
        "type": "object",
        "description": (cls.__doc__ or "").strip(),
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        out["required"] = required
    groups = getattr(cls, "_exactly_one", ())
    if groups:
        # Exactly one key of each group is given with a non-null value.
        out["allOf"] = [
            {
                "oneOf": [
                    {"required": [k], "properties": {k: {"not": {"type": "null"}}}} for k in group
                ]
            }
            for group in groups
        ]
    return out


def config_schema() -> dict[str, Any]:
    """A JSON Schema (draft 2020-12) of the config file, made from the same definitions."""
    defs: dict[str, Any] = {}
    root = _object_schema(Config, defs)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "Home Board configuration",
        **root,
        "$defs": defs,
    }
