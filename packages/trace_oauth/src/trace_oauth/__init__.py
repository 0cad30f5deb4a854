"""trace_oauth: sign-in, API keys and the OAuth 2.1 authorization server of Trace.

- :mod:`trace_oauth.passwords` — argon2id password hashing;
- :mod:`trace_oauth.tokens` — random secrets and their keyed hashes at rest;
- :mod:`trace_oauth.api_keys` — create, list, revoke API keys;
- :mod:`trace_oauth.authenticator` — :class:`BearerAuthenticator`, API keys and
  access tokens to a :class:`~trace_core.model.Principal`;
- :mod:`trace_oauth.server` — :class:`AuthorizationService`, the authorization
  server on authlib (framework-free requests and responses);
- :mod:`trace_oauth.clients` — registration metadata, redirect-URI rules, Client
  ID Metadata Documents;
- :mod:`trace_oauth.sessions` — :class:`WebSessions`, sign-in sessions of the
  pages (kept in the credential store) and the CSRF tokens bound to them.

Knows nothing of Litestar: trace_http wraps it.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from trace_oauth.api_keys import ApiKeyService, CreatedApiKey
    from trace_oauth.authenticator import BearerAuthenticator
    from trace_oauth.clients import CimdFetcher
    from trace_oauth.config import OAuthConfig
    from trace_oauth.passwords import hash_password, verify_password
    from trace_oauth.server import (
        AuthorizationPageError,
        AuthorizationPrompt,
        AuthorizationService,
        OAuthRequest,
        OAuthResponse,
    )
    from trace_oauth.sessions import WebSessions, set_password
    from trace_oauth.tokens import SecretHasher

# Imported on first use, so `trace user create` (passwords only) does not load authlib.
_LAZY = {
    "ApiKeyService": "trace_oauth.api_keys",
    "AuthorizationPageError": "trace_oauth.server",
    "AuthorizationPrompt": "trace_oauth.server",
    "AuthorizationService": "trace_oauth.server",
    "BearerAuthenticator": "trace_oauth.authenticator",
    "CimdFetcher": "trace_oauth.clients",
    "CreatedApiKey": "trace_oauth.api_keys",
    "OAuthConfig": "trace_oauth.config",
    "OAuthRequest": "trace_oauth.server",
    "OAuthResponse": "trace_oauth.server",
    "SecretHasher": "trace_oauth.tokens",
    "WebSessions": "trace_oauth.sessions",
    "hash_password": "trace_oauth.passwords",
    "set_password": "trace_oauth.sessions",
    "verify_password": "trace_oauth.passwords",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'trace_oauth' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = [
    "ApiKeyService",
    "AuthorizationPageError",
    "AuthorizationPrompt",
    "AuthorizationService",
    "BearerAuthenticator",
    "CimdFetcher",
    "CreatedApiKey",
    "OAuthConfig",
    "OAuthRequest",
    "OAuthResponse",
    "SecretHasher",
    "WebSessions",
    "hash_password",
    "set_password",
    "verify_password",
]
