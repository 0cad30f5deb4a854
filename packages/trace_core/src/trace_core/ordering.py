"""The orders ``list_entries`` can sort by, defined once for every adapter.

A sort names a field, ascending, or descending with a leading ``-``:
``entry_date`` (then ``created_at``), ``updated``, ``due_date`` (entries without
one come last either way) and ``priority``. Ties break by ``entry_id`` in the
same direction, so an order is total and keyset paging (:class:`ListPosition`)
never skips or repeats an entry. :func:`sort_key` is the reference the SQL
adapter mirrors (``trace_sql.storage._entries``).
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any, Literal, get_args

if TYPE_CHECKING:
    from trace_core.model import Entry
    from trace_core.ports import ListPosition

__all__ = [
    "DEFAULT_SORT",
    "SORTS",
    "EntrySort",
    "descending",
    "position_key",
    "sort_key",
]

EntrySort = Literal[
    "-entry_date",
    "entry_date",
    "-updated",
    "updated",
    "-due_date",
    "due_date",
    "-priority",
    "priority",
]
"""A listing order: a field, ``-`` first for descending."""

SORTS: tuple[str, ...] = get_args(EntrySort)
DEFAULT_SORT: EntrySort = "-entry_date"
"""Newest ``entry_date`` first (then newest created): the order before sorts existed."""


def descending(sort: EntrySort) -> bool:
    """Whether ``sort`` runs from the largest value down."""
    return sort.startswith("-")


def _key(
    sort: EntrySort,
    entry_date: date,
    created_at: Any,
    entry_id: Any,
    updated_at: Any,
    due_date: date | None,
    priority: int | None,
) -> tuple[Any, ...]:
    field = sort.removeprefix("-")
    if field == "entry_date":
        return (entry_date, created_at, entry_id)
    if field == "updated":
        return (updated_at, entry_id)
    if field == "due_date":
        # No due date sorts after every date, ascending or descending.
        missing = date.min if descending(sort) else date.max
        return (due_date if due_date is not None else missing, entry_id)
    return (priority, entry_id)


def sort_key(entry: Entry, sort: EntrySort) -> tuple[Any, ...]:
    """Return ``entry``'s key in ``sort``; order by it, reversed when :func:`descending`."""
    return _key(
        sort,
        entry.entry_date,
        entry.created_at,
        entry.entry_id,
        entry.updated_at,
        entry.due_date,
        entry.priority,
    )


def position_key(position: ListPosition, sort: EntrySort) -> tuple[Any, ...]:
    """Return the key a cursor position stands at in ``sort`` (see :func:`sort_key`)."""
    return _key(
        sort,
        position.entry_date,
        position.created_at,
        position.entry_id,
        position.updated_at,
        position.due_date,
        position.priority,
    )
