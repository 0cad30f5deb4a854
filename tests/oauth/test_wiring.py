"""The OAuth routes built from settings, as ``trace serve`` builds them."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import msgspec

from trace_core.testing.memory import FixedClock, InMemoryStorage
from trace_core.testing.memory_credentials import InMemoryCredentialStore
from trace_http.oauth_routes import oauth_config, oauth_handlers_from_settings, session_secret
from trace_http.settings import AuthSettings, Settings, StorageSettings


def _paths(handlers: list) -> set[str]:  # type: ignore[type-arg]
    return {path for handler in handlers for path in handler.paths}


def test_every_oauth_route_is_built_from_settings(tmp_path: Path) -> None:
    settings = Settings(storage=StorageSettings(data_dir=str(tmp_path)))
    handlers = oauth_handlers_from_settings(
        settings,
        public_url="https://trace.example/",
        storage=InMemoryStorage(),
        credentials=InMemoryCredentialStore(),
        clock=FixedClock(),
    )
    paths = _paths(handlers)
    for path in (
        "/.well-known/oauth-authorization-server",
        "/.well-known/openid-configuration",
        "/authorize",
        "/authorize/login",
        "/authorize/consent",
        "/token",
        "/register",
        "/revoke",
        "/signin",
        "/settings/integrations",
    ):
        assert path in paths, path
    assert "/signup" not in paths
    assert "/authorize/oidc" not in paths


def test_optional_pages_appear_when_configured(tmp_path: Path) -> None:
    auth = AuthSettings(
        open_signup=True,
        oidc_issuer="https://accounts.google.com",
        oidc_client_id="id",
        oidc_client_secret="secret",
    )
    settings = Settings(storage=StorageSettings(data_dir=str(tmp_path)), auth=auth)
    from trace_core.service import Trace
    from trace_core.testing.memory import InMemoryBlobStore

    storage = InMemoryStorage()
    handlers = oauth_handlers_from_settings(
        settings,
        public_url="https://trace.example",
        storage=storage,
        credentials=InMemoryCredentialStore(),
        clock=FixedClock(),
        trace=Trace(storage=storage, blobs=InMemoryBlobStore()),
    )
    paths = _paths(handlers)
    assert {"/signup", "/authorize/oidc", "/authorize/oidc/callback"} <= paths


def test_auth_settings_become_the_oauth_config(tmp_path: Path) -> None:
    auth = AuthSettings(
        access_token_ttl_seconds=31536000,
        refresh_grace_seconds=5,
        integrations_require_plan=True,
        plans_with_integrations=["pro"],
    )
    config = oauth_config(Settings(auth=auth), "https://trace.example/")
    assert config.issuer == "https://trace.example"
    assert config.access_token_ttl == timedelta(days=365)
    assert config.refresh_grace == timedelta(seconds=5)
    assert config.plans_with_integrations == frozenset({"pro"})


def test_the_session_secret_is_generated_once_into_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(storage=StorageSettings(data_dir=str(tmp_path)))
    first = session_secret(settings)
    assert first == session_secret(settings)
    assert len(first) >= 32
    assert (tmp_path / "session.key").stat().st_mode & 0o077 == 0
    configured = msgspec.structs.replace(settings, auth=AuthSettings(session_secret="k" * 40))
    assert session_secret(configured) == b"k" * 40
