"""The ``Trace`` service facade: every use case, checked once for tenancy and scope.

Transports (MCP, REST, CLI) call these methods with the :class:`Principal` that
made the request. The facade checks the scope, scopes every storage call to the
principal's account, validates input against the stream's settings and writes a
version snapshot with every change, inside one unit of work.

``Trace`` is composed of one class per area, each in its own module; they all
extend ``_base.FacadeBase``, which holds the adapters and the one copy of the
scope and tenancy checks:

- ``_accounts``: accounts (administrative, no principal), ``principal_for``;
- ``_self_service``: the caller's own account (read, rename, password, export, import);
- ``_streams``: streams and their entry settings;
- ``_validation``: entry values against limits and the stream's settings, filters;
- ``_entries``: listing, reading and writing entries (a version per change);
- ``_search``: ranked search;
- ``_trash``: the trash, version history and purging;
- ``_attachments``: image attachments;
- ``_downloads``: their bytes as a stream, or a URL the blob store serves;
- ``_text``: the text checks every area shares.
"""

from __future__ import annotations

from trace_core.limits import Limits
from trace_core.service._accounts import AccountUseCases
from trace_core.service._base import SystemClock
from trace_core.service._downloads import DownloadUseCases
from trace_core.service._search import SearchUseCases
from trace_core.service._self_service import SelfServiceUseCases
from trace_core.service._streams import StreamUseCases
from trace_core.service._text import parse_mentions
from trace_core.service._trash import TrashUseCases

__all__ = ["Limits", "SystemClock", "Trace", "parse_mentions"]


class Trace(
    SelfServiceUseCases,
    AccountUseCases,
    StreamUseCases,
    SearchUseCases,
    TrashUseCases,
    DownloadUseCases,
):
    """The use cases of Trace. Every method taking a Principal checks scope and tenancy.

    Args:
        storage: opens units of work over the repositories.
        blobs: where attachment bytes are kept.
        search: ranked search; when None, ``search_entries`` falls back to
            substring matching in storage.
        clock: the time source (tests pass a fixed clock).
        limits: sizes and page limits.
        cursor_key: the key that signs page cursors (at least 16 bytes; the
            composition root loads it from a setting or the data directory);
            None for a random key, so cursors last as long as this facade.

    """
