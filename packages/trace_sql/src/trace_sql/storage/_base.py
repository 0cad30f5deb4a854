"""What every repository shares: running a statement on the unit of work's connection."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import partial
from typing import Any, TypeVar
from uuid import UUID

import anyio
import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from trace_sql.errors import translated_errors
from trace_sql.rls import ACCOUNT_SETTING, ALL_ACCOUNTS_SETTING

T = TypeVar("T")

# Keeps IN (...) lists well under SQLite's bound-parameter limit.
CHUNK = 500

# The connection's ``info`` key counting entries inserted in this unit of work: a
# large bulk insert refreshes Postgres planner statistics after the commit
# (``_storage._refresh_statistics``).
BULK_ROWS = "trace_bulk_rows"


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterable[Sequence[Any]]:
    """Yield ``items`` in slices of at most ``size``."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


_SET_ACCOUNT = sa.text(f"SELECT set_config('{ACCOUNT_SETTING}', :account, true)")
# Back to the login role (the tables' owner) for this transaction only, and
# every account's rows (the owner-only policy of trace_sql.rls).
_ALL_ACCOUNTS = sa.text(
    f"SELECT set_config('role', 'none', true), set_config('{ALL_ACCOUNTS_SETTING}', 'on', true)"
)


class TenantScope:
    """Which account's rows a transaction may see, for PostgreSQL's row-level security.

    A unit of work opened for an account (``account_id=``) is bound to it: the
    setting is made once, when the transaction begins, and never changes, so a
    statement about another account finds nothing. One opened for every account
    (``all_accounts=True``, the purge and indexing jobs) sees every row. One
    opened with neither is unbound: each repository call sets the setting to the
    account it names (when it differs from the current one), so every statement
    still sees only the rows of the account it was asked about, whatever its SQL
    says; calls naming no account see no tenant rows at all.

    On SQLite (no row-level security) nothing is ever sent.
    """

    def __init__(
        self,
        connection: Any,
        *,
        enforced: bool,
        account_id: UUID | None = None,
        all_accounts: bool = False,
    ) -> None:
        self._conn = connection
        self.enforced = enforced
        self.account_id = account_id
        self.all_accounts = all_accounts
        self.bound = account_id is not None or all_accounts or not enforced

    async def begin(self) -> None:
        """Make the settings of a bound unit of work (right after ``BEGIN``)."""
        if not self.enforced:
            return
        if self.all_accounts:
            await self._conn.execute(_ALL_ACCOUNTS)
        elif self.account_id is not None:
            await self._conn.execute(_SET_ACCOUNT, {"account": str(self.account_id)})

    async def enter(self, account_id: UUID) -> None:
        """Before a statement about ``account_id``: point an unbound transaction at it."""
        if self.bound or account_id == self.account_id:
            return
        await self._conn.execute(_SET_ACCOUNT, {"account": str(account_id)})
        self.account_id = account_id

    def groups(self, items: Sequence[T], account_of: Callable[[T], UUID]) -> list[Sequence[T]]:
        """Split ``items`` into runs of one account each (one run when bound)."""
        if self.bound or not items:
            return [items] if items else []
        runs: dict[UUID, list[T]] = {}
        for item in items:
            runs.setdefault(account_of(item), []).append(item)
        return list(runs.values())


UNSCOPED = TenantScope(None, enforced=False)
"""The scope of a repository used outside a unit of work (nothing to set)."""


class SqlRepository:
    """Runs statements on the unit of work's connection, translating driver errors."""

    def __init__(self, connection: AsyncConnection, scope: TenantScope = UNSCOPED) -> None:
        self._conn = connection
        self._scope = scope

    async def _execute(
        self,
        statement: sa.Executable,
        params: Sequence[Mapping[str, Any]] | Mapping[str, Any] | None = None,
        *,
        conflict: str | None = None,
        slow: bool = False,
    ) -> sa.CursorResult[Any]:
        # ``slow``: a read that may scan many rows. On the inline SQLite reader it
        # runs in a worker thread, so it does not hold the event loop.
        run = self._conn.execute
        if slow and isinstance(self._conn, InlineConnection):
            run = self._conn.execute_in_thread
        with translated_errors(conflict=conflict):
            if params is None:
                return await run(statement)
            return await run(statement, params)


class InlineConnection:
    """A synchronous SQLAlchemy connection behind the ``AsyncConnection`` calls repositories make.

    Statements run on the calling (event loop) thread; the awaitables never
    suspend. Results are the same buffered ``CursorResult`` objects an
    ``AsyncConnection`` returns.
    """

    def __init__(self, connection: sa.Connection) -> None:
        self._conn = connection

    @property
    def dialect(self) -> sa.Dialect:
        return self._conn.dialect

    @property
    def info(self) -> dict[Any, Any]:
        return self._conn.info

    async def execute(self, statement: Any, parameters: Any = None, **kw: Any) -> Any:
        return self._conn.execute(statement, parameters, **kw)

    async def exec_driver_sql(self, statement: str, parameters: Any = None, **kw: Any) -> Any:
        return self._conn.exec_driver_sql(statement, parameters, **kw)

    async def scalar(self, statement: Any, parameters: Any = None, **kw: Any) -> Any:
        return self._conn.scalar(statement, parameters, **kw)

    async def execute_in_thread(self, statement: Any, parameters: Any = None) -> Any:
        """Run a statement that may scan many rows in a worker thread (the loop stays free).

        The connection is used by one task at a time, so handing it to a thread
        for the duration of the call is safe (file connections are not bound to
        their creating thread).
        """
        return await anyio.to_thread.run_sync(partial(self._conn.execute, statement, parameters))
