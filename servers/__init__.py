"""bench's own servers: the sans-IO protocol core, the ASGI event-loop server, the WSGI prefork server, and workload apps."""
