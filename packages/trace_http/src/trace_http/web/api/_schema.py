"""OpenAPI schemas of the request bodies and parameters that are core arguments Structs.

Litestar builds schemas from type annotations itself, and it cannot read a few
of the nested ``Annotated`` constraints the arguments Structs carry (a limit on
a text inside ``T | None`` with its own description). The schema of such a Struct
is msgspec's own (``msgspec.json.schema``, the one MCP clients are shown), with
its ``$ref``s inlined: generated from the same Struct that decodes the body.
"""

from __future__ import annotations

import functools
from typing import Any

import msgspec
from litestar.openapi.spec import Schema
from litestar.plugins import OpenAPISchemaPlugin
from litestar.typing import FieldDefinition

__all__ = ["ArgsSchemaPlugin"]

_REF = "#/$defs/"
_MODULES = ("trace_core.inputs", "trace_http.web.api._types")


def _inline(node: Any, defs: dict[str, Any]) -> Any:
    if isinstance(node, list):
        return [_inline(item, defs) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith(_REF):
        merged = {**_inline(defs[ref[len(_REF) :]], defs)}
        merged.update({k: _inline(v, defs) for k, v in node.items() if k != "$ref"})
        return merged
    return {key: _inline(value, defs) for key, value in node.items()}


@functools.cache
def struct_schema(struct: type[msgspec.Struct]) -> dict[str, Any]:
    """Return the Struct's JSON Schema with every reference inlined."""
    generated = msgspec.json.schema(struct)
    inlined: dict[str, Any] = _inline(generated, generated.get("$defs", {}))
    inlined.pop("$defs", None)
    return inlined


class ArgsSchemaPlugin(OpenAPISchemaPlugin):
    """Schemas of the core's arguments Structs (and bodies derived from them), by msgspec."""

    @staticmethod
    def is_plugin_supported_type(value: Any) -> bool:
        """Whether ``value`` is an arguments Struct or a body derived from one."""
        return (
            isinstance(value, type)
            and issubclass(value, msgspec.Struct)
            and value.__module__.startswith(_MODULES)
            and value.__name__.endswith(("Args", "Changes"))
        )

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: Any) -> Schema:
        """Return the Struct's schema (properties as msgspec writes them)."""
        raw = struct_schema(field_definition.annotation)
        return Schema(
            type=raw.get("type"),
            title=raw.get("title"),
            description=raw.get("description"),
            properties=raw.get("properties"),
            required=raw.get("required"),
            additional_properties=False,
        )
