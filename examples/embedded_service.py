"""A Python service that keeps its users' notes with Trace, in-process.

Run it with the Trace packages installed (``trace-core`` and ``trace-sql``)::

    python examples/embedded_service.py                    # a SQLite file in a temporary directory
    python examples/embedded_service.py sqlite+aiosqlite:///notes.db
    python examples/embedded_service.py postgresql+asyncpg://app:secret@db:5432/notes

The service has its own users and its own sign-in (here: session tokens it hands
out); Trace keeps the notes. The service decides who is calling and what they
may do, as a :class:`~trace_core.Principal`, and every use case of the
:class:`~trace_core.Trace` facade checks scope and tenancy against it. Nothing
here starts a web server, reads Trace's settings or touches its OAuth: the
facade, the SQL storage and a blob store are all an embedder needs.
docs/embedding.md walks through it.
"""

from __future__ import annotations

import asyncio
import secrets
import sys
import tempfile
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from uuid import UUID

from trace_core import (
    Account,
    CreateEntryArgs,
    Entry,
    EntryPatch,
    InsufficientScopeError,
    InvalidInputError,
    NewStream,
    NotFoundError,
    Principal,
    Scope,
    SearchResult,
    Trace,
    VersionConflictError,
    decode_arguments,
)
from trace_sql import FilesystemBlobStore, open_storage
from trace_sql.search import create_sql_search_index


@asynccontextmanager
async def open_notes(database_url: str, files: Path) -> AsyncIterator[Trace]:
    """Open Trace on the service's own database and file directory; close it on exit.

    ``open_storage`` upgrades the schema first (Alembic; the migrations ship in
    the ``trace-sql`` package), and the built-in full-text index of the same
    database gives ranked search.
    """
    storage = await open_storage(database_url)
    try:
        search = create_sql_search_index(storage)
        await search.start()  # PostgreSQL: applies the text-search language; SQLite: nothing
        yield Trace(storage=storage, blobs=FilesystemBlobStore(files), search=search)
    finally:
        await storage.close()


class NotesService:
    """The embedding service: its own accounts and sessions, Trace for the notes.

    A real service would keep sessions in its own store and check passwords or
    tokens from its identity provider; what matters is the one place where a
    request becomes a :class:`Principal` (:meth:`principal`).
    """

    APP_NAME = "notes-app"
    """Recorded as ``last_edited_by`` and in every version this service writes."""

    def __init__(self, trace: Trace) -> None:
        self.trace = trace
        self._sessions: dict[str, tuple[UUID, frozenset[Scope]]] = {}

    async def sign_up(self, email: str, name: str | None = None) -> Account:
        """Create the person's Trace account (one per user of this service)."""
        return await self.trace.create_account(email, name=name)

    def sign_in(self, account: Account, *, read_only: bool = False) -> str:
        """Open a session for ``account``; a read-only one may read but not write."""
        token = secrets.token_urlsafe(32)
        scope = Scope.READ if read_only else Scope.FULL
        self._sessions[token] = (account.account_id, frozenset({scope}))
        return token

    def principal(self, token: str) -> Principal:
        """Decide who is calling: the service's auth, expressed as a Trace principal."""
        try:
            account_id, scopes = self._sessions[token]
        except KeyError:
            raise PermissionError("not signed in") from None
        return Principal(account_id=account_id, scopes=scopes, actor=self.APP_NAME, via="web")

    # --- what the service's request handlers would call ---------------------------

    async def new_notebook(self, token: str, name: str) -> UUID:
        """Create a stream (notebook) and return its id."""
        stream = await self.trace.create_stream(self.principal(token), NewStream(name=name))
        return stream.stream_id

    async def write(self, token: str, body: Mapping[str, Any]) -> Entry:
        """Create an entry from a JSON body, checked as Trace's own transports check it.

        ``decode_arguments`` refuses an unknown or malformed field with an
        :class:`InvalidInputError` naming it; ``to_draft`` builds the facade's input.
        """
        args = decode_arguments(CreateEntryArgs, dict(body))
        return await self.trace.create_entry(self.principal(token), args.to_draft())

    async def retitle(self, token: str, entry: Entry, title: str) -> Entry:
        """Change the title, refusing if someone changed the entry meanwhile."""
        return await self.trace.update_entry(
            self.principal(token),
            entry.entry_id,
            EntryPatch(title=title),
            expected_version=entry.version,
        )

    async def find(self, token: str, words: str) -> SearchResult:
        """Ranked full-text search with highlighted snippets."""
        return await self.trace.search_entries(self.principal(token), words, limit=10)


async def demo(database_url: str, files: Path) -> None:
    """Run the service through its paces, checking each step."""
    async with open_notes(database_url, files) as trace:
        service = NotesService(trace)
        ada = await service.sign_up(f"ada-{secrets.token_hex(4)}@example.com", "Ada")
        bob = await service.sign_up(f"bob-{secrets.token_hex(4)}@example.com", "Bob")
        ada_session = service.sign_in(ada)
        bob_session = service.sign_in(bob)

        journal = await service.new_notebook(ada_session, "Journal")
        first = await service.write(
            ada_session,
            {
                "content": "Migrated the billing service to the new queue.",
                "title": "Queue migration",
                "stream_id": str(journal),
                "tags": ["work", "billing"],
            },
        )
        await service.write(ada_session, {"content": "Bought apples and pears.", "tags": "home"})
        print(f"created {first.entry_id} (version {first.version}) by {first.last_edited_by}")

        found = await service.find(ada_session, "migrating billing")
        assert [hit.entry.entry_id for hit in found.hits] == [first.entry_id], found
        print(f"search 'migrating billing': {found.hits[0].snippet}")

        # Tenancy: Bob's session sees none of Ada's notes, even by id.
        assert not (await service.find(bob_session, "billing")).hits
        try:
            await trace.get_entry(service.principal(bob_session), first.entry_id)
        except NotFoundError:
            print("bob cannot read ada's entry: not found")
        else:
            raise AssertionError("another account's entry was readable")

        # Scope: a read-only session reads but cannot write.
        reader = service.sign_in(ada, read_only=True)
        assert (await service.find(reader, "apples")).hits
        try:
            await service.write(reader, {"content": "not allowed"})
        except InsufficientScopeError as exc:
            print(f"read-only session refused: {exc.code}")
        else:
            raise AssertionError("a read-only session wrote")

        # Bad input names the field; nothing is written.
        try:
            await service.write(ada_session, {"content": "x", "priority": 9})
        except InvalidInputError as exc:
            print(f"refused: {exc}")
            if exc.field != "priority":
                raise AssertionError(f"the error names {exc.field}, not priority") from exc
        else:
            raise AssertionError("priority 9 was accepted")

        # Optimistic locking: a stale version is refused, naming both versions.
        renamed = await service.retitle(ada_session, first, "Queue migration, done")
        try:
            await service.retitle(ada_session, first, "a stale edit")
        except VersionConflictError as exc:
            print(f"stale edit refused: {exc}")
        else:
            raise AssertionError("a stale edit overwrote a newer version")
        history = await trace.entry_history(service.principal(ada_session), first.entry_id)
        assert [v.version for v in history] == [renamed.version, first.version]
        print(f"history: {len(history)} versions, last by {history[0].written_by}")


def main(argv: list[str]) -> None:
    """Run the demo on the database named on the command line, or a temporary SQLite file."""
    with tempfile.TemporaryDirectory(prefix="trace-embedded-") as scratch:
        url = argv[1] if len(argv) > 1 else f"sqlite+aiosqlite:///{Path(scratch, 'notes.db')}"
        asyncio.run(demo(url, Path(scratch, "files")))
    print("ok")


if __name__ == "__main__":
    main(sys.argv)
