"""The caller's own account: read it, rename it, change its password, export and import it.

Unlike :mod:`._accounts` (operator actions, no principal), every method here
acts on the principal's own account and checks its scope first, so a
read-only key can read and export but never rename, re-password or import,
whichever transport it came through. ``require_scope`` is the same check for
services outside the core that act for a principal (API keys).
"""

from __future__ import annotations

from msgspec import UNSET, UnsetType

from trace_core import transfer
from trace_core.errors import InvalidInputError
from trace_core.model import Account, Principal, Scope
from trace_core.service._accounts import AccountUseCases


class SelfServiceUseCases(AccountUseCases):
    """What a person (or their key) may do to their own account."""

    @staticmethod
    def require_scope(principal: Principal, scope: Scope, operation: str) -> None:
        """Refuse ``operation`` unless the principal holds ``scope``.

        Raises:
            InsufficientScopeError: it does not.

        """
        AccountUseCases._require(principal, scope, operation)

    async def own_account(self, principal: Principal) -> Account:
        """Return the caller's account.

        Raises:
            NotFoundError: the account is gone.

        """
        self._require(principal, Scope.READ, "get_account")
        return await self.get_account(principal.account_id)

    async def update_own_account(
        self,
        principal: Principal,
        *,
        name: str | UnsetType | None = UNSET,
        password_hash: str | UnsetType = UNSET,
        time_zone: str | UnsetType = UNSET,
    ) -> Account:
        """Rename the caller's account (None or blank clears), set its time zone or password hash.

        Everything given is checked before anything is written, in one write.

        The transport hashes the password (core knows no hashing scheme) and
        ends the account's other sign-in sessions after a password change.

        Raises:
            InsufficientScopeError: not a full-scope caller.
            InvalidInputError: the name is too long or holds control characters;
                the time zone is not an IANA name; nothing to change.

        """
        self._require(principal, Scope.FULL, "update_account")
        if all(isinstance(v, UnsetType) for v in (name, password_hash, time_zone)):
            raise InvalidInputError(
                "name",
                "nothing to change: pass a name, a time_zone or a password",
                allowed=["name", "time_zone", "password"],
            )
        return await self.update_account(
            principal.account_id, name=name, password_hash=password_hash, time_zone=time_zone
        )

    async def export_own_account(self, principal: Principal) -> transfer.ExportDocument:
        """Return everything the caller's account holds as an export document.

        Raises:
            InsufficientScopeError: no read scope.

        """
        self._require(principal, Scope.READ, "export_account")
        account = await self.get_account(principal.account_id)
        return await transfer.export_account(
            self.storage, self.blobs, account, exported_at=self.clock.now()
        )

    async def import_into_own_account(
        self, principal: Principal, document: transfer.ExportDocument
    ) -> transfer.ImportSummary:
        """Import a document into the caller's account: all of it, or nothing.

        Raises:
            InsufficientScopeError: not a full-scope caller.
            InvalidInputError: the document references ids it does not hold.
            ConflictError: an id in it exists already (nothing is written).

        """
        self._require(principal, Scope.FULL, "import_account")
        return await transfer.import_account(
            self.storage,
            self.blobs,
            principal.account_id,
            document,
            search=self.search,
            atomic=True,
        )
