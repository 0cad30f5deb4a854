"""The single-file executable's entry point: the same ``trace`` command as the wheel's.

PyInstaller freezes this script (see ``trace.spec``); it only hands over to the
command line that ``trace-http`` installs as ``trace``.
"""

from trace_http.cli import main

if __name__ == "__main__":
    main()
