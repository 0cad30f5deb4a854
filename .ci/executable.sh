#!/usr/bin/env bash
# The single-file executable, built and smoke-tested:
#
#   1. .ci/build-executable.sh (PyInstaller onefile), unless the cache holds a build of
#      exactly these sources: the key is a hash of uv.lock, packaging/, every tracked file
#      under packages/, the build script, the Python version and the platform;
#   2. .ci/executable_smoke.py: the executable copied into a fresh temporary directory and
#      run there with no Python, venv or uv in its environment.
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
    rm -rf "$cache/$key.partial"
    TRACE_EXE_DIST="$cache/$key.partial" .ci/build-executable.sh
    find "$cache" -mindepth 1 -maxdepth 1 ! -name "$key.partial" -exec rm -rf {} +
    mv "$cache/$key.partial" "$cache/$key"
fi
uv run --no-sync python .ci/executable_smoke.py "$exe"
