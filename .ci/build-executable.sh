#!/usr/bin/env bash
# Build `trace` as a single-file executable for this machine's platform (PyInstaller, onefile).
#
#   .ci/build-executable.sh            # -> dist/trace (dist/trace.exe on Windows)
#
# Uses the locked workspace (`uv sync --locked` installs PyInstaller, a dev dependency)
# and packaging/trace.spec. The result needs no Python on the machine that runs it, but
# the same operating system and CPU architecture, and a C library no older than the
# build machine's (build on the oldest Linux you mean to support).
#
# TRACE_EXE_DIST (default dist) names the output directory; the build's scratch files go
# to build/pyinstaller. A build takes a few minutes.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
dist="${TRACE_EXE_DIST:-dist}"
uv sync --locked --quiet
uv run --no-sync pyinstaller --noconfirm --clean --log-level WARN \
    --distpath "$dist" --workpath build/pyinstaller packaging/trace.spec
ls -l "$dist"/trace*
