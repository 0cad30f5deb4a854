#!/usr/bin/env bash
# The single-file executable, built and smoke-tested:
#
#   1. .ci/build-executable.sh (PyInstaller onefile), unless the cache holds a build of
#      exactly these sources: the key is a hash of uv.lock, packaging/, every tracked file
#      under packages/, the build script, the Python version and the platform;
#   2. .ci/executable_smoke.py: the executable copied into a fresh temporary directory and
#      run there with no Python, venv or uv in its environment; on SQLite, then on a new
#      PostgreSQL database (TRACE_TEST_POSTGRES_URL's server; required when CI=true).
#
# The cache lives in TRACE_CI_CACHE (default ~/.cache/trace-ci)/executable/KEY/ and keeps
# the newest build only (one build is ~35 MB; building takes about a minute on two cores).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
cache="${TRACE_CI_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/trace-ci}/executable"
key=$(
    {
        uv run --no-sync python -VV
        uname -sm
        git ls-files -z uv.lock packaging packages .ci/build-executable.sh | xargs -0 sha256sum
    } | sha256sum | cut -c1-20
)
exe="$cache/$key/trace"
if [[ -x "$exe" ]]; then
    echo "executable from the cache ($key)"
else
    mkdir -p "$cache"
    partial="$cache/$key.$$.partial"  # several checkouts on one machine may build at once
    TRACE_EXE_DIST="$partial" .ci/build-executable.sh
    # Older builds go; another run's build in progress (*.partial) is left alone unless it
    # is over an hour old (a build that failed).
    find "$cache" -mindepth 1 -maxdepth 1 ! -name '*.partial' ! -name "$key" -exec rm -rf {} +
    find "$cache" -mindepth 1 -maxdepth 1 -name '*.partial' -mmin +60 -exec rm -rf {} +
    if [[ -e "$cache/$key" ]]; then
        rm -rf "$partial"  # the same sources were built meanwhile
    else
        mv "$partial" "$cache/$key"
    fi
fi

# On PostgreSQL too (the asyncpg driver inside the bundle), in a database made for it.
pg_admin="${TRACE_TEST_POSTGRES_URL:-postgresql+asyncpg://postgres@127.0.0.1:5432/test}"
pg_name="trace_exe_smoke_$$"
if pg_url=$(uv run --no-sync python .ci/pg_database.py create "$pg_admin" "$pg_name"); then
    trap 'uv run --no-sync python .ci/pg_database.py drop "$pg_admin" "$pg_name"' EXIT
    uv run --no-sync python .ci/executable_smoke.py "$exe" --postgres "$pg_url"
elif [[ "${CI:-}" == true ]]; then
    echo "PostgreSQL is not reachable at $pg_admin (CI=true: required)" >&2
    exit 1
else
    echo "PostgreSQL is not reachable at $pg_admin: the executable is tested on SQLite only"
    uv run --no-sync python .ci/executable_smoke.py "$exe"
fi
