"""Contract test suites: run them against every adapter of a port."""
