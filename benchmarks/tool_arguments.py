"""Tool-argument checking in process: microseconds per call for typical ``tools/call`` arguments.

Times what a tool call does with its arguments before the handler runs: today
``decode_arguments(spec.args, arguments)`` (msgspec decoding through the
tool's arguments Struct). With ``--baseline-tree DIR`` (the ``packages/``
folder of another checkout, e.g. from ``git archive``), the same calls are also
timed in a subprocess running that code (before issue 10 that was
``check_arguments(arguments, spec.input_schema)``, the hand-written checker),
alternately, and the ratio is printed.

    uv run python -m benchmarks.tool_arguments
    uv run python -m benchmarks.tool_arguments --baseline-tree /tmp/old/packages --rounds 3
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import uuid4

PACKAGES = ("trace_core", "trace_sql", "trace_meili", "trace_mcp", "trace_oauth", "trace_http")

ENTRY = str(uuid4())
CALLS: dict[str, dict[str, Any]] = {
    "get_entry": {"entry_id": ENTRY},
    "list_entries (no arguments)": {},
    "list_entries (filters)": {
        "stream_id": "inbox",
        "tags": ["work", "idea"],
        "status": "open",
        "start_date": "2026-01-01",
        "limit": 20,
        "include_content": False,
    },
    "list_entries (loose: text numbers, comma tags)": {"limit": "20", "tags": "work, idea"},
    "search_entries": {"query": "budget meeting", "limit": 10, "content_limit": 300},
    "create_entry": {
        "content": "# Notes\n\n" + "Some words. " * 100,
        "title": "Notes",
        "tags": ["a", "b", "c"],
        "priority": 2,
        "rating": 3.5,
        "due_date": "2026-02-01",
    },
    "update_entry": {"entry_id": ENTRY, "expected_version": 3, "due_date": None, "tags": ["x"]},
    "create_stream": {
        "name": "Tasks",
        "entry_settings": {
            "use_status": True,
            "statuses": ["todo", "doing", "done"],
            "default_status": "todo",
            "rating_type": "numeric",
        },
    },
}


def _checker() -> tuple[str, Callable[[str, dict[str, Any]], object]]:
    """Return what this code base does with a tool's arguments, and its name."""
    from trace_mcp.tools import TOOLS

    specs = {spec.name: spec for spec in TOOLS}
    try:
        from trace_core.inputs import decode_arguments
    except ImportError:
        from trace_mcp._schema import check_arguments  # type: ignore[attr-defined]

        def check(tool: str, arguments: dict[str, Any]) -> object:
            return check_arguments(arguments, specs[tool].input_schema)

        return "check_arguments (hand-written schema checker)", check

    def decode(tool: str, arguments: dict[str, Any]) -> object:
        return decode_arguments(specs[tool].args, arguments)

    return "decode_arguments (msgspec, arguments Struct)", decode


def measure(repeat: int) -> dict[str, Any]:
    """Return µs per call (best of 5 batches of ``repeat``) for each of :data:`CALLS`."""
    name, check = _checker()
    figures: dict[str, float] = {}
    for label, arguments in CALLS.items():
        tool = label.split(" ", 1)[0]
        check(tool, arguments)
        batches = []
        for _ in range(5):
            started = time.perf_counter()
            for _ in range(repeat):
                check(tool, arguments)
            batches.append((time.perf_counter() - started) / repeat * 1e6)
        figures[label] = min(batches)
    return {"checker": name, "us_per_call": figures}


def _in_subprocess(tree: Path | None, repeat: int) -> dict[str, Any]:
    env = dict(os.environ)
    root = str(Path(__file__).resolve().parent.parent)
    if tree is not None:
        sources = [str(tree / package / "src") for package in PACKAGES]
        env["PYTHONPATH"] = os.pathsep.join([*sources, root])
    else:
        env["PYTHONPATH"] = root
    output = subprocess.run(
        [sys.executable, "-m", "benchmarks.tool_arguments", "--child", "--repeat", str(repeat)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    result: dict[str, Any] = json.loads(output)
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--repeat", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--baseline-tree", type=Path)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(measure(args.repeat)))
        return
    runs: dict[str, list[dict[str, float]]] = {"current": [], "baseline": []}
    names: dict[str, str] = {}
    for _ in range(args.rounds):
        plan: list[tuple[str, Path | None]] = [("current", None)]
        if args.baseline_tree is not None:
            plan.insert(0, ("baseline", args.baseline_tree))
        for which, tree in plan:
            result = _in_subprocess(tree, args.repeat)
            names[which] = result["checker"]
            runs[which].append(result["us_per_call"])
    print(f"load average {os.getloadavg()[0]:.1f}; {args.rounds} rounds of {args.repeat:,} calls")
    for which, name in names.items():
        print(f"- {which}: {name}")
    header = "| arguments | current µs/call |"
    rule = "|---|---:|"
    if runs["baseline"]:
        header += " baseline µs/call | current / baseline |"
        rule += "---:|---:|"
    print(header)
    print(rule)
    for label in CALLS:
        current = statistics.median(r[label] for r in runs["current"])
        row = f"| {label} | {current:.2f} |"
        if runs["baseline"]:
            baseline = statistics.median(r[label] for r in runs["baseline"])
            row += f" {baseline:.2f} | {current / baseline:.2f} |"
        print(row)


if __name__ == "__main__":
    main()
