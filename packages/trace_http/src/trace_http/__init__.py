"""trace_http: the composition root of Trace and the two transports it feeds.

- the root: :mod:`trace_http.bootstrap` reads :mod:`trace_http.settings` and
  builds one :class:`trace_http.runtime.Runtime` holding every wired part;
- :mod:`trace_http.web`: the Litestar app (MCP endpoint, OAuth pages, health,
  signed downloads), built from the runtime;
- :mod:`trace_http.cli`: the ``trace`` command, every command taking the runtime.
"""
