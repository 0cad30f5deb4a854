"""Rows and entities converted explicitly: ``*_to_row`` and ``row_to_*`` per table."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterable, Mapping
from typing import Any

import msgspec

from trace_core.model import (
    Account,
    Attachment,
    AttachmentRef,
    Entry,
    EntrySettings,
    EntryVersion,
    Stream,
)
from trace_core.search_text import MAX_TERM_CHARS, is_cjk, search_extra, tokenize
from trace_core.tags import tag_key


def account_to_row(account: Account) -> dict[str, Any]:
    """Return the ``accounts`` row of an account."""
    return {
        "account_id": account.account_id,
        "email": account.email,
        "email_normalized": account.email.casefold(),
        "name": account.name,
        "password_hash": account.password_hash,
        "plan": account.plan,
        "is_active": account.is_active,
        "created_at": account.created_at,
        "time_zone": account.time_zone,
    }


def row_to_account(row: Mapping[Any, Any]) -> Account:
    """Return the account of an ``accounts`` row."""
    return Account(
        account_id=row["account_id"],
        email=row["email"],
        name=row["name"],
        password_hash=row["password_hash"],
        plan=row["plan"],
        is_active=row["is_active"],
        created_at=row["created_at"],
        time_zone=row["time_zone"],
    )


def stream_to_row(stream: Stream) -> dict[str, Any]:
    """Return the ``streams`` row of a stream (``entry_count`` is computed, not stored)."""
    return {
        "stream_id": stream.stream_id,
        "account_id": stream.account_id,
        "name": stream.name,
        "name_key": stream.name.casefold(),
        "description": stream.description,
        "color": stream.color,
        "icon": stream.icon,
        "is_private": stream.is_private,
        "is_archived": stream.is_archived,
        "entry_settings": msgspec.to_builtins(stream.entry_settings),
        "created_at": stream.created_at,
        "updated_at": stream.updated_at,
    }


def row_to_stream(row: Mapping[Any, Any]) -> Stream:
    """Return the stream of a ``streams`` row (with ``entry_count`` if selected)."""
    return Stream(
        stream_id=row["stream_id"],
        account_id=row["account_id"],
        name=row["name"],
        description=row["description"],
        color=row["color"],
        icon=row["icon"],
        is_private=row["is_private"],
        is_archived=row["is_archived"],
        entry_settings=msgspec.convert(row["entry_settings"], EntrySettings),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        entry_count=row.get("entry_count") or 0,
    )


def entry_to_row(entry: Entry) -> dict[str, Any]:
    """Return the ``entries`` row of an entry."""
    return {
        "entry_id": entry.entry_id,
        "account_id": entry.account_id,
        "stream_id": entry.stream_id,
        "title": entry.title,
        "content": entry.content,
        "entry_date": entry.entry_date,
        "tags": list(entry.tags),
        "status": entry.status,
        "type": entry.type,
        "priority": entry.priority,
        "rating": entry.rating,
        "due_date": entry.due_date,
        "is_pinned": entry.is_pinned,
        "is_archived": entry.is_archived,
        "latitude": entry.latitude,
        "longitude": entry.longitude,
        "place_name": entry.place_name,
        "city": entry.city,
        "country": entry.country,
        "mentions": list(entry.mentions),
        "created_at": entry.created_at,
        "updated_at": entry.updated_at,
        "version": entry.version,
        "last_edited_by": entry.last_edited_by,
        "deleted_at": entry.deleted_at,
        "search_extra": entry_search_extra(entry.title, entry.content, " ".join(entry.tags)),
    }


# ASCII letters and digits lower-cased, every other byte a space: the words of
# ASCII text are the ``split()`` of its translation (faster than a regex).
_ASCII_WORD_BYTES = bytes(
    c + 32 if 65 <= c <= 90 else c if 48 <= c <= 57 or 97 <= c <= 122 else 32 for c in range(256)
)
# An ASCII compound: words joined by ASCII joiners. Matched from a word's start
# only (the look-behind) and without backtracking into its words (possessive),
# so a word without a joiner (most words) costs one failed attempt and no
# string; the chains it finds are those of ``[A-Za-z0-9]+(?:[-.'_/][A-Za-z0-9]+)*``
# that hold a joiner.
_ASCII_COMPOUND = re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9]++(?:[-.'_/][A-Za-z0-9]++)+")
_ASCII_JOINER = re.compile(r"[-.'_/]")


def entry_search_extra(*texts: str | None) -> str:
    """Return :func:`~trace_core.search_text.search_extra` of ``texts``, faster on ASCII.

    ASCII text has no CJK and only ASCII joiners: its compounds' joined forms
    come from two regular expressions instead of tokenizing every compound
    character by character (most of an import's time otherwise).
    """
    out: list[str] = []
    for text in texts:
        if not text:
            continue
        if text.isascii():
            out.extend(
                _ASCII_JOINER.sub("", chain).lower()[:MAX_TERM_CHARS]
                for chain in _ASCII_COMPOUND.findall(text)
            )
        else:
            extra = search_extra(text)
            if extra:
                out.append(extra)
    return " ".join(out)


def _ascii_words(text: str) -> set[str]:
    """Return the words of ASCII ``text`` that ``vocabulary`` keeps (3+ letters or digits, cut)."""
    words = set(text.encode("ascii").translate(_ASCII_WORD_BYTES).decode("ascii").split())
    return {w[:MAX_TERM_CHARS] for w in words if len(w) >= 3}


# A stretch of non-ASCII characters with the ASCII letters and digits around it
# (from a word's start): every word with a non-ASCII character lies inside one.
_NON_ASCII_STRETCH = re.compile(r"(?<![A-Za-z0-9])[A-Za-z0-9]*+(?:[^\x00-\x7f]++[A-Za-z0-9]*+)+")


def _text_words(text: str | None) -> Collection[str]:
    """Return the words of ``text`` that ``vocabulary`` keeps, compounds aside.

    ASCII text (most text) by a byte translation, the same words as
    :func:`~trace_core.search_text.tokenize` finds with its loop over every
    character, which costs more than the rest of an import. Other text is
    normalized (NFC, as ``tokenize`` does) and only its non-ASCII stretches
    go through ``tokenize``; the ASCII around them (a CJK sentence at the end
    of an English note) is translated like ASCII text.
    """
    if not text:
        return ()
    if text.isascii():
        return _ascii_words(text)
    text = unicodedata.normalize("NFC", text)
    words = _ascii_words(_NON_ASCII_STRETCH.sub(" ", text))
    for stretch in _NON_ASCII_STRETCH.findall(text):
        words.update(w for w in tokenize(stretch) if len(w) >= 3 and not is_cjk(w))
    return words


def _extra_words(extra: str) -> Iterable[str]:
    """Return the words of a ``search_extra`` that ``vocabulary`` keeps (no CJK gram)."""
    if extra.isascii():
        return extra.split()
    return [w for w in extra.split() if not is_cjk(w)]


def row_words(title: str | None, content: str, tags: Iterable[str], extra: str) -> set[str]:
    """Return :func:`~trace_core.search_text.vocabulary` of an entry's texts, faster.

    ``extra`` is the entry's :func:`~trace_core.search_text.search_extra`
    (``entries.search_extra``), whose joined compounds are words too.
    """
    words = set(_text_words(content))
    words.update(_text_words(title))
    if tags:
        words.update(_text_words(" ".join(tags)))
    if extra:
        words.update(_extra_words(extra))
    return words


def entry_words(rows: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Return the ``search_words`` rows of live ``entries`` rows, each (account, word) once.

    ``rows`` as :func:`entry_to_row` makes them (with ``search_extra``); the
    vocabulary of every live entry's title, content and tags, for one
    executemany per batch. Deleted entries add no words (as a rebuild).

    The union of :func:`row_words` of the rows, computed per account rather
    than per entry: the ASCII texts of an account's rows (most text) are
    joined (on a line break, which separates words) and cut into words at
    once, their ASCII ``search_extra`` split once; only
    non-ASCII texts are cut one by one (:func:`row_words`'s way).
    """
    ascii_texts: dict[Any, list[str]] = {}
    ascii_extras: dict[Any, list[str]] = {}
    words: dict[Any, set[str]] = {}
    for row in rows:
        if row["deleted_at"] is not None:
            continue
        account_id = row["account_id"]
        plain = ascii_texts.setdefault(account_id, [])
        account_words = words.setdefault(account_id, set())
        tags = row["tags"]
        for text in (row["content"], row["title"], " ".join(tags) if tags else None):
            if not text:
                continue
            if text.isascii():
                plain.append(text)
            else:
                account_words.update(_text_words(text))
        extra = row["search_extra"]
        if extra:
            if extra.isascii():
                ascii_extras.setdefault(account_id, []).append(extra)
            else:
                account_words.update(_extra_words(extra))
    found: list[dict[str, Any]] = []
    for account_id, account_words in words.items():
        # A line break separates words: joining changes none of them.
        account_words.update(_ascii_words("\n".join(ascii_texts[account_id])))
        account_words.update(" ".join(ascii_extras.get(account_id, ())).split())
        found.extend({"account_id": account_id, "word": word} for word in sorted(account_words))
    return found


def row_to_entry(row: Mapping[Any, Any]) -> Entry:
    """Return the entry of an ``entries`` row."""
    return Entry(
        entry_id=row["entry_id"],
        account_id=row["account_id"],
        stream_id=row["stream_id"],
        title=row["title"],
        content=row["content"],
        entry_date=row["entry_date"],
        tags=tuple(row["tags"]),
        status=row["status"],
        type=row["type"],
        priority=row["priority"],
        rating=row["rating"],
        due_date=row["due_date"],
        is_pinned=row["is_pinned"],
        is_archived=row["is_archived"],
        latitude=row["latitude"],
        longitude=row["longitude"],
        place_name=row["place_name"],
        city=row["city"],
        country=row["country"],
        mentions=tuple(row["mentions"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        version=row["version"],
        last_edited_by=row["last_edited_by"],
        deleted_at=row["deleted_at"],
    )


def entry_tag_rows(entry: Entry) -> list[dict[str, Any]]:
    # Only live entries have tag rows: tag filters and counts then never need
    # to look at the trash.
    if entry.deleted_at is not None:
        return []
    return [
        {"entry_id": entry.entry_id, "account_id": entry.account_id, "tag": tag, "tag_key": key}
        for tag, key in {tag: tag_key(tag) for tag in entry.tags}.items()
    ]


def version_to_row(version: EntryVersion) -> dict[str, Any]:
    """Return the ``entry_versions`` row of a snapshot (the entry as JSON via msgspec)."""
    return {
        "account_id": version.account_id,
        "entry_id": version.entry_id,
        "version": version.version,
        "action": version.action,
        "written_by": version.written_by,
        "written_at": version.written_at,
        "snapshot": msgspec.to_builtins(version.snapshot),
        "attachment": msgspec.to_builtins(version.attachment)
        if version.attachment is not None
        else None,
    }


def row_to_version(row: Mapping[Any, Any]) -> EntryVersion:
    """Return the snapshot of an ``entry_versions`` row."""
    return EntryVersion(
        entry_id=row["entry_id"],
        account_id=row["account_id"],
        version=row["version"],
        action=row["action"],
        written_by=row["written_by"],
        written_at=row["written_at"],
        snapshot=msgspec.convert(row["snapshot"], Entry),
        attachment=msgspec.convert(row["attachment"], AttachmentRef)
        if row["attachment"] is not None
        else None,
    )


def attachment_to_row(attachment: Attachment) -> dict[str, Any]:
    """Return the ``attachments`` row of an attachment."""
    return {
        "attachment_id": attachment.attachment_id,
        "account_id": attachment.account_id,
        "entry_id": attachment.entry_id,
        "mime_type": attachment.mime_type,
        "file_size": attachment.file_size,
        "width": attachment.width,
        "height": attachment.height,
        "position": attachment.position,
        "captured_at": attachment.captured_at,
        "created_at": attachment.created_at,
        "blob_key": attachment.blob_key,
        "sha256": attachment.sha256,
        "filename": attachment.filename,
        "removed_at": attachment.removed_at,
    }


def row_to_attachment(row: Mapping[Any, Any]) -> Attachment:
    """Return the attachment of an ``attachments`` row."""
    return Attachment(
        attachment_id=row["attachment_id"],
        account_id=row["account_id"],
        entry_id=row["entry_id"],
        mime_type=row["mime_type"],
        file_size=row["file_size"],
        width=row["width"],
        height=row["height"],
        position=row["position"],
        captured_at=row["captured_at"],
        created_at=row["created_at"],
        blob_key=row["blob_key"],
        sha256=row["sha256"],
        filename=row["filename"],
        removed_at=row["removed_at"],
    )
