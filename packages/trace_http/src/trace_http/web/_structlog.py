"""structlog, imported without rich.

``import structlog`` imports rich when it is installed (for its development
console's tracebacks), and rich is installed for the command line's tables: about
20 to 60 ms more at every server start, for colours the server never uses
(``tests/cli/test_serve_startup.py`` keeps rich out of ``trace serve``). So, unless
rich is loaded already, structlog is imported while ``import rich`` fails; it then
formats tracebacks as plain text, and rich imports normally afterwards.
"""

from __future__ import annotations

import sys

if "rich" in sys.modules:
    import structlog
else:
    sys.modules["rich"] = None  # type: ignore[assignment]  # makes `import rich` fail
    try:
        import structlog
    finally:
        del sys.modules["rich"]

__all__ = ["structlog"]
