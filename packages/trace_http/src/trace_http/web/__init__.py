"""The web app: Litestar around the MCP endpoint, the OAuth pages and what surrounds them.

:func:`trace_http.web.app.create_app` takes the composition root's
:class:`~trace_http.runtime.Runtime` and nothing else. Nothing here reads the
settings or builds an adapter.
"""
