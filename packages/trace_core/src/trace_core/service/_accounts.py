"""Accounts: administrative use cases that take no principal."""

from __future__ import annotations

import uuid
from uuid import UUID

import msgspec

from trace_core.errors import ConflictError, InvalidInputError, NotFoundError, quote
from trace_core.model import UNSET, Account, AccountProfile, Principal, Scope, UnsetType, Via
from trace_core.service._base import FacadeBase
from trace_core.service._text import CONTROL, EMAIL, clean_text
from trace_core.timezones import check_time_zone


class AccountUseCases(FacadeBase):
    """Create, find and change accounts; make a principal for one."""

    async def create_account(
        self,
        email: str,
        *,
        name: str | None = None,
        password_hash: str | None = None,
        plan: str | None = None,
        time_zone: str = "UTC",
    ) -> Account:
        """Create an account (operator action: CLI, sign-up page).

        Raises:
            InvalidInputError: the email is not an email address, or the time zone
                is not an IANA name.
            ConflictError: an account with that email exists.

        """
        zone = check_time_zone(time_zone)
        email = email.strip().lower() if isinstance(email, str) and len(email) <= 254 else email
        if (
            not isinstance(email, str)
            or len(email) > 254
            or not EMAIL.match(email)
            or CONTROL.search(email)
        ):
            raise InvalidInputError("email", f"{quote(email)} is not an email address")
        account = Account(
            account_id=uuid.uuid4(),
            email=email,
            name=clean_text("name", name, self.limits.max_stream_name_chars),
            password_hash=password_hash,
            plan=clean_text("plan", plan, self.limits.max_choice_chars),
            created_at=self.clock.now(),
            time_zone=zone,
        )
        async with self.storage.unit_of_work(write=True) as uow:
            if await uow.accounts.get_by_email(email) is not None:
                raise ConflictError(f"an account with email {email} exists", field="email")
            await uow.accounts.add(account)
        return account

    async def get_account(self, account_id: UUID) -> Account:
        """Return an account by id.

        Raises:
            NotFoundError: no such account.

        """
        async with self.storage.unit_of_work() as uow:
            account = await uow.accounts.get(account_id)
        if account is None:
            raise NotFoundError("account", account_id)
        return account

    async def get_account_by_email(self, email: str) -> Account:
        """Return an account by email (case-insensitive).

        Raises:
            NotFoundError: no such account.

        """
        async with self.storage.unit_of_work() as uow:
            account = await uow.accounts.get_by_email(email.strip().lower())
        if account is None:
            raise NotFoundError("account", email)
        return account

    async def list_accounts(self) -> list[Account]:
        """Return every account, oldest first."""
        async with self.storage.unit_of_work() as uow:
            return await uow.accounts.list()

    async def update_account(
        self,
        account_id: UUID,
        *,
        name: str | UnsetType | None = UNSET,
        password_hash: str | UnsetType | None = UNSET,
        plan: str | UnsetType | None = UNSET,
        is_active: bool | UnsetType = UNSET,
        time_zone: str | UnsetType = UNSET,
    ) -> Account:
        """Change an account's name, password hash, plan, active flag or time zone.

        Raises:
            NotFoundError: no such account.
            InvalidInputError: the name or plan is too long or holds control characters;
                the time zone is not an IANA name.

        """
        changes: dict[str, object] = {}
        if not isinstance(name, UnsetType):
            changes["name"] = clean_text("name", name, self.limits.max_stream_name_chars)
        if not isinstance(password_hash, UnsetType):
            changes["password_hash"] = password_hash
        if not isinstance(plan, UnsetType):
            # A plan is a name the operator picks (``auth.plans_with_integrations``):
            # one line, trimmed; blank clears it.
            changes["plan"] = clean_text("plan", plan, self.limits.max_choice_chars)
        if not isinstance(is_active, UnsetType):
            changes["is_active"] = is_active
        if not isinstance(time_zone, UnsetType):
            changes["time_zone"] = check_time_zone(time_zone)
        async with self.storage.unit_of_work(write=True) as uow:
            account = await uow.accounts.get(account_id)
            if account is None:
                raise NotFoundError("account", account_id)
            account = msgspec.structs.replace(account, **changes)
            await uow.accounts.update(account)
        return account

    async def get_my_account(self, principal: Principal) -> AccountProfile:
        """Return the caller's own account, without secrets (any scope may read it).

        Raises:
            InsufficientScopeError: the principal has no read scope.
            NotFoundError: the account no longer exists.

        """
        self._require(principal, Scope.READ, "get_my_account")
        return AccountProfile.of(await self.get_account(principal.account_id))

    async def set_time_zone(self, principal: Principal, zone: str) -> AccountProfile:
        """Set the caller's time zone (an IANA name such as ``Europe/Paris``).

        "Today" for the account (default entry dates, the overdue filter) follows it.

        Raises:
            InsufficientScopeError: the principal lacks the full scope.
            InvalidInputError: ``time_zone`` is not an IANA zone name (the error
                gives an example).
            NotFoundError: the account no longer exists.

        """
        self._require(principal, Scope.FULL, "set_time_zone")
        account = await self.update_account(principal.account_id, time_zone=zone)
        return AccountProfile.of(account)

    @staticmethod
    def principal_for(
        account: Account,
        *,
        actor: str,
        via: Via = "cli",
        scopes: frozenset[Scope] = frozenset({Scope.FULL}),
        credential_id: str | None = None,
    ) -> Principal:
        """Return a Principal acting for ``account`` (used by trusted local transports)."""
        return Principal(
            account_id=account.account_id,
            scopes=scopes,
            actor=actor,
            via=via,
            credential_id=credential_id,
        )
