"""Configuration: one tree of ``msgspec.Struct`` sections.

Settings come from three layers, later ones winning:

1. the defaults written below (the embedded profile: SQLite and files in the
   per-user data directory, see :func:`default_data_dir`; nothing else to run);
2. a TOML file, named by ``--config`` or ``TRACE_CONFIG``;
3. environment variables ``TRACE_<SECTION>_<FIELD>`` (e.g. ``TRACE_SERVER_PORT``)
   and the short aliases in :data:`ENV_ALIASES` (``TRACE_DATA_DIR``,
   ``TRACE_DATABASE_URL``, ``TRACE_PUBLIC_URL``).

Unknown keys are refused, naming the dotted path of the bad key (``server.prot``)
or the environment variable; a bad value names the field. Both raise
:class:`SettingsError`, an :class:`~trace_core.errors.InvalidInputError`.

Adding a setting: add a field with a default to the section's Struct (and a row
to the README's configuration table). Adding a section: subclass ``_Section``
(with ``frozen=True``) and give :class:`Settings` a field of that type; its
environment variables work at once.
"""

from __future__ import annotations

import ipaddress
import json
import os
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import msgspec

from trace_core.errors import InvalidInputError
from trace_core.limits import MAX_ATTACHMENT_BYTES

__all__ = [
    "CONFIG_ENV",
    "ENV_ALIASES",
    "AuthSettings",
    "BlobSettings",
    "LogSettings",
    "McpSettings",
    "MetricsSettings",
    "SearchSettings",
    "ServerSettings",
    "Settings",
    "SettingsError",
    "StorageSettings",
    "default_data_dir",
    "load_settings",
]

CONFIG_ENV = "TRACE_CONFIG"
"""Environment variable naming the TOML configuration file."""

ENV_PREFIX = "TRACE_"

ENV_ALIASES: dict[str, str] = {
    "TRACE_DATA_DIR": "storage.data_dir",
    "TRACE_DATABASE_URL": "storage.database_url",
    "TRACE_PUBLIC_URL": "server.public_url",
}
"""Short environment names for the settings people set most. The long form wins if both are set."""


MAX_ATTACHMENT_SETTING = 1024**3
"""The largest ``storage.max_attachment_bytes`` accepted: a file is held in memory whole."""


def default_data_dir() -> Path:
    """Return the per-user data directory: where Trace keeps its data unless told otherwise.

    ``platformdirs.user_data_dir("trace")``: ``$XDG_DATA_HOME/trace`` (by default
    ``~/.local/share/trace``) on Linux, ``~/Library/Application Support/trace`` on
    macOS, ``%LOCALAPPDATA%/trace`` on Windows. Read when asked, so the
    environment of the moment counts.
    """
    from platformdirs import user_data_dir

    return Path(user_data_dir("trace", appauthor=False))


class SettingsError(InvalidInputError):
    """The configuration is invalid: an unknown key, a bad value, an unreadable file."""


class _Section(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Base of every settings section: immutable, keyword-only, unknown keys refused.

    Subclasses repeat ``frozen=True``: msgspec inherits it, but type checkers
    (``dataclass_transform``) need to see it on each class.
    """


class ServerSettings(_Section, frozen=True):
    """The HTTP server (``trace serve``)."""

    host: str = "127.0.0.1"
    """Interface to listen on; ``0.0.0.0`` for every interface."""
    port: int = 8000
    """TCP port to listen on."""
    public_url: str | None = None
    """The origin people and assistants reach the server at (``https://trace.example.com``).

    Used for OAuth metadata, signed attachment URLs and the Host allow-list.
    Default: ``http://{host}:{port}``.
    """
    trusted_proxies: list[str] = []
    """Addresses or networks (``10.0.0.5``, ``10.0.0.0/8``) of reverse proxies in front.

    Only a connection from one of them may set the client address and scheme with
    ``X-Forwarded-For`` / ``X-Forwarded-Proto`` (the per-address limits on sign-in,
    sign-up and client registration count that address). Empty: the headers are
    ignored and the connecting peer is the client.
    """

    shutdown_timeout_seconds: int = 30
    """On SIGTERM or Ctrl-C, how long requests in flight may take to finish before they are cut.

    New connections are refused at once; 0 cuts requests in flight at once.
    """

    cursor_secret: str | None = None
    """Key for signing page cursors (``next_cursor``).

    Default: generated once into ``{data_dir}/cursor.key`` (mode 0600). Replicas
    must share it, or a cursor from one is refused by another.
    """

    def __post_init__(self) -> None:
        if not 0 < self.port < 65536:
            raise SettingsError("server.port", "must be between 1 and 65535")
        if not 0 <= self.shutdown_timeout_seconds <= 3600:
            raise SettingsError("server.shutdown_timeout_seconds", "must be from 0 to 3600")
        if self.cursor_secret is not None and len(self.cursor_secret) < 32:
            raise SettingsError("server.cursor_secret", "must be at least 32 characters")
        if self.public_url is not None and not re.match(r"^https?://[^/\s]+", self.public_url):
            raise SettingsError(
                "server.public_url", "must be an http(s) URL such as https://trace.example.com"
            )
        for proxy in self.trusted_proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError:
                raise SettingsError(
                    "server.trusted_proxies",
                    f"{proxy[:64]!r} is not an IP address or network "
                    "(such as 10.0.0.5, 10.0.0.0/8, fd00::/8)",
                ) from None

    @property
    def origin(self) -> str:
        """The public origin without a trailing slash."""
        if self.public_url:
            return self.public_url.rstrip("/")
        return f"http://{self.host}:{self.port}"


class BlobSettings(_Section, frozen=True):
    """Where attachment bytes are kept."""

    kind: Literal["filesystem", "s3"] = "filesystem"
    """Which blob store: ``filesystem`` (files under ``path``) or ``s3`` (a bucket).

    ``s3`` needs the ``trace-http[s3]`` extra; any S3-compatible server works
    (AWS S3, MinIO, Cloudflare R2, Ceph, ...).
    """
    path: str | None = None
    """Directory for attachment files. Default: ``{data_dir}/blobs``."""
    bucket: str | None = None
    """The S3 bucket (``kind = "s3"``; required then). It must exist already."""
    prefix: str = ""
    """A folder in the bucket for Trace's objects (``trace/``); empty: the bucket's top."""
    endpoint_url: str | None = None
    """An S3-compatible server (``https://minio.example.com:9000``).

    Default: AWS S3, or ``AWS_ENDPOINT_URL_S3`` / ``AWS_ENDPOINT_URL`` when set.
    """
    region: str | None = None
    """The bucket's region. Default: ``AWS_REGION`` / ``AWS_DEFAULT_REGION`` or the AWS config."""
    access_key_id: str | None = None
    """S3 access key id. Default: the standard AWS credential chain.

    That is ``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY`` (``AWS_SESSION_TOKEN``),
    the shared credentials file and ``AWS_PROFILE``, or an instance, container or
    web-identity role.
    """
    secret_access_key: str | None = None
    """The secret of ``access_key_id`` (give both or neither)."""
    presigned_downloads: bool = False
    """Serve attachment downloads from the bucket with presigned GET URLs.

    ``get_attachment_url`` then hands out a URL of the object store and the
    signed download route redirects to one, valid ``mcp.attachment_url_ttl_seconds``
    (at most 7 days). Off: downloads stream through Trace.
    """

    def __post_init__(self) -> None:
        if self.kind == "s3" and not self.bucket:
            raise SettingsError(
                "storage.blobs.bucket", 'is required when storage.blobs.kind is "s3"'
            )
        if (self.access_key_id is None) != (self.secret_access_key is None):
            raise SettingsError(
                "storage.blobs.access_key_id",
                "and storage.blobs.secret_access_key go together: set both or neither",
            )
        if self.endpoint_url is not None and not re.match(r"^https?://[^/\s]+", self.endpoint_url):
            raise SettingsError(
                "storage.blobs.endpoint_url",
                "must be an http(s) URL such as https://minio.example.com:9000",
            )


class StorageSettings(_Section, frozen=True):
    """The database and the data directory."""

    data_dir: str | None = None
    """Directory for the SQLite database, attachment files and generated secrets.

    Default: the per-user data directory (:func:`default_data_dir`), the same
    whatever the working directory. A relative path (``./trace-data``) is
    relative to the working directory.
    """
    database_url: str | None = None
    """SQLAlchemy URL. Default: ``sqlite+aiosqlite:///{data_dir}/trace.db``.

    For Postgres: ``postgresql+asyncpg://user:password@host:5432/trace``.
    """
    database_app_role: str | None = None
    """PostgreSQL: the role every query runs as, bound by row-level security (hosted profile).

    The login role of ``database_url`` owns the tables and runs the migrations;
    each pooled connection then switches to this role (a ``role`` startup
    setting), which must not be a superuser, have ``BYPASSRLS`` or be the owner
    (checked at start). Create it once: ``CREATE ROLE trace_app NOLOGIN;
    GRANT trace_app TO <login role>``; Trace grants it the tables after each
    migration. Unset: queries run as the login role (still under the policies,
    which bind the owner too). See docs/deploy.md.
    """
    migrate_on_start: bool = True
    """Upgrade the database schema when the server or a command starts."""
    trash_retention_days: int = 30
    """How long deleted entries stay restorable before they are purged for good."""
    maintenance_interval_seconds: int = 3600
    """How often the server purges expired trash (0 turns the background job off)."""
    sqlite_synchronous: Literal["full", "normal"] = "full"
    """SQLite's ``PRAGMA synchronous``: ``full`` = every acknowledged write survives power loss.

    ``normal`` (with WAL) still survives a process crash, but a power loss or OS
    crash may lose the last acknowledged transactions; writes are faster.
    Ignored on PostgreSQL.
    """
    max_attachment_bytes: int = MAX_ATTACHMENT_BYTES
    """The largest image file accepted as an attachment (10 MiB), by every door.

    MCP's ``add_attachment`` also states 10 MiB in its schema (its base64 ``data``
    is at most 13,981,016 characters), so raising this helps the CLI and the
    REST API only.
    """
    blobs: BlobSettings = BlobSettings()

    def __post_init__(self) -> None:
        if self.data_dir is not None and not self.data_dir.strip():
            raise SettingsError("storage.data_dir", "must not be empty")
        if self.trash_retention_days < 1:
            raise SettingsError("storage.trash_retention_days", "must be 1 or more")
        if self.maintenance_interval_seconds < 0:
            raise SettingsError("storage.maintenance_interval_seconds", "must be 0 or more")
        if not 1 <= self.max_attachment_bytes <= MAX_ATTACHMENT_SETTING:
            raise SettingsError(
                "storage.max_attachment_bytes",
                f"must be from 1 to {MAX_ATTACHMENT_SETTING:,} (1 GiB)",
            )
        url = self.database_url
        if url is not None and not re.match(r"^(sqlite|postgresql)(\+\w+)?://", url):
            raise SettingsError(
                "storage.database_url",
                "must be a sqlite+aiosqlite:/// or postgresql+asyncpg:// URL",
            )
        role = self.database_app_role
        if role is not None:
            if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]{0,62}", role):
                raise SettingsError(
                    "storage.database_app_role",
                    "must be a role name of letters, digits and underscores "
                    "(not starting with a digit, at most 63 characters)",
                )
            if url is None or url.startswith("sqlite"):
                raise SettingsError(
                    "storage.database_app_role",
                    "applies to PostgreSQL only: set storage.database_url to a "
                    "postgresql+asyncpg:// URL, or remove it",
                )

    @property
    def data_path(self) -> Path:
        """The data directory as a path (relative paths are relative to the working directory)."""
        return Path(self.data_dir) if self.data_dir is not None else default_data_dir()

    @property
    def url(self) -> str:
        """The database URL to connect to, defaulting to SQLite in the data directory."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_path / 'trace.db').as_posix()}"

    @property
    def blob_path(self) -> Path:
        """Directory of the filesystem blob store."""
        return Path(self.blobs.path) if self.blobs.path else self.data_path / "blobs"

    @property
    def is_sqlite(self) -> bool:
        """Whether the database is SQLite."""
        return self.url.startswith("sqlite")


class SearchSettings(_Section, frozen=True):
    """Full-text search."""

    kind: Literal["sql", "meilisearch"] = "sql"
    """``sql``: built into the database (SQLite FTS5 or Postgres full-text); ``meilisearch``."""

    language: str = "english"
    """PostgreSQL text-search configuration (stemming, stop words): ``english``, ``simple``..."""

    meilisearch_url: str | None = None
    """The Meilisearch server, e.g. ``http://127.0.0.1:7700`` (``kind = "meilisearch"``)."""

    meilisearch_api_key: str | None = None
    """A Meilisearch key allowed to search, write documents and change index settings."""

    meilisearch_index: str = "trace_entries"
    """The Meilisearch index holding every account's entries."""

    fallback_to_sql: bool = False
    """While Meilisearch is down, answer from the SQL index instead of "unavailable"."""


class AuthSettings(_Section, frozen=True):
    """Sign-in, API keys and OAuth."""

    access_token_ttl_seconds: int = 3600
    """Lifetime of OAuth access tokens (the reference issued 1-year tokens: 31536000)."""
    refresh_token_ttl_seconds: int = 365 * 24 * 3600
    """Lifetime of OAuth refresh tokens; each refresh rotates to a new one."""
    refresh_grace_seconds: int = 60
    """How long a just-rotated refresh token still works (a client retrying a lost answer)."""
    integrations_require_plan: bool = False
    """Refuse API keys and OAuth (403) for accounts without a plan (hosted deployments)."""
    plans_with_integrations: list[str] = []
    """With ``integrations_require_plan``: the plans that qualify (empty: any plan)."""
    credential_hash_key: str | None = None
    """Pepper for hashing API keys and tokens at rest; changing it invalidates them all."""
    session_secret: str | None = None
    """Key for signing the sign-in cookie. Default: generated into ``{data_dir}/session.key``."""
    session_idle_hours: int = 7 * 24
    """A sign-in on the web pages ends after this long unused (each use renews it)."""
    session_max_days: int = 30
    """A sign-in ends this long after it started, however often it is used."""
    registrations_per_hour: int = 100
    """OAuth client registrations allowed per client address per hour.

    Hosted clients (Claude.ai, ChatGPT) register from their own servers, so many
    people share one address: raise this on a multi-tenant deployment.
    """
    login_attempts_per_15_minutes: int = 10
    """Sign-in attempts allowed per email in 15 minutes (per address: five times as many)."""
    unused_client_ttl_seconds: int = 24 * 3600
    """Registered OAuth clients never used for this long are deleted."""
    client_metadata_documents: bool = True
    """Accept Client ID Metadata Documents; turn off on servers without outbound internet."""
    cimd_allow_private_addresses: bool = False
    """Fetch client metadata documents from private or loopback addresses (tests only)."""
    open_signup: bool = False
    """Let anyone create an account on the ``/signup`` page (linked from the sign-in page)."""
    oidc_issuer: str | None = None
    """OpenID Connect provider for "Sign in with …" (``https://accounts.google.com``)."""
    oidc_client_id: str | None = None
    """The OAuth client id Trace has at that provider."""
    oidc_client_secret: str | None = None
    """Its client secret. Register ``{public_url}/authorize/oidc/callback`` there."""
    oidc_name: str = "Google"
    """Provider name on the button ("Sign in with Google")."""

    def __post_init__(self) -> None:
        for name in (
            *("access_token_ttl_seconds", "refresh_token_ttl_seconds", "registrations_per_hour"),
            *("login_attempts_per_15_minutes", "unused_client_ttl_seconds"),
            *("session_idle_hours", "session_max_days"),
        ):
            if getattr(self, name) < 1:
                raise SettingsError(f"auth.{name}", "must be at least 1")
        if self.refresh_grace_seconds < 0:
            raise SettingsError("auth.refresh_grace_seconds", "must not be negative")
        if self.session_secret is not None and len(self.session_secret) < 32:
            raise SettingsError("auth.session_secret", "must be at least 32 characters")
        if self.session_idle_hours > self.session_max_days * 24:
            raise SettingsError("auth.session_idle_hours", "must not exceed auth.session_max_days")


class McpSettings(_Section, frozen=True):
    """The MCP endpoint (``/``, ``/mcp``) and its tools."""

    allowed_hosts: list[str] = []
    """Extra ``Host`` names the endpoint answers for (``name``, ``name:port``, ``name:*``).

    The public URL's host and loopback names are always allowed.
    """
    allowed_origins: list[str] = []
    """Extra browser origins allowed to call the endpoint (``https://app.example.com``)."""
    rate_limit_burst: int = 100
    """Tool calls one key may make at once (then ``rate_limit_per_second``).

    Only work counts against it: MCP ``tools/call`` and REST API requests.
    """
    rate_limit_per_second: float = 10.0
    """Sustained tool calls per second per key; over it the answer is 429 with Retry-After."""
    rate_limit_other_multiplier: float = 10.0
    """The flood guard for everything else (``initialize``, notifications, ``tools/list``...).

    Every request to ``/mcp`` counts against a second budget per key, this many times
    ``rate_limit_burst`` and ``rate_limit_per_second`` (1000 at once, 100 per second by
    default), so handshakes never use up the tool-call budget.
    """
    rate_limit_shared: bool | None = None
    """Count rate limits in the database (shared by replicas). Default: yes on PostgreSQL."""
    max_response_chars: int = 100_000
    """Cap on one tool answer in characters (about 25k tokens)."""
    attachment_url_secret: str | None = None
    """Key for signing attachment URLs.

    Default: generated once into ``{data_dir}/attachment-url.key`` (mode 0600).
    """
    attachment_url_ttl_seconds: int = 3600
    """How long a signed attachment URL works."""
    disable_auth_for_tests: bool = False
    """Serve MCP without authentication as ``test_user`` (tests only; loopback addresses only)."""
    test_user: str | None = None
    """Email of the account used when ``disable_auth_for_tests`` is on (created if missing)."""

    def __post_init__(self) -> None:
        if self.rate_limit_burst < 1:
            raise SettingsError("mcp.rate_limit_burst", "must be at least 1")
        if self.rate_limit_per_second <= 0:
            raise SettingsError("mcp.rate_limit_per_second", "must be more than 0")
        if self.rate_limit_other_multiplier < 1:
            raise SettingsError(
                "mcp.rate_limit_other_multiplier", "must be at least 1 (for example 10)"
            )
        if self.max_response_chars < 1000:
            raise SettingsError("mcp.max_response_chars", "must be at least 1000")
        if self.attachment_url_secret is not None and len(self.attachment_url_secret) < 32:
            raise SettingsError("mcp.attachment_url_secret", "must be at least 32 characters")


class LogSettings(_Section, frozen=True):
    """Logging."""

    level: Literal["debug", "info", "warning", "error"] = "info"
    """Lowest level written to the log."""
    format: Literal["text", "json"] = "text"
    """``text``: one readable line per event; ``json``: one JSON object per line (log shippers).

    Either way the server writes an access line per request (method, path without
    the query, route, status, duration, request id) and never a credential.
    """


class MetricsSettings(_Section, frozen=True):
    """Prometheus metrics (``/metrics``)."""

    enabled: bool = False
    """Serve ``/metrics`` in the Prometheus text format."""
    host: str = "127.0.0.1"
    """Interface of the metrics listener (its own port, never the public one)."""
    port: int = 9464
    """TCP port of the metrics listener."""
    on_public_port: bool = False
    """Serve ``/metrics`` on the public port instead (only behind a proxy that hides it)."""

    def __post_init__(self) -> None:
        if not 0 < self.port < 65536:
            raise SettingsError("metrics.port", "must be between 1 and 65535")


class Settings(_Section, frozen=True):
    """Every setting of a Trace deployment."""

    server: ServerSettings = ServerSettings()
    storage: StorageSettings = StorageSettings()
    search: SearchSettings = SearchSettings()
    auth: AuthSettings = AuthSettings()
    mcp: McpSettings = McpSettings()
    log: LogSettings = LogSettings()
    metrics: MetricsSettings = MetricsSettings()


# --- loading ----------------------------------------------------------------------

_UNKNOWN = re.compile(r"^Object contains unknown field `(?P<key>[^`]+)`(?: - at `\$(?P<at>.*)`)?$")
_AT = re.compile(r"^(?P<message>.*) - at `\$(?P<at>.*)`$")


def _dotted(at: str) -> str:
    """Turn msgspec's ``$.server.port`` location (without ``$``) into ``server.port``."""
    return at.lstrip(".")


def _translate(exc: msgspec.ValidationError, source: str) -> SettingsError:
    """Turn msgspec's validation error into a SettingsError naming the dotted path."""
    text = str(exc)
    if m := _UNKNOWN.match(text):
        path = ".".join(p for p in (_dotted(m["at"] or ""), m["key"]) if p)
        return SettingsError(path, f"unknown setting (in {source})")
    if m := _AT.match(text):
        return SettingsError(_dotted(m["at"]), f"{m['message']} (in {source})")
    return SettingsError("settings", f"{text} (in {source})")


def _sections() -> dict[str, type[msgspec.Struct]]:
    """Map each section name of :class:`Settings` to its Struct type."""
    out: dict[str, type[msgspec.Struct]] = {}
    for f in msgspec.structs.fields(Settings):
        if isinstance(f.type, type) and issubclass(f.type, msgspec.Struct):
            out[f.name] = f.type
    return out


def _field_type(path: str) -> Any:
    """Return the annotated type of the setting at dotted ``path``, or raise KeyError."""
    node: Any = Settings
    for part in path.split("."):
        if not (isinstance(node, type) and issubclass(node, msgspec.Struct)):
            raise KeyError(path)
        fields = {f.name: f.type for f in msgspec.structs.fields(node)}
        node = fields[part]
    return node


def _env_value(raw: str, field_type: Any) -> Any:
    """Prepare an environment string for conversion to ``field_type``.

    Scalars are converted leniently by msgspec (``"8000"`` → 8000, ``"true"`` →
    True); lists accept JSON or comma-separated values; objects accept JSON.
    An empty string means "unset" (None) for optional fields.
    """
    info = msgspec.inspect.type_info(field_type)
    kinds = info.types if isinstance(info, msgspec.inspect.UnionType) else (info,)
    if raw == "" and any(isinstance(k, msgspec.inspect.NoneType) for k in kinds):
        return None
    if any(isinstance(k, (msgspec.inspect.DictType, msgspec.inspect.StructType)) for k in kinds):
        return json.loads(raw)
    if any(
        isinstance(
            k,
            (
                msgspec.inspect.ListType,
                msgspec.inspect.TupleType,
                msgspec.inspect.VarTupleType,
                msgspec.inspect.SetType,
                msgspec.inspect.FrozenSetType,
            ),
        )
        for k in kinds
    ):
        if raw.lstrip().startswith("["):
            return json.loads(raw)
        return [item.strip() for item in raw.split(",") if item.strip()]
    return raw


def _env_overrides(env: Mapping[str, str]) -> dict[str, tuple[str, str]]:
    """Collect ``dotted path -> (variable name, raw value)`` from the environment.

    A variable that starts with a known section's prefix (``TRACE_SERVER_``) but
    names no field of it is an error, so a typo never silently does nothing.
    Other ``TRACE_*`` variables (``TRACE_CONFIG``, ``TRACE_TEST_*``) are ignored.
    """
    sections = _sections()
    found: dict[str, tuple[str, str]] = {}
    for name, path in ENV_ALIASES.items():
        if name in env:
            found[path] = (name, env[name])
    # Longest section name first, so a section "mcp_x" would win over "mcp".
    ordered = sorted(sections, key=len, reverse=True)
    for name, value in env.items():
        if not name.startswith(ENV_PREFIX) or name in ENV_ALIASES or name == CONFIG_ENV:
            continue
        rest = name[len(ENV_PREFIX) :].lower()
        section = next((s for s in ordered if rest.startswith(s + "_")), None)
        if section is None:
            continue
        key = rest[len(section) + 1 :]
        dotted = _resolve_env_key(sections[section], key, section)
        if dotted is None:
            raise SettingsError(
                f"{section}.{key}", f"unknown setting (environment variable {name})"
            )
        found[dotted] = (name, value)
    return found


def _resolve_env_key(struct: type[msgspec.Struct], key: str, prefix: str) -> str | None:
    """Find the dotted path of ``key`` (``blobs_path``) in ``struct``, nested Structs too."""
    for f in msgspec.structs.fields(struct):
        if key == f.name:
            return f"{prefix}.{f.name}"
        if (
            key.startswith(f.name + "_")
            and isinstance(f.type, type)
            and issubclass(f.type, msgspec.Struct)
        ):
            found = _resolve_env_key(f.type, key[len(f.name) + 1 :], f"{prefix}.{f.name}")
            if found:
                return found
    return None


def _set_path(tree: dict[str, Any], path: str, value: Any) -> None:
    """Set ``tree[a][b][c] = value`` for ``path`` ``a.b.c``, creating tables as needed."""
    *parents, leaf = path.split(".")
    node = tree
    for part in parents:
        child = node.get(part)
        if not isinstance(child, dict):
            child = {}
            node[part] = child
        node = child
    node[leaf] = value


def _read_toml(path: Path) -> dict[str, Any]:
    """Read a TOML file, naming the file and line in errors."""
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        raise SettingsError("config", f"configuration file {path} does not exist") from None
    except OSError as exc:
        raise SettingsError("config", f"cannot read {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError("config", f"{path} is not valid TOML: {exc}") from exc


def load_settings(
    config: str | Path | None = None, *, env: Mapping[str, str] | None = None
) -> Settings:
    """Build the settings from defaults, a TOML file and the environment.

    Args:
        config: the TOML file; if None, ``TRACE_CONFIG`` from ``env`` names it (optional).
        env: the environment to read (default ``os.environ``).

    Returns:
        The validated settings.

    Raises:
        SettingsError: unknown key (naming its dotted path or variable), bad value
            (naming the field), or an unreadable configuration file.

    """
    env = os.environ if env is None else env
    if config is None and env.get(CONFIG_ENV):
        config = env[CONFIG_ENV]
    tree: dict[str, Any] = {}
    source = "defaults"
    if config is not None:
        path = Path(config)
        tree = _read_toml(path)
        source = str(path)
        # Validate the file alone first, so its mistakes are reported against the file.
        try:
            msgspec.convert(tree, Settings)
        except msgspec.ValidationError as exc:
            raise _translate(exc, source) from None
        except SettingsError as exc:
            raise SettingsError(exc.field, f"{_bare(exc)} (in {source})") from None
    for path_, (var, raw) in _env_overrides(env).items():
        field_type = _field_type(path_)
        try:
            value = msgspec.convert(_env_value(raw, field_type), field_type, strict=False)
        except (msgspec.ValidationError, ValueError) as exc:
            raise SettingsError(path_, f"bad value in {var}: {exc}") from None
        _set_path(tree, path_, msgspec.to_builtins(value))
    try:
        return msgspec.convert(tree, Settings)
    except msgspec.ValidationError as exc:
        where = "environment" if config is None else f"{source} + environment"
        raise _translate(exc, where) from None


def _bare(exc: SettingsError) -> str:
    """Return the message of ``exc`` without its ``field: `` prefix."""
    prefix = f"{exc.field}: "
    return exc.message[len(prefix) :] if exc.message.startswith(prefix) else exc.message
