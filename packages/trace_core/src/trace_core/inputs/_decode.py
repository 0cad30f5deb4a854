"""Arguments decoded through their Struct, with errors that name the argument.

An arguments Struct (frozen, keyword-only, unknown fields forbidden, limits and
descriptions in ``msgspec.Meta``) is both what a client is shown (its JSON
Schema) and what checks what the client sends: :func:`decode_arguments` turns a
JSON object into the Struct with msgspec in strict mode. Two things happen
around msgspec, both read from the Struct's own types so they cannot drift
from it:

- before: the slips assistants make are forgiven where the type says what was
  meant (``"20"`` for an integer, ``20.0`` for an integer, ``"true"`` for a
  boolean, ``"a, b"`` for a list, which is counted against the list's limit
  before it is split); an unknown argument and a missing (or ``null``) required
  one are reported first, as they always were;
- after: a ``msgspec.ValidationError`` becomes an
  :class:`~trace_core.errors.InvalidInputError` naming the argument by its path
  (``entry_settings.types[2]``) with the allowed values or the limit, quoting at
  most a short prefix of the bad value; a text that must not be empty is
  refused when it is only spaces, as ``minLength`` was checked before.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import msgspec
import msgspec.inspect as mi

from trace_core.errors import InvalidInputError, quote
from trace_core.inputs._types import declared_literals

__all__ = ["decode_arguments"]

ArgsT = TypeVar("ArgsT", bound=msgspec.Struct)

_NAME_CHARS = 64
_TEXT_COERCIONS = frozenset({"integer", "number", "boolean", "array"})
_STEP = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]")


def decode_arguments(args_type: type[ArgsT], arguments: object) -> ArgsT:
    """Return ``arguments`` (a JSON object, or None for none) decoded as ``args_type``.

    Raises:
        InvalidInputError: an unknown or missing argument, or a value of the
            wrong type, outside its range, too long or not among the allowed
            values; ``field`` is the argument's path.

    """
    plan = _plan(args_type)
    if arguments is None:
        arguments = {}
    if not isinstance(arguments, Mapping):
        raise InvalidInputError("arguments", f"must be an object, got {_type_name(arguments)}")
    values = plan.normalise(arguments, "")
    if not values and plan.empty is not None:
        # No arguments: every field at its default, the same frozen Struct each time.
        return typing.cast(ArgsT, plan.empty)
    try:
        decoded = msgspec.convert(values, args_type, strict=True)
    except msgspec.ValidationError as exc:
        raise _translate(str(exc), plan, values, arguments) from None
    plan.refuse_blanks(decoded, "")
    if not values:
        plan.empty = decoded
    return decoded


# --- what a Struct's types allow -------------------------------------------------------


def _members(kind: mi.Type) -> list[mi.Type]:
    """Return the alternatives of a type (``str | None``: str and None), Meta unwrapped."""
    if isinstance(kind, mi.Metadata):
        return _members(kind.type)
    if isinstance(kind, mi.UnionType):
        return [m for member in kind.types for m in _members(member)]
    return [kind]


def _kind(member: mi.Type) -> str | None:
    """Return the JSON Schema type name of one alternative."""
    if isinstance(member, mi.StrType):
        return "string"
    if isinstance(member, mi.BoolType):
        return "boolean"
    if isinstance(member, mi.IntType):
        return "integer"
    if isinstance(member, mi.FloatType):
        return "number"
    if isinstance(member, mi.CollectionType):
        return "array"
    if isinstance(member, mi.StructType | mi.DictType):
        return "object"
    if isinstance(member, mi.NoneType):
        return "null"
    if isinstance(member, mi.LiteralType):
        kinds = {_type_name(value) for value in member.values}
        return kinds.pop() if len(kinds) == 1 else None
    return None


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
    name = _type_name(value)
    return name == kind or (kind == "number" and name == "integer")


@dataclass(frozen=True, slots=True)
class _Field:
    """One argument of a Struct, with what :meth:`_Plan.normalise` needs precomputed."""

    name: str
    type: mi.Type
    kinds: tuple[str, ...]
    text_coercions: frozenset[str]
    integral_floats: bool
    max_items: int | None
    nested: _Plan | None
    nonblank: bool
    nonblank_items: bool


class _Plan:
    """How to forgive, check and explain the arguments of one Struct type."""

    def __init__(self, info: mi.StructType) -> None:
        self.fields: dict[str, _Field] = {}
        self.required = tuple(f.encode_name for f in info.fields if f.required)
        for field in info.fields:
            members = _members(field.type)
            kinds = tuple(dict.fromkeys(k for k in map(_kind, members) if k is not None))
            lists = [m for m in members if isinstance(m, mi.CollectionType)]
            texts = [m for m in members if isinstance(m, mi.StrType)]
            items = [m.item_type for m in lists if isinstance(m.item_type, mi.StrType)]
            structs = [m for m in members if isinstance(m, mi.StructType)]
            self.fields[field.encode_name] = _Field(
                name=field.encode_name,
                type=field.type,
                kinds=kinds,
                text_coercions=frozenset()
                if "string" in kinds
                else _TEXT_COERCIONS.intersection(kinds),
                integral_floats="integer" in kinds and "number" not in kinds,
                max_items=lists[0].max_length if lists else None,
                nested=_plan_of(structs[0]) if structs else None,
                nonblank=any(t.min_length for t in texts),
                nonblank_items=any(t.min_length for t in items),
            )
        self.literals = declared_literals(info.cls)
        self.empty: msgspec.Struct | None = None
        self.blank_checked = tuple(
            f for f in self.fields.values() if f.nonblank or f.nonblank_items or f.nested
        )

    def normalise(self, values: Mapping[str, Any], prefix: str) -> Mapping[str, Any]:
        """Refuse unknown and missing arguments; return ``values`` with the slips forgiven."""
        fields = self.fields
        for name in values:
            if name not in fields:
                shown = name if len(name) <= _NAME_CHARS else f"{name[:_NAME_CHARS]}…"
                raise InvalidInputError(
                    f"{prefix}{shown}", "is not an argument of this tool", allowed=list(fields)
                )
        for name in self.required:
            if values.get(name) is None:
                raise InvalidInputError(f"{prefix}{name}", "is required")
        changed: dict[str, Any] | None = None
        for name, value in values.items():
            field = fields[name]
            new = value
            if isinstance(value, str):
                if field.text_coercions:
                    new = _from_text(f"{prefix}{name}", value, field)
            elif type(value) is float:
                if field.integral_floats and value.is_integer():
                    new = int(value)
            elif field.nested is not None and isinstance(value, Mapping):
                new = field.nested.normalise(value, f"{prefix}{name}.")
            if new is not value:
                if changed is None:
                    changed = dict(values)
                changed[name] = new
        return values if changed is None else changed

    def refuse_blanks(self, args: msgspec.Struct, prefix: str) -> None:
        """Refuse a text of only spaces where the Struct asks for at least one character."""
        for field in self.blank_checked:
            value = getattr(args, field.name)
            if field.nonblank and isinstance(value, str) and not value.strip():
                raise InvalidInputError(f"{prefix}{field.name}", "must not be empty")
            if field.nonblank_items and isinstance(value, tuple | list):
                for i, item in enumerate(value):
                    if isinstance(item, str) and not item.strip():
                        raise InvalidInputError(f"{prefix}{field.name}[{i}]", "must not be empty")
            if field.nested is not None and isinstance(value, msgspec.Struct):
                field.nested.refuse_blanks(value, f"{prefix}{field.name}.")


_PLANS: dict[type[Any], _Plan] = {}


def _plan_of(info: mi.StructType) -> _Plan:
    plan = _PLANS.get(info.cls)
    if plan is None:
        plan = _PLANS[info.cls] = _Plan(info)
    return plan


def _plan(args_type: type[msgspec.Struct]) -> _Plan:
    plan = _PLANS.get(args_type)
    if plan is None:
        info = mi.type_info(args_type)
        assert isinstance(info, mi.StructType)
        plan = _plan_of(info)
    return plan


def _from_text(field: str, value: str, spec: _Field) -> object:
    """Read ``value`` as what the argument's type names: a number, a boolean, a list."""
    text = value.strip()
    if "integer" in spec.text_coercions:
        try:
            return int(text)
        except ValueError:
            pass
    if "number" in spec.text_coercions:
        try:
            return float(text)
        except ValueError:
            pass
    if "boolean" in spec.text_coercions and text.lower() in ("true", "false"):
        return text.lower() == "true"
    if "array" in spec.text_coercions:
        # Counted before splitting: a huge "a,b,..." never becomes a huge list.
        items = text.count(",") + 1
        if spec.max_items is not None and items > spec.max_items:
            raise InvalidInputError(field, f"has {items:,} items; at most {spec.max_items:,}")
        return [part.strip() for part in text.split(",") if part.strip()]
    return value


# --- msgspec's error, told as the argument's ----------------------------------------------


def _translate(
    message: str, plan: _Plan, values: Mapping[str, Any], given: Mapping[str, Any]
) -> InvalidInputError:
    """Turn msgspec's ``"<what> - at `$.path`"`` into an error naming the argument.

    ``values`` are the arguments with the slips forgiven (what msgspec saw);
    ``given`` are the arguments as sent, whose value the message quotes.
    """
    what, sep, where = message.rpartition(" - at `")
    if not sep or not where.endswith("`"):
        what, where = message, "$`"
    path = where[:-1]
    field = ""
    kind: mi.Type | None = None
    value: object = values
    sent: object = given
    current: _Plan | None = plan
    for name, index in _STEP.findall(path.removeprefix("$")):
        if name:
            spec = current.fields.get(name) if current is not None else None
            if spec is None or not isinstance(value, Mapping):
                return _fallback(field or name, what)
            field = f"{field}.{name}" if field else name
            kind, value, current = spec.type, value.get(name), spec.nested
            sent = sent.get(name) if isinstance(sent, Mapping) else None
        else:
            lists = [m for m in _members(kind) if isinstance(m, mi.CollectionType)] if kind else []
            if not lists or not isinstance(value, list | tuple) or int(index) >= len(value):
                return _fallback(field, what)
            field = f"{field}[{index}]"
            kind, value, current = lists[0].item_type, value[int(index)], None
            sent = (
                sent[int(index)]
                if isinstance(sent, list | tuple) and len(sent) > int(index)
                else None
            )
    if kind is None:
        return _object_error(what, current, field)
    # A whole float read as an integer is quoted as sent (1e+308, not its 309 digits).
    shown = sent if isinstance(sent, float) else value
    return _explain(field, value, shown, kind, plan.literals) or _fallback(field, what)


def _object_error(what: str, plan: _Plan | None, field: str) -> InvalidInputError:
    # Reported before msgspec runs (normalise); kept for an object msgspec reads first.
    found = re.search(r"field `(.*)`", what)
    prefix = f"{field}." if field else ""
    if found and plan is not None:
        name = found.group(1)[:_NAME_CHARS]
        if "unknown" in what:
            return InvalidInputError(
                f"{prefix}{name}", "is not an argument of this tool", allowed=list(plan.fields)
            )
        return InvalidInputError(f"{prefix}{name}", "is required")
    return _fallback(field or "arguments", what)


def _fallback(field: str, what: str) -> InvalidInputError:
    return InvalidInputError(field or "arguments", what if len(what) <= 120 else f"{what[:120]}…")


def _number(bound: float) -> str:
    return f"{int(bound):,}" if float(bound).is_integer() else f"{bound:,}"


def _explain(
    field: str,
    value: object,
    shown: object,
    kind: mi.Type,
    literals: dict[frozenset[Any], tuple[Any, ...]],
) -> InvalidInputError | None:
    """Say why ``value`` does not fit ``kind``, quoting ``shown`` (the value as sent)."""
    members = _members(kind)
    kinds = list(dict.fromkeys(k for k in map(_kind, members) if k is not None))
    if not any(_matches(value, k) for k in kinds):
        return InvalidInputError(field, f"must be {' or '.join(kinds)}, got {_type_name(value)}")
    member = next(m for m in members if _kind(m) is not None and _matches(value, str(_kind(m))))
    if isinstance(member, mi.LiteralType) and value not in member.values:
        allowed = literals.get(frozenset(member.values), member.values)
        return InvalidInputError(field, f"{quote(shown)} is not allowed", allowed=allowed)
    if isinstance(member, mi.IntType | mi.FloatType) and isinstance(value, int | float):
        low = member.ge if member.ge is not None else member.gt
        high = member.le if member.le is not None else member.lt
        if low is not None and not value >= low:
            return InvalidInputError(field, f"must be at least {_number(low)}, got {quote(shown)}")
        if high is not None and not value <= high:
            return InvalidInputError(field, f"must be at most {_number(high)}, got {quote(shown)}")
    if isinstance(member, mi.StrType) and isinstance(value, str):
        if member.max_length is not None and len(value) > member.max_length:
            return InvalidInputError(
                field, f"is {len(value):,} characters long; at most {member.max_length:,}"
            )
        if member.min_length is not None and len(value) < member.min_length:
            return InvalidInputError(field, "must not be empty")
    if (
        isinstance(member, mi.CollectionType)
        and isinstance(value, list | tuple)
        and member.max_length is not None
        and len(value) > member.max_length
    ):
        return InvalidInputError(field, f"has {len(value):,} items; at most {member.max_length:,}")
    return None
