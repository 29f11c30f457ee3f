"""bench's own servers: the sans-IO protocol core, the ASGI event-loop server, the WSGI prefork server, and workload apps."""

import os as _os

# The protocol core may not read the environment (no I/O there), so the switch to its
# pure-Python path (servers/protocol/_accel.py) is read here, before any server, worker
# or load engine uses the core. Only imported when set, to keep imports light.
if _os.environ.get("BENCH_PURE_PROTOCOL", "") not in ("", "0"):
    from bench.servers.protocol import http11 as _http11
    from bench.servers.wsgi import environ as _environ

    _http11.use_accelerator(False)
    _environ.use_accelerator(False)
