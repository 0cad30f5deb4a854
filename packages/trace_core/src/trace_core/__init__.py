"""trace_core: the domain of Trace, usable in-process by any Python service.

Everything an embedder or adapter author needs is importable from here::

    from trace_core import EntryDraft, NotFoundError, Principal, Scope, Trace

- the facade: :class:`Trace` (every use case, a :class:`Principal` first),
  :class:`SystemClock`, :class:`Limits`;
- the model: entities (:class:`Account`, :class:`Stream`, :class:`Entry`, ...),
  the facade's inputs (:class:`NewStream`, :class:`EntryDraft`,
  :class:`EntryPatch`, :class:`EntryFilter`, ``UNSET``) and results;
- the arguments Structs a transport decodes requests into
  (:class:`CreateEntryArgs`, :class:`SearchEntriesArgs`, ...) and
  :func:`decode_arguments`;
- the errors (:class:`TraceError` and its subclasses);
- the ports an adapter implements (:class:`Storage`, :class:`BlobStore`,
  :class:`SearchIndex`, :class:`CredentialStore`, ...).

The modules behind them (``trace_core.model``, ``.ports``, ``.errors``,
``.service``, ``.inputs``, ...) stay importable. Names are imported on first
use (PEP 562 ``__getattr__``): ``import trace_core`` loads nothing, and code
that needs only the errors (the ``trace`` command's start-up) never imports
the facade. In-memory adapters and the port contract suites are in
:mod:`trace_core.testing`.
"""

import importlib

# Not ``typing.TYPE_CHECKING``: importing typing would be this module's only cost.
# Type checkers treat any name spelt TYPE_CHECKING as true.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from trace_core.credentials import CredentialStore
    from trace_core.errors import (
        AuthenticationError,
        ConflictError,
        InsufficientScopeError,
        InvalidInputError,
        NotFoundError,
        PermissionDeniedError,
        PlanRequiredError,
        RateLimitedError,
        TraceError,
        UnavailableError,
        VersionConflictError,
    )
    from trace_core.inputs import (
        AddAttachmentArgs,
        AttachmentArgs,
        CreateEntryArgs,
        CreateStreamArgs,
        DeleteEntryArgs,
        EntryFilterArgs,
        EntryHistoryArgs,
        EntrySettingsArgs,
        GetEntryArgs,
        GetStreamArgs,
        ListEntriesArgs,
        ListStreamsArgs,
        ListTrashArgs,
        RestoreEntryArgs,
        SearchEntriesArgs,
        UpdateEntryArgs,
        UpdateStreamArgs,
        decode_arguments,
    )
    from trace_core.limits import Limits
    from trace_core.model import (
        UNSET,
        Account,
        AccountProfile,
        Attachment,
        AttachmentChange,
        AttachmentRef,
        Entry,
        EntryDetail,
        EntryDraft,
        EntryFilter,
        EntryPatch,
        EntrySettings,
        EntryVersion,
        NewStream,
        Page,
        Principal,
        RatingType,
        Scope,
        SearchHit,
        SearchResult,
        Stream,
        StreamPatch,
        StreamSelector,
        TagCount,
        TrashPolicy,
        UnsetType,
        VersionAction,
        Via,
    )
    from trace_core.ports import (
        AccountRepository,
        AttachmentRepository,
        Authenticator,
        BlobStore,
        Clock,
        EntryRepository,
        ListPosition,
        ProgressCallback,
        SearchIndex,
        SearchRequest,
        Storage,
        StreamRepository,
        UnitOfWork,
        VersionRepository,
    )
    from trace_core.service import SystemClock, Trace

__all__ = [
    "UNSET",
    "Account",
    "AccountProfile",
    "AccountRepository",
    "AddAttachmentArgs",
    "Attachment",
    "AttachmentArgs",
    "AttachmentChange",
    "AttachmentRef",
    "AttachmentRepository",
    "AuthenticationError",
    "Authenticator",
    "BlobStore",
    "Clock",
    "ConflictError",
    "CreateEntryArgs",
    "CreateStreamArgs",
    "CredentialStore",
    "DeleteEntryArgs",
    "Entry",
    "EntryDetail",
    "EntryDraft",
    "EntryFilter",
    "EntryFilterArgs",
    "EntryHistoryArgs",
    "EntryPatch",
    "EntryRepository",
    "EntrySettings",
    "EntrySettingsArgs",
    "EntryVersion",
    "GetEntryArgs",
    "GetStreamArgs",
    "InsufficientScopeError",
    "InvalidInputError",
    "Limits",
    "ListEntriesArgs",
    "ListPosition",
    "ListStreamsArgs",
    "ListTrashArgs",
    "NewStream",
    "NotFoundError",
    "Page",
    "PermissionDeniedError",
    "PlanRequiredError",
    "Principal",
    "ProgressCallback",
    "RateLimitedError",
    "RatingType",
    "RestoreEntryArgs",
    "Scope",
    "SearchEntriesArgs",
    "SearchHit",
    "SearchIndex",
    "SearchRequest",
    "SearchResult",
    "Storage",
    "Stream",
    "StreamPatch",
    "StreamRepository",
    "StreamSelector",
    "SystemClock",
    "TagCount",
    "Trace",
    "TraceError",
    "TrashPolicy",
    "UnavailableError",
    "UnitOfWork",
    "UnsetType",
    "UpdateEntryArgs",
    "UpdateStreamArgs",
    "VersionAction",
    "VersionConflictError",
    "VersionRepository",
    "Via",
    "decode_arguments",
]

_EXPORTS: dict[str, tuple[str, ...]] = {
    # module: the public names it provides (the same as the imports above).
    "trace_core.credentials": ("CredentialStore",),
    "trace_core.errors": (
        "AuthenticationError",
        "ConflictError",
        "InsufficientScopeError",
        "InvalidInputError",
        "NotFoundError",
        "PermissionDeniedError",
        "PlanRequiredError",
        "RateLimitedError",
        "TraceError",
        "UnavailableError",
        "VersionConflictError",
    ),
    "trace_core.inputs": (
        "AddAttachmentArgs",
        "AttachmentArgs",
        "CreateEntryArgs",
        "CreateStreamArgs",
        "DeleteEntryArgs",
        "EntryFilterArgs",
        "EntryHistoryArgs",
        "EntrySettingsArgs",
        "GetEntryArgs",
        "GetStreamArgs",
        "ListEntriesArgs",
        "ListStreamsArgs",
        "ListTrashArgs",
        "RestoreEntryArgs",
        "SearchEntriesArgs",
        "UpdateEntryArgs",
        "UpdateStreamArgs",
        "decode_arguments",
    ),
    "trace_core.limits": ("Limits",),
    "trace_core.model": (
        "UNSET",
        "Account",
        "AccountProfile",
        "Attachment",
        "AttachmentChange",
        "AttachmentRef",
        "Entry",
        "EntryDetail",
        "EntryDraft",
        "EntryFilter",
        "EntryPatch",
        "EntrySettings",
        "EntryVersion",
        "NewStream",
        "Page",
        "Principal",
        "RatingType",
        "Scope",
        "SearchHit",
        "SearchResult",
        "Stream",
        "StreamPatch",
        "StreamSelector",
        "TagCount",
        "TrashPolicy",
        "UnsetType",
        "VersionAction",
        "Via",
    ),
    "trace_core.ports": (
        "AccountRepository",
        "AttachmentRepository",
        "Authenticator",
        "BlobStore",
        "Clock",
        "EntryRepository",
        "ListPosition",
        "ProgressCallback",
        "SearchIndex",
        "SearchRequest",
        "Storage",
        "StreamRepository",
        "UnitOfWork",
        "VersionRepository",
    ),
    "trace_core.service": ("SystemClock", "Trace"),
}
"""Which module provides each public name (a test keeps it equal to ``__all__``)."""

_SOURCE = {name: module for module, names in _EXPORTS.items() for name in names}


def __getattr__(name: str) -> object:
    """Import a public name on first use (PEP 562) and keep it in the module."""
    module = _SOURCE.get(name)
    if module is None:
        raise AttributeError(f"module 'trace_core' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
