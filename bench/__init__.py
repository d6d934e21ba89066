"""A benchmark of the portal with a large synthetic portfolio: ``python -m bench.run``."""
