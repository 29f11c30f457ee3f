"""servers/wsgi package."""
