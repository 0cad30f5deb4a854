"""What transports hand the facade: loose text parsed, and one arguments Struct per use case.

- :func:`parse_uuid`, :func:`parse_date`, :func:`parse_datetime`,
  :func:`split_tags` turn strings (JSON, CLI flags) into core values, naming the
  field on failure;
- the ``*Args`` Structs (one module per area: :mod:`.entries`, :mod:`.streams`,
  :mod:`.search`, :mod:`.attachments`, :mod:`.trash`) are the arguments of each
  use case as a transport receives them: their JSON Schema is what a client is
  shown (the MCP tools' input schemas), :func:`decode_arguments` checks a JSON
  object against them, and their ``to_*`` methods build the facade's inputs
  (``EntryFilter``, ``EntryDraft``, ``EntryPatch`` ...), so no transport
  converts by hand. They depend on nothing but msgspec and the core.
"""

from trace_core.inputs._decode import decode_arguments
from trace_core.inputs._parse import parse_date, parse_datetime, parse_uuid, split_tags
from trace_core.inputs._types import ArgsStruct, NoArgs, declared_literals, or_none
from trace_core.inputs.attachments import AddAttachmentArgs, AttachmentArgs, decode_base64
from trace_core.inputs.entries import (
    PATCHABLE,
    CreateEntryArgs,
    DeleteEntryArgs,
    EntryFilterArgs,
    EntryHistoryArgs,
    GetEntryArgs,
    ListEntriesArgs,
    UpdateEntryArgs,
)
from trace_core.inputs.search import FetchArgs, SearchArgs, SearchEntriesArgs
from trace_core.inputs.streams import (
    CreateStreamArgs,
    EntrySettingsArgs,
    GetStreamArgs,
    ListStreamsArgs,
    UpdateStreamArgs,
)
from trace_core.inputs.trash import ListTrashArgs, RestoreEntryArgs

__all__ = [
    "PATCHABLE",
    "AddAttachmentArgs",
    "ArgsStruct",
    "AttachmentArgs",
    "CreateEntryArgs",
    "CreateStreamArgs",
    "DeleteEntryArgs",
    "EntryFilterArgs",
    "EntryHistoryArgs",
    "EntrySettingsArgs",
    "FetchArgs",
    "GetEntryArgs",
    "GetStreamArgs",
    "ListEntriesArgs",
    "ListStreamsArgs",
    "ListTrashArgs",
    "NoArgs",
    "RestoreEntryArgs",
    "SearchArgs",
    "SearchEntriesArgs",
    "UpdateEntryArgs",
    "UpdateStreamArgs",
    "declared_literals",
    "decode_arguments",
    "decode_base64",
    "or_none",
    "parse_date",
    "parse_datetime",
    "parse_uuid",
    "split_tags",
]
