"""servers/prefork package."""
