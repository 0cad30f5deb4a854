"""A served process: graceful shutdown, the metrics listener and JSON lines from uvicorn too.

The server runs in a subprocess through :func:`trace_http.web.app.serve` (what
``trace serve`` runs), on in-memory storage, with one change: its readiness
probe takes ``DELAY`` seconds, so ``GET /health/ready`` is a request that is in
flight for as long as the test wants. SIGTERM arrives while it is.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow

SLOW_MARK = "slow request started"

SERVER = """
import dataclasses, sys
import anyio
from trace_core.service import Trace
from trace_core.testing.memory import InMemoryBlobStore, InMemoryStorage
from trace_http.bootstrap import runtime_for
from trace_http.settings import load_settings
from trace_http.web.app import serve
from trace_http.web.observe import Probes

delay = float(sys.argv[1])

async def slow_database() -> None:
    print("SLOW_MARK", file=sys.stderr, flush=True)
    await anyio.sleep(delay)

trace = Trace(storage=InMemoryStorage(), blobs=InMemoryBlobStore())
runtime = runtime_for(load_settings(None), trace=trace, background=())
runtime = dataclasses.replace(runtime, probes=Probes(database=slow_database))
anyio.run(serve, runtime)
""".replace("SLOW_MARK", SLOW_MARK)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Served:
    process: subprocess.Popen[str]
    port: int
    metrics_port: int
    lines: list[str] = field(default_factory=list)
    events: dict[str, threading.Event] = field(default_factory=dict)
    watcher: threading.Thread | None = None

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def wait_for(self, text: str, timeout: float = 30) -> None:
        assert self.events[text].wait(timeout), "".join(self.lines[-30:])


def _serve(tmp_path: Path, delay: float, shutdown_timeout: int) -> Served:
    port, metrics_port = _free_port(), _free_port()
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("TRACE_")},
        "TRACE_DATA_DIR": str(tmp_path),
        "TRACE_SERVER_PORT": str(port),
        "TRACE_SERVER_SHUTDOWN_TIMEOUT_SECONDS": str(shutdown_timeout),
        "TRACE_METRICS_ENABLED": "true",
        "TRACE_METRICS_PORT": str(metrics_port),
        "TRACE_LOG_FORMAT": "json",
    }
    process = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(delay)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    served = Served(process, port, metrics_port)
    served.events = {text: threading.Event() for text in ("Uvicorn running on", SLOW_MARK)}

    def watch() -> None:
        assert process.stderr is not None
        for line in process.stderr:
            served.lines.append(line)
            for text, event in served.events.items():
                if text in line:
                    event.set()

    served.watcher = threading.Thread(target=watch, daemon=True)
    served.watcher.start()
    return served


@pytest.fixture
def pool() -> Iterator[ThreadPoolExecutor]:
    with ThreadPoolExecutor(2) as executor:
        yield executor


def _stop(served: Served) -> None:
    if served.process.poll() is None:
        served.process.kill()
    served.process.wait(timeout=30)
    if served.watcher is not None:
        served.watcher.join(timeout=30)
    if served.process.stderr is not None:
        served.process.stderr.close()


def test_sigterm_lets_a_request_in_flight_finish_then_exits(
    tmp_path: Path, pool: ThreadPoolExecutor
) -> None:
    served = _serve(tmp_path, delay=2.0, shutdown_timeout=30)
    try:
        served.wait_for("Uvicorn running on")
        in_flight: Future[httpx.Response] = pool.submit(
            httpx.get, served.url("/health/ready"), timeout=30
        )
        served.wait_for(SLOW_MARK)
        served.process.send_signal(signal.SIGTERM)
        answer = in_flight.result(timeout=30)
        code = served.process.wait(timeout=30)
    finally:
        _stop(served)
    assert answer.status_code == 200
    assert answer.json()["database"] == "ok"
    assert code in (0, -signal.SIGTERM)  # uvicorn re-raises the signal once it has stopped


def test_past_the_shutdown_timeout_requests_in_flight_are_cut(
    tmp_path: Path, pool: ThreadPoolExecutor
) -> None:
    served = _serve(tmp_path, delay=120.0, shutdown_timeout=1)
    try:
        served.wait_for("Uvicorn running on")
        in_flight = pool.submit(httpx.get, served.url("/health/ready"), timeout=60)
        served.wait_for(SLOW_MARK)
        served.process.send_signal(signal.SIGTERM)
        code = served.process.wait(timeout=30)  # long before the request's 120 s
        with pytest.raises(httpx.HTTPError):
            in_flight.result(timeout=30).raise_for_status()
    finally:
        _stop(served)
    assert code in (0, -signal.SIGTERM)  # uvicorn re-raises the signal once it has stopped
    assert any("timeout graceful shutdown exceeded" in line for line in served.lines)


def test_metrics_have_their_own_port_and_every_line_is_json(tmp_path: Path) -> None:
    served = _serve(tmp_path, delay=0.0, shutdown_timeout=5)
    try:
        served.wait_for("Uvicorn running on")
        assert httpx.get(served.url("/health/live"), timeout=10).status_code == 200
        public = httpx.get(served.url("/metrics"), timeout=10)
        scraped = httpx.get(f"http://127.0.0.1:{served.metrics_port}/metrics", timeout=10)
        elsewhere = httpx.get(f"http://127.0.0.1:{served.metrics_port}/", timeout=10)
        served.process.send_signal(signal.SIGTERM)
        code = served.process.wait(timeout=30)
    finally:
        _stop(served)
    assert public.status_code == 404
    assert scraped.status_code == 200
    assert 'trace_http_requests_total{method="GET",route="health-live",status="200"} 1.0' in (
        scraped.text
    )
    assert elsewhere.status_code == 404
    assert code in (0, -signal.SIGTERM)  # uvicorn re-raises the signal once it has stopped
    events = [json.loads(line) for line in served.lines if SLOW_MARK not in line]
    assert any("Uvicorn running on" in e["event"] for e in events)
    assert any(e.get("route") == "health-live" and e.get("status") == 200 for e in events)
    assert any(f"127.0.0.1:{served.metrics_port}/metrics" in e["event"] for e in events)
