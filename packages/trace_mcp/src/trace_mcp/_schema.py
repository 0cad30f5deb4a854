"""JSON Schema building blocks for tool inputs and outputs, and the argument checker.

Each tool's input schema is written once, here in plain dicts, and the same dict
both goes to clients in ``tools/list`` and checks the arguments of ``tools/call``
(:func:`check_arguments`). Only the subset of JSON Schema we write is checked:
``type`` (one or a list), ``enum``, ``minimum``/``maximum``, ``minLength``/
``maxLength``, ``items``, ``properties``/``required``/``additionalProperties``.
Failures raise :class:`~trace_core.errors.InvalidInputError` naming the argument
and, where there are any, the allowed values, exactly like core does.
"""

from __future__ import annotations

from typing import Any

from trace_core.errors import InvalidInputError, quote

__all__ = [
    "ABSENT",
    "Absent",
    "array_of",
    "check_arguments",
    "nullable",
    "obj",
    "portable",
]

Schema = dict[str, Any]


class Absent:
    """The marker for "argument not given" (distinct from an explicit ``null``)."""

    _instance: Absent | None = None

    def __new__(cls) -> Absent:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "ABSENT"

    def __bool__(self) -> bool:
        return False


ABSENT = Absent()


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


def nullable(schema: Schema) -> Schema:
    """Return ``schema`` that also accepts ``null``."""
    out = dict(schema)
    kind = out.get("type")
    if isinstance(kind, str):
        out["type"] = [kind, "null"]
    elif isinstance(kind, list) and "null" not in kind:
        out["type"] = [*kind, "null"]
    if "enum" in out and None not in out["enum"]:
        out["enum"] = [*out["enum"], None]
    return out


def array_of(items: Schema, **extra: Any) -> Schema:
    """Return an array schema of ``items``."""
    return {"type": "array", "items": items, **extra}


_JSON_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list, tuple),
    "object": (dict,),
    "null": (type(None),),
}


def _type_name(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list | tuple):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _matches(value: object, kind: str) -> bool:
    if kind in ("integer", "number") and isinstance(value, bool):
        return False
    if kind == "integer" and isinstance(value, float):
        return value.is_integer()
    return isinstance(value, _JSON_TYPES[kind])


def _coerce(field: str, value: object, kinds: list[str], schema: Schema) -> object:
    """Forgive the usual model slips: ``"20"`` for 20, ``"true"`` for true, ``"a,b"`` for a list."""
    if isinstance(value, str):
        text = value.strip()
        if "integer" in kinds:
            try:
                return int(text)
            except ValueError:
                pass
        if "number" in kinds:
            try:
                return float(text)
            except ValueError:
                pass
        if "boolean" in kinds and text.lower() in ("true", "false"):
            return text.lower() == "true"
        if "array" in kinds:
            # Counted before splitting: a huge "a,b,..." never becomes a huge list.
            items = text.count(",") + 1
            if "maxItems" in schema and items > schema["maxItems"]:
                raise InvalidInputError(
                    field, f"has {items:,} items; at most {schema['maxItems']:,}"
                )
            return [part.strip() for part in text.split(",") if part.strip()]
    if isinstance(value, float) and "integer" in kinds and value.is_integer():
        return int(value)
    return value


def _check(field: str, value: object, schema: Schema) -> object:
    kind = schema.get("type")
    kinds = [kind] if isinstance(kind, str) else list(kind or [])
    if kinds and not any(_matches(value, k) for k in kinds):
        value = _coerce(field, value, kinds, schema)
        if not any(_matches(value, k) for k in kinds):
            expected = " or ".join(k for k in kinds)
            raise InvalidInputError(field, f"must be {expected}, got {_type_name(value)}")
    if value is None:
        return None
    if "enum" in schema and value not in schema["enum"]:
        allowed = [v for v in schema["enum"] if v is not None]
        raise InvalidInputError(field, f"{quote(value)} is not allowed", allowed=allowed)
    if isinstance(value, int | float) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            raise InvalidInputError(
                field, f"must be at least {schema['minimum']:,}, got {quote(value)}"
            )
        if "maximum" in schema and value > schema["maximum"]:
            raise InvalidInputError(
                field, f"must be at most {schema['maximum']:,}, got {quote(value)}"
            )
        if kinds == ["integer"] or (kinds and "number" not in kinds and "integer" in kinds):
            value = int(value)
    if isinstance(value, str):
        # Length first: nothing else walks a string longer than its limit.
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            raise InvalidInputError(
                field, f"is {len(value):,} characters long; at most {schema['maxLength']:,}"
            )
        if "minLength" in schema and len(value.strip()) < schema["minLength"]:
            raise InvalidInputError(field, "must not be empty")
    if isinstance(value, list | tuple):
        items = schema.get("items")
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            raise InvalidInputError(
                field, f"has {len(value):,} items; at most {schema['maxItems']:,}"
            )
        if items is not None:
            value = [_check(f"{field}[{i}]", item, items) for i, item in enumerate(value)]
        else:
            value = list(value)
    if isinstance(value, dict) and "properties" in schema:
        value = _check_object(value, schema, prefix=f"{field}.")
    return value


def _name(name: str) -> str:
    # An unknown argument's name is the client's text: quote a short prefix only.
    return name if len(name) <= 64 else f"{name[:64]}…"


def _check_object(values: dict[str, Any], schema: Schema, *, prefix: str = "") -> dict[str, Any]:
    properties: dict[str, Schema] = schema.get("properties", {})
    if schema.get("additionalProperties") is False:
        unknown = next((name for name in values if name not in properties), None)
        if unknown is not None:
            raise InvalidInputError(
                f"{prefix}{_name(unknown)}",
                "is not an argument of this tool",
                allowed=list(properties),
            )
    for name in schema.get("required", []):
        if values.get(name) is None:
            raise InvalidInputError(f"{prefix}{name}", "is required")
    return {
        name: _check(f"{prefix}{name}", value, properties[name]) if name in properties else value
        for name, value in values.items()
    }


def check_arguments(arguments: dict[str, Any] | None, schema: Schema) -> dict[str, Any]:
    """Check ``arguments`` against an object ``schema``; return them normalised.

    Arguments that are not given stay absent (``args.get(name, ABSENT)``) so a
    tool can tell "not given" from an explicit ``null``. Defaults are the
    tool's to apply.

    Raises:
        InvalidInputError: an unknown or missing argument, or a value of the
            wrong type, outside its range or not among the allowed values.

    """
    return _check_object(dict(arguments or {}), schema)


_SHARED_KEYS = frozenset({"description", "default", "title", "examples"})


def portable(schema: Any) -> Any:
    """Return ``schema`` with every ``"type": [...]`` list rewritten as ``anyOf`` branches.

    Type lists are valid JSON Schema, but clients that map tool schemas onto a
    single-``type`` dialect (Gemini's function declarations) reject or mangle
    them. Each branch gets the keywords that constrain its type; ``description``
    and ``default`` stay on the outside. The checker keeps using the compact form.
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
