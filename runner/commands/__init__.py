"""runner/commands package."""
