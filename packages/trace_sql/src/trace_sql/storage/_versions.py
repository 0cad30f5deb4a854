"""Entry snapshots in ``entry_versions``."""

from __future__ import annotations

import builtins
from collections.abc import Sequence
from uuid import UUID

import sqlalchemy as sa

from trace_core.model import EntryVersion
from trace_core.ports import VersionRepository
from trace_sql.storage._base import SqlRepository
from trace_sql.storage._rows import row_to_version, version_to_row
from trace_sql.tables import entry_versions


class SqlVersionRepository(SqlRepository, VersionRepository):
    """Entry snapshots in ``entry_versions``."""

    async def add(self, version: EntryVersion) -> None:
        """Store a snapshot."""
        await self.add_many([version])

    async def add_many(self, versions: Sequence[EntryVersion]) -> None:
        """Store many snapshots with one executemany."""
        if not versions:
            return
        for run in self._scope.groups(versions, lambda v: v.account_id):
            await self._scope.enter(run[0].account_id)
            await self._execute(
                sa.insert(entry_versions),
                [version_to_row(version) for version in run],
                conflict="that version of the entry is stored already, or the entry does not exist",
            )

    async def list(self, account_id: UUID, entry_id: UUID) -> builtins.list[EntryVersion]:
        """Return the entry's snapshots, newest version first."""
        await self._scope.enter(account_id)
        result = await self._execute(
            sa.select(entry_versions)
            .where(entry_versions.c.account_id == account_id, entry_versions.c.entry_id == entry_id)
            .order_by(entry_versions.c.version.desc())
        )
        return [row_to_version(row) for row in result.mappings()]

    async def list_all(self, account_id: UUID) -> builtins.list[EntryVersion]:
        """Return every snapshot of the account, oldest write first."""
        await self._scope.enter(account_id)
        result = await self._execute(
            sa.select(entry_versions)
            .where(entry_versions.c.account_id == account_id)
            .order_by(
                entry_versions.c.written_at, entry_versions.c.entry_id, entry_versions.c.version
            )
        )
        return [row_to_version(row) for row in result.mappings()]
