"""Password hashing under a burst: peak memory with and without the process-wide limit.

Each argon2id check (RFC 9106 low-memory profile) holds 64 MiB while it runs.
A burst of N concurrent wrong-password checks runs in a fresh Python process,
once per mode:

- ``threads``: every check in its own worker thread as far as anyio's default
  pool allows (40), which is what sign-in did before the limit (the baseline);
- ``limited``: through :func:`trace_oauth.passwords.shared_password_hashing`
  (2 at a time, 32 waiting, the rest refused with ``RateLimitedError``).

For each run: the process's resident memory before the burst (``VmRSS``), its
peak (``VmHWM``), checks answered and refused, and the burst's wall time.

    uv run python -m benchmarks.passwords                 # bursts of 10, 40 and 100
    uv run python -m benchmarks.passwords --bursts 40
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def _child(mode: str, burst: int) -> None:
    """Run one burst in this (fresh) process and print its figures as JSON."""
    import anyio
    import anyio.to_thread

    from trace_core.errors import RateLimitedError
    from trace_oauth.passwords import hash_password, shared_password_hashing, verify_password

    stored = hash_password("the right password")
    gate = shared_password_hashing()
    answered = refused = 0

    async def check() -> None:
        nonlocal answered, refused
        try:
            if mode == "threads":
                await anyio.to_thread.run_sync(verify_password, stored, "a wrong password")
            else:
                await gate.verify(stored, "a wrong password")
            answered += 1
        except RateLimitedError:
            refused += 1

    async def main() -> float:
        start = time.perf_counter()
        async with anyio.create_task_group() as tg:
            for _ in range(burst):
                tg.start_soon(check)
        return time.perf_counter() - start

    before = _status_kib("VmRSS")
    seconds = anyio.run(main)
    print(
        json.dumps(
            {
                "mode": mode,
                "burst": burst,
                "rss_before_mb": before / 1024,
                "peak_mb": _status_kib("VmHWM") / 1024,
                "answered": answered,
                "refused": refused,
                "seconds": seconds,
            }
        )
    )


def _run(mode: str, burst: int) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-m", "benchmarks.passwords", "--child", mode, "--bursts", str(burst)],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return dict(json.loads(out.stdout))


def main() -> None:
    """Run every burst in both modes and print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bursts", default="10,40,100", help="comma-separated burst sizes")
    parser.add_argument("--child", choices=["threads", "limited"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child, int(args.bursts))
        return
    load = os.getloadavg()[0]
    print(f"CPython {platform.python_version()}, {os.cpu_count()} CPUs, load {load:.1f}\n")
    print("| burst | mode | RSS before MB | peak RSS MB | growth MB | growth vs threads |", end="")
    print(" answered | refused | s |")
    print("|---:|---|---:|---:|---:|---:|---:|---:|---:|")
    for burst in (int(b) for b in args.bursts.split(",")):
        baseline = 0.0
        for mode in ("threads", "limited"):
            r = _run(mode, burst)
            growth = r["peak_mb"] - r["rss_before_mb"]
            baseline = baseline or growth
            print(
                f"| {burst} | {mode} | {r['rss_before_mb']:.0f} | {r['peak_mb']:.0f} | "
                f"{growth:.0f} | {100 * growth / baseline:.0f} % | {r['answered']:.0f} | "
                f"{r['refused']:.0f} | {r['seconds']:.2f} |"
            )


if __name__ == "__main__":
    main()
