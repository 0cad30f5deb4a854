"""How ``trace serve`` writes its log: ``log.format = "text"`` or ``"json"``, through structlog.

:func:`logging_config` is the ``logging.config.dictConfig`` document handed to
uvicorn (it applies it when its configuration is created). Every line, whoever
logged it (Trace's packages, uvicorn, the MCP SDK), goes through
structlog's :class:`~structlog.stdlib.ProcessorFormatter`:

- ``json``: one object per line with ``timestamp`` (ISO 8601, UTC), ``level``,
  ``logger``, ``event`` (the message), ``request_id`` while a request runs, the
  access line's fields (``method``, ``path``, ``route``, ``status``,
  ``duration_ms``, ``client``, ``tool``) and ``exception`` (the traceback, debug only);
- ``text``: the same as ``timestamp [level] event key=value …``.

Credentials are removed before formatting by the secret filter
(:mod:`trace_http.web.logs`, installed on these handlers) and, for tracebacks
structlog formats itself, by :func:`_redact_exception`.
"""

from __future__ import annotations

from typing import Any, Literal

from trace_http.web._structlog import structlog
from trace_http.web.logs import redact

__all__ = ["ACCESS_FIELDS", "APP_LOGGERS", "logging_config"]

APP_LOGGERS = (
    "trace",
    "trace_core",
    "trace_http",
    "trace_mcp",
    "trace_oauth",
    "trace_sql",
    "trace_meili",
    "trace_s3",
    "mcp",
    "litestar",
)
"""Loggers of Trace's packages, the MCP SDK and Litestar, written by the server's handler."""

ACCESS_FIELDS = ("method", "path", "route", "status", "duration_ms", "client", "tool")
"""Fields of the access line (``extra=`` of its record) that become keys of the event."""


def _redact_exception(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    text = event.get("exception")
    if isinstance(text, str):
        event["exception"] = redact(text)
    return event


def logging_config(
    level: str = "info", log_format: Literal["text", "json"] = "text"
) -> dict[str, Any]:
    """Return the ``dictConfig`` document for the server's logging.

    Args:
        level: the lowest level written (``debug``, ``info``, ``warning``, ``error``).
        log_format: ``text`` or ``json``.

    """
    pre_chain: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.stdlib.ExtraAdder(allow=ACCESS_FIELDS),
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if log_format == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    formatter = {
        "()": structlog.stdlib.ProcessorFormatter,
        "foreign_pre_chain": pre_chain,
        "processors": [
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            _redact_exception,
            renderer,
        ],
    }
    upper = level.upper()

    def handler() -> dict[str, Any]:
        return {
            "class": "logging.StreamHandler",
            "formatter": "structured",
            "stream": "ext://sys.stderr",
        }

    loggers: dict[str, Any] = {
        # uvicorn's own, as its default configuration has them (access lines on
        # their own handler, which the secret filter covers too).
        "uvicorn": {"handlers": ["default"], "level": upper, "propagate": False},
        "uvicorn.error": {"level": upper},
        "uvicorn.access": {"handlers": ["access"], "level": upper, "propagate": False},
    }
    for name in APP_LOGGERS:
        # Propagating still: the root logger has no handler in the server (so
        # nothing is written twice), and test log capture sees the records.
        loggers[name] = {"handlers": ["default"], "level": upper, "propagate": True}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"structured": formatter},
        "handlers": {"default": handler(), "access": handler()},
        "loggers": loggers,
    }
