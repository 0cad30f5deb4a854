"""Settings: defaults, TOML file, TRACE_* environment, and errors that name the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from trace_http.settings import ENV_ALIASES, Settings, SettingsError, load_settings


def _toml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "trace.toml"
    path.write_text(text)
    return path


def test_no_configuration_gives_the_embedded_default(per_user_data_dir: Path) -> None:
    settings = load_settings(env={})
    assert settings == Settings()
    assert settings.storage.data_path == per_user_data_dir
    assert settings.storage.url == f"sqlite+aiosqlite:///{per_user_data_dir}/trace.db"
    assert settings.storage.blob_path == per_user_data_dir / "blobs"
    assert settings.search.kind == "sql"
    assert settings.server.origin == "http://127.0.0.1:8000"


def test_toml_file_sets_values(tmp_path: Path) -> None:
    config = _toml(
        tmp_path,
        '[server]\nport = 9000\npublic_url = "https://trace.example.com/"\n'
        '[storage]\ndata_dir = "/srv/trace"\n[storage.blobs]\npath = "/mnt/blobs"\n',
    )
    settings = load_settings(config, env={})
    assert settings.server.port == 9000
    assert settings.server.origin == "https://trace.example.com"
    assert settings.storage.url == "sqlite+aiosqlite:////srv/trace/trace.db"
    assert settings.storage.blob_path == Path("/mnt/blobs")


def test_trace_config_names_the_file(tmp_path: Path) -> None:
    config = _toml(tmp_path, "[server]\nport = 9001\n")
    assert load_settings(env={"TRACE_CONFIG": str(config)}).server.port == 9001


def test_environment_overrides_the_file(tmp_path: Path) -> None:
    config = _toml(tmp_path, "[server]\nport = 9000\nhost = '0.0.0.0'\n")
    settings = load_settings(config, env={"TRACE_SERVER_PORT": "9100"})
    assert settings.server.port == 9100
    assert settings.server.host == "0.0.0.0"


@pytest.mark.parametrize(("variable", "path"), sorted(ENV_ALIASES.items()))
def test_short_aliases_set_their_setting(variable: str, path: str) -> None:
    value = {
        "storage.data_dir": "/data",
        "storage.database_url": "postgresql+asyncpg://u@db/trace",
        "server.public_url": "https://notes.example.org",
    }[path]
    settings = load_settings(env={variable: value})
    section, field = path.split(".")
    assert getattr(getattr(settings, section), field) == value


def test_the_long_form_wins_over_an_alias() -> None:
    env = {"TRACE_DATA_DIR": "/short", "TRACE_STORAGE_DATA_DIR": "/long"}
    assert load_settings(env=env).storage.data_dir == "/long"


def test_database_url_from_the_environment_replaces_the_sqlite_default() -> None:
    url = "postgresql+asyncpg://postgres@127.0.0.1:5432/trace"
    settings = load_settings(env={"TRACE_DATABASE_URL": url})
    assert settings.storage.url == url
    assert not settings.storage.is_sqlite


def test_nested_sections_and_booleans_come_from_the_environment() -> None:
    settings = load_settings(
        env={"TRACE_STORAGE_BLOBS_PATH": "/b", "TRACE_STORAGE_MIGRATE_ON_START": "false"}
    )
    assert settings.storage.blob_path == Path("/b")
    assert settings.storage.migrate_on_start is False


def test_an_empty_variable_clears_an_optional_setting(tmp_path: Path) -> None:
    config = _toml(tmp_path, "[server]\npublic_url = 'https://a.example'\n")
    assert load_settings(config, env={"TRACE_PUBLIC_URL": ""}).server.public_url is None


def test_unrelated_trace_variables_are_ignored() -> None:
    env = {"TRACE_TEST_POSTGRES_URL": "postgresql://x", "TRACE_SOMETHING": "1"}
    assert load_settings(env=env) == Settings()


def test_unknown_key_in_the_file_is_named_by_dotted_path(tmp_path: Path) -> None:
    config = _toml(tmp_path, "[storage.blobs]\nkind = 'filesystem'\ncolour = 'red'\n")
    with pytest.raises(SettingsError) as info:
        load_settings(config, env={})
    assert info.value.field == "storage.blobs.colour"
    assert str(config) in info.value.message


def test_unknown_section_in_the_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as info:
        load_settings(_toml(tmp_path, "[database]\nurl = 'x'\n"), env={})
    assert info.value.field == "database"


def test_unknown_variable_of_a_known_section_is_named() -> None:
    with pytest.raises(SettingsError) as info:
        load_settings(env={"TRACE_SERVER_PROT": "1"})
    assert info.value.field == "server.prot"
    assert "TRACE_SERVER_PROT" in info.value.message


def test_bad_value_in_the_file_names_the_field(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as info:
        load_settings(_toml(tmp_path, "[server]\nport = 'eighty'\n"), env={})
    assert info.value.field == "server.port"


def test_bad_value_in_the_environment_names_the_field_and_variable() -> None:
    with pytest.raises(SettingsError) as info:
        load_settings(env={"TRACE_SERVER_PORT": "eighty"})
    assert info.value.field == "server.port"
    assert "TRACE_SERVER_PORT" in info.value.message


@pytest.mark.parametrize(
    ("env", "field"),
    [
        ({"TRACE_SERVER_PORT": "70000"}, "server.port"),
        ({"TRACE_PUBLIC_URL": "trace.example.com"}, "server.public_url"),
        ({"TRACE_DATABASE_URL": "mysql://db/trace"}, "storage.database_url"),
        ({"TRACE_SEARCH_KIND": "elastic"}, "search.kind"),
        ({"TRACE_LOG_LEVEL": "loud"}, "log.level"),
        ({"TRACE_STORAGE_MAX_ATTACHMENT_BYTES": "0"}, "storage.max_attachment_bytes"),
        ({"TRACE_STORAGE_MAX_ATTACHMENT_BYTES": str(2**31)}, "storage.max_attachment_bytes"),
        (
            {
                "TRACE_DATABASE_URL": "postgresql+asyncpg://db/trace",
                "TRACE_STORAGE_DATABASE_APP_ROLE": "app; DROP TABLE entries",
            },
            "storage.database_app_role",
        ),
        # Row-level security is PostgreSQL's: on SQLite the setting is refused, not ignored.
        ({"TRACE_STORAGE_DATABASE_APP_ROLE": "trace_app"}, "storage.database_app_role"),
    ],
)
def test_out_of_range_values_are_refused_naming_the_field(env: dict[str, str], field: str) -> None:
    with pytest.raises(SettingsError) as info:
        load_settings(env=env)
    assert info.value.field == field


def test_invalid_toml_is_reported_with_the_file_name(tmp_path: Path) -> None:
    config = _toml(tmp_path, "[server\nport = 1\n")
    with pytest.raises(SettingsError) as info:
        load_settings(config, env={})
    assert info.value.field == "config"
    assert str(config) in info.value.message


def test_a_missing_config_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(SettingsError) as info:
        load_settings(tmp_path / "missing.toml", env={})
    assert info.value.field == "config"


def test_every_setting_is_documented_in_the_readme() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()

    def paths(struct: type, prefix: str) -> list[str]:
        import msgspec

        out = []
        for f in msgspec.structs.fields(struct):
            if isinstance(f.type, type) and issubclass(f.type, msgspec.Struct):
                out.extend(paths(f.type, f"{prefix}{f.name}."))
            else:
                out.append(prefix + f.name)
        return out

    missing = [p for p in paths(Settings, "") if f"`{p}`" not in readme]
    assert not missing, f"settings missing from the README's configuration table: {missing}"
