"""Server errors in the log: one line per 5xx answer with its cause, outages at their edges.

Every request the app serves (Litestar routes, the OAuth pages, the MCP
endpoint) passes the two hooks :func:`trace_http.web.app.create_app` installs, and
both report here:

- ``after_exception``: an exception that becomes a 5xx answer is logged once, as
  ``METHOD PATH answered STATUS: ExceptionType: message`` (the traceback is added
  at ``log.level = debug``). The request is marked as logged.
- ``before_send``: a 5xx answer nobody logged (a handler returned it, or the MCP
  SDK answered it) gets a line with what is known: method, path, status.

``UnavailableError`` answers (503: the database or search is away) are not
logged one by one: the first opens an *outage* and is logged; the rest are
counted. The first answer below 400 from a route that answered 503 during the
outage closes it with one more line (how long it lasted, how many answers were
refused). A route that never needs the database (metadata documents) therefore
does not end an outage the MCP endpoint is still in.

Lines hold the method and path, never the query string or headers; exception
messages are cut to :data:`MAX_MESSAGE_CHARS`. The secret filter of
:mod:`trace_http.web.logs` runs on them too when the server logs.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, MutableMapping
from typing import Any

from trace_core.errors import UnavailableError

__all__ = ["MAX_MESSAGE_CHARS", "ServerErrorLog", "describe"]

logger = logging.getLogger("trace_http.errors")

MAX_MESSAGE_CHARS = 300
"""An exception's message is cut to this many characters in a log line."""

_LOGGED = "trace.error_logged"
"""ASGI scope key: this request's 5xx answer is already in the log."""


def _request(scope: MutableMapping[str, Any]) -> str:
    return f"{scope.get('method', '-')} {scope.get('path', '-')}"


def _route(scope: MutableMapping[str, Any]) -> str:
    """Name the route a request went to: its handler's name, else path template, else path."""
    name = getattr(scope.get("route_handler"), "name", None)
    return str(name or scope.get("path_template") or scope.get("path") or "-")


def _cause_of(exc: BaseException) -> BaseException | None:
    if exc.__cause__ is not None or exc.__suppress_context__:
        return exc.__cause__
    return exc.__context__


def describe(exc: BaseException) -> str:
    """``Type: message`` on one line, the message cut short, plus the types it was raised from."""
    text = " ".join(str(exc).split())
    if len(text) > MAX_MESSAGE_CHARS:
        text = text[:MAX_MESSAGE_CHARS] + "…"
    described = f"{type(exc).__name__}: {text}" if text else type(exc).__name__
    causes: list[str] = []
    cause = _cause_of(exc)
    while cause is not None and len(causes) < 3:
        # Only the type: a driver's message can hold SQL and row values.
        causes.append(type(cause).__name__)
        cause = _cause_of(cause)
    return f"{described} (from {' < '.join(causes)})" if causes else described


class _Outage:
    __slots__ = ("answers", "routes", "started")

    def __init__(self, started: float, route: str) -> None:
        self.started = started
        self.answers = 1
        self.routes = {route}


class ServerErrorLog:
    """Logs 5xx answers once each, and ``unavailable`` answers only where an outage starts and ends.

    Args:
        clock: monotonic seconds (tests pass a fake).

    """

    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._outage: _Outage | None = None

    @property
    def in_outage(self) -> bool:
        """Whether ``unavailable`` answers are being counted instead of logged."""
        return self._outage is not None

    def failed(self, exc: BaseException, scope: MutableMapping[str, Any], status: int) -> None:
        """Report that the request in ``scope`` is answered ``status`` (≥ 500) due to ``exc``."""
        scope[_LOGGED] = True
        if isinstance(exc, UnavailableError):
            self._unavailable(exc, scope, status)
            return
        logger.error(
            "%s answered %d: %s",
            _request(scope),
            status,
            describe(exc),
            exc_info=exc if logger.isEnabledFor(logging.DEBUG) else None,
        )

    def _unavailable(
        self, exc: UnavailableError, scope: MutableMapping[str, Any], status: int
    ) -> None:
        outage = self._outage
        if outage is not None:
            outage.answers += 1
            outage.routes.add(_route(scope))
            return
        self._outage = _Outage(self._clock(), _route(scope))
        logger.warning(
            "%s answered %d: %s; unavailable answers are counted, not logged, until a "
            "request succeeds",
            _request(scope),
            status,
            describe(exc),
            exc_info=exc if logger.isEnabledFor(logging.DEBUG) else None,
        )

    def answered(self, scope: MutableMapping[str, Any], status: int) -> None:
        """Report the status a request is answered with (every request, as it is sent)."""
        if status >= 500:
            if not scope.get(_LOGGED):
                scope[_LOGGED] = True
                logger.error("%s answered %d", _request(scope), status)
            return
        outage = self._outage
        if outage is None or status >= 400 or _route(scope) not in outage.routes:
            return
        self._outage = None
        logger.warning(
            "available again: %s answered %d after %d unavailable answers in %.1f s",
            _request(scope),
            status,
            outage.answers,
            self._clock() - outage.started,
        )
