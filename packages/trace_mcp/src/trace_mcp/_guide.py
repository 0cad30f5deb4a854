"""The guide ``get_docs`` returns: written for a model, short and exact."""

from __future__ import annotations

from trace_core.limits import (
    MAX_ATTACHMENT_BYTES,
    MAX_CHOICE_CHARS,
    MAX_CONTENT_BYTES,
    MAX_IMAGE_PIXELS,
    MAX_IMAGE_SIDE,
    MAX_OFFSET,
    MAX_QUERY_CHARS,
    MAX_TAG_CHARS,
    MAX_TAGS,
    MAX_TITLE_CHARS,
)
from trace_core.search import MAX_QUERY_TERMS

__all__ = ["GUIDE"]

_LIMITS = (
    f"A query is at most {MAX_QUERY_CHARS:,} characters (only its first {MAX_QUERY_TERMS} words "
    f"count); a title {MAX_TITLE_CHARS:,};\na tag {MAX_TAG_CHARS:,} characters and "
    f"{MAX_TAGS:,} tags per entry; a status or type {MAX_CHOICE_CHARS:,}; content "
    f"{MAX_CONTENT_BYTES:,} bytes.\nText holds no control characters except tabs and line "
    "breaks in content. A longer value is\nrefused, and the error says the limit. An image "
    f"is at most {MAX_ATTACHMENT_BYTES:,} bytes\n({MAX_ATTACHMENT_BYTES // 1024**2} MiB; the "
    f"server may set less), {MAX_IMAGE_SIDE:,} pixels a side and {MAX_IMAGE_PIXELS:,} pixels."
)

_TEXT = """\
# Trace — guide for assistants

Trace keeps a person's notes, journal and tasks. You read and write them with these tools
(this guide is `get_docs`):
- read: `search_entries`, `list_entries`, `get_entry`, `list_streams`, `get_stream`,
  `list_tags`, `list_trash`, `get_entry_history`, `get_attachment_data`,
  `get_attachment_url`, `search`, `fetch`;
- write (Full Access): `create_entry`, `update_entry`, `delete_entry`, `restore_entry`,
  `create_stream`, `update_stream`, `add_attachment`, `delete_attachment`.

## Data model
- **Stream**: a notebook (`stream_id`, `name`, `entry_count`). Each stream has
  `entry_settings`: which attributes its entries use (`use_rating`, `use_status`,
  `use_priority`, `use_type`, `use_duedates`, ...), the allowed `types` and `statuses`,
  `default_status`, and `rating_type` (`stars` = 0-5, halves allowed; `numeric` = 0-10).
- **Inbox**: entries without a stream (no `stream_id` in answers; pass `null` or
  `"inbox"` to mean it).
- **Entry**: `entry_id`, `stream_id`, `title` (optional), `content` (Markdown), `entry_date`
  (the day it is about, YYYY-MM-DD), `tags` (free strings without case: `Work`, `work` and
  `#work` are one tag, kept as first written), `status`, `type`, `priority`
  (0 none, 1 low, 2 medium, 3 high, 4 urgent), `rating`, `due_date`, `is_pinned`,
  `is_archived`, `mentions` (the @names in the content, read-only), `version` (+1 on every
  change), `last_edited_by` (which key or app wrote last).
- **Ratings** are given and shown in the stream's display units (`rating_scale`:
  `stars 0-5`, halves allowed, or `0-10`; 3 stars is stored as 6).
- Entries in answers are compact: a key that is empty, false, zero or null is left out
  (no `tags` = no tags, no `priority` = 0, `is_pinned` only when pinned).
- **Stream rules** come once per answer: `list_entries` and `search_entries` answer
  `streams: {stream_id: {name, uses, statuses, default_status, types, rating_scale}}`
  for the streams their entries name, `get_entry` answers `stream_context` in the same
  form. `uses` lists the optional fields the stream's entries take; the values are only
  there for fields it uses. Use them to write valid values.
- **Attachments**: images on an entry (ids in `get_entry`'s `attachments`); entries in
  `get_entry`, `list_entries` and `search_entries` answers say how many they have in
  `image_count` (left out when none).
- **History**: every write keeps a snapshot (`get_entry_history`). **Trash**: `delete_entry`
  moves an entry to the trash for 30 days (`list_trash`, `restore_entry`).

## Reading
- `search_entries {"query": "dentist appointment"}`: ranked full-text search, best first.
  Each hit has a `snippet` (the words found, in context), a `preview` (how the entry
  opens) and `content_length`, **not the content**: read the entries you need with
  `get_entry`, or pass `include_content: true` (or `content_limit: 500`) to get content
  in the hits. (The reference service returned content by default; here it is opt-in.)
  Words, plus what people already type: `"exact phrase"`, `-word` (or `-"a phrase"`) to
  leave out, `a OR b`; nothing else is syntax (punctuation is fine). `wifi` finds `Wi-Fi`,
  Chinese/Japanese/Korean words are found inside sentences, and the stream's name and the
  images' file names are searched too. A misspelt word that none of your entries has is
  also searched as your nearest words (`corrected` says which). `total` counts the entries
  with every word (up to 1,000; `total_more` says more match); when they are fewer than
  `limit`, entries with only some words fill the page, marked `relaxed`. A search that
  finds nothing answers `suggestions`.
  The best tool for "what did I write about X".
- `list_entries`: newest `entry_date` first, with filters: `stream_id`, `tags` (ANY of them;
  `tags_mode: "all"` for every tag), `status`, `type`, `is_archived` (default false;
  null = both), `is_pinned`, `start_date`/`end_date` (on `entry_date`, inclusive), `query`
  (plain substring). **`stream_id` omitted = every stream and the Inbox; `stream_id: null` or
  `"inbox"` = only the Inbox** (the reference service treated omitted as the Inbox; here
  omitted means everything). `search_entries` takes the same filters.
- `list_entries` orders: `sort` = `entry_date`, `updated`, `due_date` (entries without one
  last) or `priority`, with `-` for descending (`-priority` = most urgent first; default
  `-entry_date`); ties by id, and `next_cursor` pages correctly in any order. Due dates:
  `due_before: "2026-02-01"` (due before that day), `overdue: true` (due before today in
  your time zone). With `sort` or a due filter, `query` is a plain substring match.
- `get_entry {"entry_id": "..."}`: the full content, attachments and `stream_context`.
- `list_streams`, `get_stream`, `list_tags` (reuse existing tags), `list_trash`,
  `get_entry_history`.
- `search` / `fetch`: the simple pair ChatGPT connectors use (ids, titles, URLs; full text).

## Keeping answers small
- `include_content: false` returns titles and metadata only; `content_limit: 300` cuts each
  content to 300 characters and sets `content_truncated: true` (with `content_length`).
- Paging (`list_entries`, `search_entries`, `list_trash`): pass `next_cursor` back as
  `cursor`, unchanged (stable while entries are added), or use `offset` (`next_offset`, up to
  <MAX_OFFSET>). `has_more` says whether more follow; `total` counts all matches.
- Writes answer in one line: `create_entry`, `update_entry` and `restore_entry` give
  `entry_id`, `version`, `title`, the stream, `entry_date`, `content_length` (and
  `changed`, the fields an update set), never the content back; pass
  `include_content: true` to get the whole entry as stored.
- No answer exceeds about 25,000 tokens. When one would, it is cut and says
  `truncated: true` with a `note` on how to get the rest (next page, `get_entry`, or
  `get_entry`'s `content_offset` for a very long entry).

## Writing (needs Full Access)
- `create_entry {"content": "...", "title": "...", "stream_id": "...", "tags": ["work"]}`.
  No `stream_id` = the Inbox. `entry_date` defaults to today (in the account's time zone,
  set by the person); `status` to the stream's
  `default_status`. A `type` or `status` the stream does not allow is refused with the list
  of allowed values: pick one of them. A stream takes only the fields it uses (`get_stream`
  shows its `use_*` settings): status, type, rating, priority or due_date where the setting
  is off is refused naming the setting (`use_status`...); leave the field out. The Inbox
  takes every field.
- `update_entry`: only the fields you pass change. `null` clears a field (`due_date: null`),
  `tags` **replace** the whole list, `content` **replaces** the whole text (send all of it),
  `stream_id` moves the entry (`null` = to the Inbox); a move to a stream that does not use
  some of the entry's values is refused with `fields_to_clear`: clear them in the same
  update (`status: null`...) or pass `clear_disallowed: true`. Always pass `expected_version` = the
  `version` you read: if someone changed the entry meanwhile you get a version conflict that
  names both versions; re-read with `get_entry`, merge, retry.
- `delete_entry` is a soft delete (restorable for 30 days). Ask before deleting.
- `create_stream` / `update_stream` organise streams (`entry_settings` are merged on update).
- `add_attachment {"entry_id": "...", "data": "<base64>", "filename": "chart.png"}` attaches
  an image: JPEG, PNG, WebP or GIF, read from the bytes (`content_type` is only compared;
  SVG and other formats are refused). `delete_attachment {"attachment_id": "..."}` removes
  one. Both are writes to the entry: its `version` goes up by one (the answer gives the new
  `entry_version`; use it as `expected_version` next) and its history records which image
  was added or removed. A removed image is kept for 30 days before it is purged, like the
  trash; restoring an older version of an entry changes its text and fields, not its images.

## Limits
<LIMITS>

## Errors
Errors say what to fix: `not_found` (wrong id, another account's id, or deleted),
`invalid_input` (names the field and the allowed values, or the stream setting that is
off), `version_conflict` (expected and
current version), `insufficient_scope` (this connection is Read Only; write tools are not
offered then), `rate_limited` (slow down: the message says after how many seconds).

## Examples
- "What did I plan for the trip?" → `search_entries {"query": "trip plan"}` → `get_entry`.
- "Show this week's journal" → `list_streams` → `list_entries {"stream_id": "<journal id>",
  "start_date": "2026-11-16", "end_date": "2026-11-22"}`.
- "Mark the task done" → `get_entry` (read `version` and `stream_context.statuses`) →
  `update_entry {"entry_id": "...", "status": "done", "expected_version": 3}`.
- "Rate it 4 stars" in a stars stream → `update_entry {"entry_id": "...", "rating": 4}`
  (stored as 8).
"""

# The numbers come from core's limits, so the guide cannot drift from what is enforced.
GUIDE = _TEXT.replace("<LIMITS>", _LIMITS).replace("<MAX_OFFSET>", f"{MAX_OFFSET:,}")
