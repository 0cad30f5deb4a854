"""The ``trace`` subcommands, one module per noun; registered in :data:`trace_http.cli.COMMANDS`."""
