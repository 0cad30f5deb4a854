"""The JSON Schemas of the tools: inputs generated from their arguments Structs, outputs written.

A tool's input schema is :func:`input_schema` of its arguments Struct (in
``trace_core.inputs``), the same Struct that decodes its arguments, so what a
client is shown and what is checked cannot drift apart (length caps and string
formats are checked but not published: see ``_UNPUBLISHED``). msgspec writes the
schema with ``$ref``/``$defs``; several MCP clients do not resolve references,
so it is inlined, and the Struct's class name and docstring (``title``,
``description`` at the top) are left out: the tool's own title and
description say it.

Output schemas are small and shallow (:func:`shape`): the top-level keys of an
answer and their JSON types, nothing nested. They cost every session's
``tools/list`` and every structured answer is validated against them by the
client, so they say what a program needs to find its way (which keys, which
types) and leave the meaning to the tool descriptions and ``get_docs``.
:func:`portable` rewrites any ``type`` list as ``anyOf`` branches for clients
that accept one ``type`` per schema.
"""

from __future__ import annotations

import functools
from typing import Any

import msgspec

from trace_core.inputs import declared_literals

__all__ = [
    "array_of",
    "checked_schema",
    "input_schema",
    "obj",
    "portable",
    "shape",
]

Schema = dict[str, Any]


@functools.cache
def _generated(args_type: type[msgspec.Struct], *, published: bool) -> Schema:
    generated = msgspec.json.schema(args_type)
    defs: dict[str, Schema] = generated.get("$defs", {})
    drop = _UNPUBLISHED if published else frozenset()
    top: Schema = _inline(generated, defs, declared_literals(args_type), drop)
    top.pop("title", None)
    top.pop("description", None)
    return top


def input_schema(args_type: type[msgspec.Struct]) -> Schema:
    """Return the self-contained JSON Schema of an arguments Struct as published (a fresh copy)."""
    schema: Schema = msgspec.json.decode(msgspec.json.encode(_generated(args_type, published=True)))
    return schema


def checked_schema(args_type: type[msgspec.Struct]) -> Schema:
    """Return the schema with every limit the decoder checks, caps and formats included."""
    schema: Schema = msgspec.json.decode(
        msgspec.json.encode(_generated(args_type, published=False))
    )
    return schema


_REF = "#/$defs/"

_NO_REAL_MAXIMUM = 1_000_000
_UNPUBLISHED = frozenset({"maxLength", "minLength", "maxItems", "minItems", "format"})
"""Keywords the decoder enforces but ``tools/list`` does not repeat.

Length and count caps and string formats cost every session's context for
something a model rarely needs up front: a value over a cap, or an id or day
that does not parse, is refused with an error naming the field and the limit
(``get_docs`` lists the limits). Numeric ranges, enums and defaults stay,
except a ``maximum`` of a million or more (a sentinel, not advice).
"""


def _inline(
    node: Any,
    defs: dict[str, Schema],
    literals: dict[frozenset[Any], Any],
    drop: frozenset[str] = frozenset(),
) -> Any:
    """Return ``node`` with every ``$ref`` replaced by its definition (keywords beside win).

    An ``enum`` (msgspec sorts a Literal's values) is put back in the order the
    Literal was written, the default first.
    """
    if isinstance(node, list):
        return [_inline(item, defs, literals, drop) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith(_REF):
        target = dict(defs[ref.removeprefix(_REF)])
        target.pop("title", None)
        beside = {k: v for k, v in node.items() if k != "$ref"}
        return _inline({**target, **beside}, defs, literals, drop)
    out: Schema = {}
    for key, value in node.items():
        if key == "properties":
            # A mapping of argument names (one is called "type"), not a schema.
            out[key] = {name: _inline(prop, defs, literals, drop) for name, prop in value.items()}
        elif key != "$defs" and key not in drop:
            out[key] = _inline(value, defs, literals, drop)
    if drop and isinstance(out.get("maximum"), int) and out["maximum"] >= _NO_REAL_MAXIMUM:
        del out["maximum"]  # a sentinel (offset, version), not advice
    if out.get("required") == []:
        del out["required"]
    enum = out.get("enum")
    if isinstance(enum, list) and enum:
        out["enum"] = enum = list(literals.get(frozenset(enum), enum))
    if "type" not in out and isinstance(enum, list) and enum:
        # msgspec states a Literal by its values only; a type beside them helps
        # clients that want one (Gemini's function declarations).
        kinds = {_json_type(value) for value in enum}
        if len(kinds) == 1:
            out["type"] = kinds.pop()
    return out


def _json_type(value: object) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    return "null" if value is None else "object"


def obj(
    properties: dict[str, Schema],
    *,
    required: tuple[str, ...] = (),
    additional: bool = False,
    description: str | None = None,
) -> Schema:
    """Return an object schema."""
    schema: Schema = {"type": "object", "properties": properties}
    if required:
        schema["required"] = list(required)
    if not additional:
        schema["additionalProperties"] = False
    if description:
        schema["description"] = description
    return schema


def shape(required: dict[str, str], optional: dict[str, str] | None = None) -> Schema:
    """Return a shallow object schema: each key with its JSON type, ``required`` ones required.

    Other keys are allowed (answers add optional keys such as ``note``).
    """
    props = {name: {"type": kind} for name, kind in {**required, **(optional or {})}.items()}
    schema: Schema = {"type": "object", "properties": props}
    if required:
        schema["required"] = list(required)
    return schema


def array_of(items: Schema, **extra: Any) -> Schema:
    """Return an array schema of ``items``."""
    return {"type": "array", "items": items, **extra}


_SHARED_KEYS = frozenset({"description", "default", "title", "examples"})


def portable(schema: Any) -> Any:
    """Return ``schema`` with every ``"type": [...]`` list rewritten as ``anyOf`` branches.

    Type lists are valid JSON Schema, but clients that map tool schemas onto a
    single-``type`` dialect (Gemini's function declarations) reject or mangle
    them. Each branch gets the keywords that constrain its type; ``description``
    and ``default`` stay on the outside.
    """
    if isinstance(schema, list):
        return [portable(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: portable(value) for key, value in schema.items()}
    kinds = out.get("type")
    if not isinstance(kinds, list):
        return out
    if len(kinds) == 1:
        out["type"] = kinds[0]
        return out
    outer = {key: value for key, value in out.items() if key in _SHARED_KEYS}
    inner = {key: value for key, value in out.items() if key not in _SHARED_KEYS | {"type"}}
    branches = []
    for kind in kinds:
        if kind == "null":
            branches.append({"type": "null"})
            continue
        branch: dict[str, Any] = {"type": kind}
        for key, value in inner.items():
            if key == "enum":
                value = [v for v in value if v is not None]
            if _applies(key, kind):
                branch[key] = value
        branches.append(branch)
    return {**outer, "anyOf": branches}


_TYPE_KEYWORDS = {
    "string": {"minLength", "maxLength", "format", "pattern", "enum"},
    "integer": {"minimum", "maximum", "enum"},
    "number": {"minimum", "maximum", "enum"},
    "boolean": {"enum"},
    "array": {"items", "maxItems", "minItems"},
    "object": {"properties", "required", "additionalProperties"},
}


def _applies(keyword: str, kind: str) -> bool:
    return keyword in _TYPE_KEYWORDS.get(kind, set())
