"""No source file over 700 lines outside migrations (issue 10: small rooms stay small)."""

from __future__ import annotations

from pathlib import Path

LIMIT = 700
PACKAGES = Path(__file__).resolve().parent.parent / "packages"


def test_no_source_file_is_over_the_limit() -> None:
    sources = [path for path in PACKAGES.glob("*/src/**/*.py") if "migrations" not in path.parts]
    assert sources, "no sources found: the layout changed"
    too_long = {
        str(path.relative_to(PACKAGES)): n
        for path in sources
        if (n := len(path.read_text(encoding="utf-8").splitlines())) > LIMIT
    }
    assert not too_long, f"split these (over {LIMIT} lines): {too_long}"
