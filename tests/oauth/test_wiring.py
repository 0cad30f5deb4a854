"""The OAuth routes and parts built from settings, as ``trace serve`` builds them."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import msgspec
import pytest

from trace_core.service import Trace
from trace_core.testing.memory import InMemoryBlobStore, InMemoryStorage
from trace_http.bootstrap import oauth_config, runtime_for, session_secret
from trace_http.runtime import Runtime
from trace_http.settings import AuthSettings, ServerSettings, Settings, StorageSettings
from trace_http.web.app import create_app


def _runtime(tmp_path: Path, auth: AuthSettings | None = None) -> Runtime:
    settings = Settings(
        server=ServerSettings(public_url="https://trace.example/"),
        storage=StorageSettings(data_dir=str(tmp_path)),
        auth=auth or AuthSettings(),
    )
    trace = Trace(storage=InMemoryStorage(), blobs=InMemoryBlobStore())
    return runtime_for(settings, trace=trace, background=())


def _paths(runtime: Runtime) -> set[str]:
    return {route.path for route in create_app(runtime).routes}


def test_every_oauth_route_is_built_from_settings(tmp_path: Path) -> None:
    paths = _paths(_runtime(tmp_path))
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
    runtime = _runtime(tmp_path, auth)
    assert {"/signup", "/authorize/oidc", "/authorize/oidc/callback"} <= _paths(runtime)
    assert runtime.oidc is not None
    assert runtime.oidc.redirect_uri == "https://trace.example/authorize/oidc/callback"


@pytest.mark.anyio
async def test_open_signup_creates_an_account_with_a_hashed_password(tmp_path: Path) -> None:
    runtime = _runtime(tmp_path, AuthSettings(open_signup=True))
    assert runtime.signup is not None

    account = await runtime.signup("ada@example.org", "a long passphrase", "Ada")

    assert account.name == "Ada"
    assert account.password_hash is not None
    assert account.password_hash.startswith("$argon2id$")


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
    # The runtime's authorization service and authenticator use the same configuration.
    runtime = _runtime(tmp_path, auth)
    assert runtime.oauth.config == oauth_config(Settings(auth=auth), "https://trace.example")


def test_the_session_secret_is_generated_once_into_the_data_dir(tmp_path: Path) -> None:
    settings = Settings(storage=StorageSettings(data_dir=str(tmp_path)))
    first = session_secret(settings)
    assert first == session_secret(settings)
    assert len(first) >= 32
    assert (tmp_path / "session.key").stat().st_mode & 0o077 == 0
    configured = msgspec.structs.replace(settings, auth=AuthSettings(session_secret="k" * 40))
    assert session_secret(configured) == b"k" * 40


def test_the_session_key_is_written_only_when_the_pages_need_it(tmp_path: Path) -> None:
    runtime = _runtime(tmp_path)

    assert not (tmp_path / "session.key").exists()
    assert not (tmp_path / "attachment-url.key").exists()
    runtime.session_secret  # noqa: B018 - built on first use
    assert (tmp_path / "session.key").exists()


@pytest.mark.parametrize("part", ["oauth", "authenticator", "api_keys", "web_sessions", "signer"])
def test_a_part_given_to_the_root_is_the_part_the_runtime_holds(tmp_path: Path, part: str) -> None:
    built = getattr(_runtime(tmp_path), part)
    settings = Settings(storage=StorageSettings(data_dir=str(tmp_path)))
    trace = Trace(storage=InMemoryStorage(), blobs=InMemoryBlobStore())

    runtime = runtime_for(settings, trace=trace, **{part: built})

    assert getattr(runtime, part) is built
