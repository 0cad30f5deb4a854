"""The bearer authenticator: API keys and OAuth access tokens become a Principal."""

from __future__ import annotations

import time
from datetime import datetime
from urllib.parse import urlsplit
from uuid import UUID

from trace_core.credentials import CredentialStore
from trace_core.errors import AuthenticationError, PlanRequiredError
from trace_core.model import Account, Principal
from trace_core.ports import Authenticator, Clock, Storage
from trace_oauth.config import OAuthConfig
from trace_oauth.tokens import ACCESS_TOKEN_PREFIX, API_KEY_PREFIX, SecretHasher

__all__ = ["BearerAuthenticator"]

INVALID_KEY = (
    "the API key or access token is invalid, expired or revoked: "
    "create a new key (Settings → Integrations or `trace key create`) or sign in again"
)


class BearerAuthenticator(Authenticator):
    """Checks a bearer credential on every request; nothing is cached between requests.

    Revocation is therefore seen by every replica on the next request. The one
    write this does, ``last_used_at`` of API keys, happens at most once per
    ``api_key_touch_interval`` per key, not on every request. Only the account's
    active flag and plan are cached, for ``account_cache_ttl`` (default 5 s).
    """

    def __init__(
        self,
        *,
        storage: Storage,
        credentials: CredentialStore,
        config: OAuthConfig,
        clock: Clock,
        hasher: SecretHasher | None = None,
    ) -> None:
        self.storage = storage
        self.credentials = credentials
        self.config = config
        self.clock = clock
        self.hasher = hasher or SecretHasher(config.hash_key)
        self._touched: dict[UUID, datetime] = {}
        self._accounts: dict[UUID, tuple[float, Account | None]] = {}
        self._clients: dict[str, tuple[float, str | None]] = {}

    async def authenticate(self, bearer: str, *, resource: str | None = None) -> Principal:
        """Return who the credential belongs to and what it may do.

        Raises:
            AuthenticationError: missing, unknown, revoked or expired credential,
                or a token for another resource.
            PlanRequiredError: the account's plan does not include integrations.

        """
        bearer = (bearer or "").strip()
        if not bearer:
            raise AuthenticationError("no API key or access token was sent")
        if bearer.startswith(API_KEY_PREFIX):
            # API keys are not audience-bound: a key works on every URL of this server.
            return await self._api_key(bearer)
        if bearer.startswith(ACCESS_TOKEN_PREFIX):
            if resource is not None and self._normalize(resource) not in self.config.resources:
                raise AuthenticationError(INVALID_KEY)
            return await self._access_token(bearer)
        raise AuthenticationError(INVALID_KEY)

    async def _api_key(self, bearer: str) -> Principal:
        now = self.clock.now()
        key = await self.credentials.get_api_key_by_hash(self.hasher.hash(bearer))
        if key is None or not key.is_usable(now):
            raise AuthenticationError(INVALID_KEY)
        await self._check_account(key.account_id)
        await self._touch(key.key_id, key.last_used_at, now)
        return Principal(
            account_id=key.account_id,
            scopes=frozenset({key.scope}),
            actor=key.name,
            via="api_key",
            credential_id=str(key.key_id),
        )

    async def _access_token(self, bearer: str) -> Principal:
        now = self.clock.now()
        token = await self.credentials.get_token_by_access_hash(self.hasher.hash(bearer))
        if token is None or not token.access_valid(now):
            raise AuthenticationError(INVALID_KEY)
        # RFC 8707: a token is only good at the resource it was issued for. Both
        # of our resource identifiers name this one server, so either is accepted.
        if self._normalize(token.resource) not in self.config.resources:
            raise AuthenticationError(INVALID_KEY)
        client_name = await self._client_name(token.client_id)
        if client_name is None:
            raise AuthenticationError(INVALID_KEY)
        await self._check_account(token.account_id)
        return Principal(
            account_id=token.account_id,
            scopes=frozenset({token.scope}),
            actor=client_name,
            via="oauth",
            credential_id=str(token.family_id),
        )

    async def _check_account(self, account_id: UUID) -> Account:
        account = await self._account(account_id)
        if account is None or not account.is_active:
            raise AuthenticationError(INVALID_KEY)
        check_plan(self.config, account)
        return account

    async def _account(self, account_id: UUID) -> Account | None:
        # A short per-process cache: one fewer database round trip per request.
        ttl = self.config.account_cache_ttl.total_seconds()
        now = time.monotonic()
        cached = self._accounts.get(account_id)
        if cached is not None and now < cached[0]:
            return cached[1]
        async with self.storage.unit_of_work() as uow:
            account = await uow.accounts.get(account_id)
        if ttl > 0:
            if len(self._accounts) > 10_000:
                self._accounts.clear()
            self._accounts[account_id] = (now + ttl, account)
        return account

    async def _client_name(self, client_id: str) -> str | None:
        # Deleting a client deletes its tokens, so a cached name can never
        # keep a dead client's token alive; it only saves a round trip.
        now = time.monotonic()
        cached = self._clients.get(client_id)
        if cached is not None and now < cached[0]:
            return cached[1]
        client = await self.credentials.get_client(client_id)
        name = client.client_name if client is not None else None
        if len(self._clients) > 10_000:
            self._clients.clear()
        self._clients[client_id] = (now + 60.0, name)
        return name

    async def _touch(self, key_id: UUID, stored: datetime | None, now: datetime) -> None:
        # Two guards: the stored value (shared by replicas) and an in-process
        # memo so a burst of concurrent requests on one replica writes once.
        interval = self.config.api_key_touch_interval
        last = max(filter(None, (stored, self._touched.get(key_id))), default=None)
        if last is not None and now - last < interval:
            return
        self._touched[key_id] = now
        if len(self._touched) > 10_000:
            self._touched.clear()
        await self.credentials.touch_api_key(key_id, now)

    @staticmethod
    def _normalize(url: str) -> str:
        parts = urlsplit(url)
        path = parts.path.rstrip("/")
        return f"{parts.scheme}://{parts.netloc}{path}".rstrip("/")


def check_plan(config: OAuthConfig, account: Account) -> None:
    """Refuse accounts whose plan does not include integrations, when the operator requires one.

    Raises:
        PlanRequiredError: ``integrations_require_plan`` is on and the plan does not qualify.

    """
    if not config.integrations_require_plan:
        return
    allowed = config.plans_with_integrations
    if account.plan and (allowed is None or account.plan in allowed):
        return
    needed = " or ".join(sorted(allowed)) if allowed else "a paid"
    raise PlanRequiredError(
        f"integrations (API keys and connected apps) need {needed} plan; "
        "upgrade the account to use them",
        required_plan=sorted(allowed) if allowed else None,
    )
