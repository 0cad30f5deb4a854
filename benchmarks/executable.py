"""The single-file executable: its size and cold start, against ``uv run trace serve``.

    .ci/build-executable.sh                           # dist/trace
    uv run python -m benchmarks.executable            # 7 starts of each
    uv run python -m benchmarks.executable --exe dist/trace --runs 11

Cold start is the time from starting the process to the first answered ``GET
/health`` (polled every 10 ms), on a data directory that is already migrated
(the server still checks the schema on every start). Every start is a new
process: the onefile executable unpacks itself into a new temporary directory
each time (nothing is kept between starts), the Python commands start a new
interpreter each time (their byte-compiled files are kept, as installed). The
operating system's file cache is warm for all of them. Three commands, their
starts interleaved so a change in the machine's load hits them alike:

- ``executable``: ``dist/trace serve``, with an environment holding no Python
  (PATH is the executable's directory alone), as in .ci/executable_smoke.py;
- ``uv run trace serve``: what a developer types, the baseline (uv checks the
  lock and the environment first);
- ``.venv/bin/trace serve``: the installed command, without uv;
- ``executable, tmpfs``: the executable again, unpacking into a directory on
  /dev/shm (memory) instead of the disk (TMPDIR), where /dev/shm exists.

Also ``trace --version`` (the command line alone), the file size and how much
the executable unpacks. Prints medians, ranges and ratios to the baseline.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET_SECONDS = 3.0
EXE = "executable"
EXE_TMPFS = "executable, tmpfs"
SHM = Path("/dev/shm")  # a tmpfs on Linux: where the tmpfs variant unpacks
TIMEOUT = 60.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _tree_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


class Variant:
    """One way of starting ``trace``, with its own data directory and environment."""

    def __init__(self, name: str, command: list[str], env: dict[str, str], work: Path) -> None:
        self.name = name
        self.command = command
        self.env = env
        self.work = work
        self.starts: list[float] = []
        self.versions: list[float] = []
        self.unpacked: list[int] = []

    def run(self, *args: str) -> float:
        started = time.perf_counter()
        subprocess.run(
            [*self.command, *args],
            env=self.env,
            cwd=self.work,
            check=True,
            capture_output=True,
            timeout=TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
        return time.perf_counter() - started

    def start(self, measure_unpacked: bool = False) -> float:
        """Start ``serve``; return the seconds to the first answered /health."""
        port = _free_port()
        url = f"http://127.0.0.1:{port}/health"
        started = time.perf_counter()
        server = subprocess.Popen(
            [*self.command, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=self.env,
            cwd=self.work,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            while True:
                try:
                    with urllib.request.urlopen(url, timeout=5) as answer:
                        answer.read()
                    break
                except (urllib.error.URLError, ConnectionError):
                    if server.poll() is not None or time.perf_counter() - started > TIMEOUT:
                        log = server.stderr.read().decode() if server.stderr else ""
                        sys.exit(f"{self.name}: /health never answered\n{log}")
                    time.sleep(0.01)
            elapsed = time.perf_counter() - started
            if measure_unpacked:
                tmp = Path(self.env["TMPDIR"])
                self.unpacked.append(sum(_tree_size(d) for d in tmp.glob("_MEI*")))
            return elapsed
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


def _variants(exe: Path, work: Path, memory_tmp: Path | None) -> list[Variant]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("TRACE_")}
    exe_command = [str(work / "bin" / exe.name)]
    ways = [
        (EXE, exe_command),
        ("uv run trace", ["uv", "run", "--project", str(ROOT), "trace"]),
        (".venv/bin/trace", [str(ROOT / ".venv" / "bin" / "trace")]),
    ]
    if memory_tmp is not None:
        ways.append((EXE_TMPFS, exe_command))
    made: list[Variant] = []
    for name, command in ways:
        home = work / name.replace("/", "_").replace(" ", "_")
        (home / "tmp").mkdir(parents=True)
        if name in (EXE, EXE_TMPFS):
            env = {"PATH": str(work / "bin"), "HOME": str(home), "LANG": "C.UTF-8"}
        else:
            env = dict(base)
        env["TMPDIR"] = str(home / "tmp" if name != EXE_TMPFS else memory_tmp)
        env["TRACE_DATA_DIR"] = str(home / "data")
        made.append(Variant(name, command, env, home))
    return made


def _median(samples: list[float]) -> str:
    return f"{statistics.median(samples):.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--exe", type=Path, default=ROOT / "dist" / "trace")
    parser.add_argument("--runs", type=int, default=7)
    options = parser.parse_args()
    exe: Path = options.exe.resolve()
    if not exe.is_file():
        sys.exit(f"{exe}: no such file (build it with .ci/build-executable.sh)")

    print(f"load average at start: {os.getloadavg()[0]:.2f} ({os.cpu_count()} CPUs)")
    with tempfile.TemporaryDirectory(prefix="trace-bench-exe-") as tmp:
        work = Path(tmp)
        (work / "bin").mkdir()
        shutil.copy2(exe, work / "bin" / exe.name)
        memory_tmp = None
        if SHM.is_dir() and os.access(SHM, os.W_OK):
            memory_tmp = Path(tempfile.mkdtemp(prefix="trace-bench-exe-", dir=SHM))
        try:
            variants = _variants(exe, work, memory_tmp)
            _measure(variants, options.runs)
        finally:
            if memory_tmp is not None:
                shutil.rmtree(memory_tmp, ignore_errors=True)
        load = os.getloadavg()[0]
    _report(exe, variants, options.runs, load)


def _measure(variants: list[Variant], runs: int) -> None:
    for variant in variants:
        variant.run("migrate")
        variant.start()  # a first start, not counted: .pyc files, the file cache
    for i in range(runs):
        order = variants if i % 2 == 0 else variants[::-1]
        for variant in order:
            variant.starts.append(variant.start(measure_unpacked=variant.name == EXE))
            variant.versions.append(variant.run("--version"))


def _report(exe: Path, variants: list[Variant], runs: int, load: float) -> None:
    baseline = variants[1]
    size = exe.stat().st_size
    print(f"\nexecutable: {exe} ({size / 1e6:.1f} MB, {size / 2**20:.1f} MiB)")
    if variants[0].unpacked:
        unpacked = statistics.median(variants[0].unpacked)
        print(f"unpacked on every start: {unpacked / 1e6:.1f} MB")
    print(f"{runs} starts each, interleaved; load average at end: {load:.2f}\n")
    rows: list[tuple[str, Callable[[Variant], list[float]]]] = [
        ("serve to first /health", lambda v: v.starts),
        ("trace --version", lambda v: v.versions),
    ]
    print(f"{'command':<19} {'measure':<24} {'median s':>9} {'min-max s':>12} {'vs uv run':>10}")
    for label, samples in rows:
        for variant in variants:
            values = samples(variant)
            ratio = statistics.median(values) / statistics.median(samples(baseline))
            span = f"{min(values):.2f}-{max(values):.2f}"
            print(f"{variant.name:<19} {label:<24} {_median(values):>9} {span:>12} {ratio:>9.2f}x")
    print()
    for variant in variants:
        if variant.name in (EXE, EXE_TMPFS):
            cold = statistics.median(variant.starts)
            verdict = "meets" if cold <= TARGET_SECONDS else "MISSES"
            print(
                f"{variant.name}: cold start {cold:.2f} s, {verdict} target {TARGET_SECONDS:.0f} s"
            )


if __name__ == "__main__":
    main()
