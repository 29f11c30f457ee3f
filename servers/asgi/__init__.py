"""servers/asgi package."""
