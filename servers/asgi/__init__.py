"""bench's event-loop server: ASGI 3 (and WSGI from a thread pool) over the sans-IO core.

Modules, in the order a request meets them: ``server`` (process: loop, lifespan,
signals, graceful shutdown, the once-a-second tick), ``http`` (the asyncio.Protocol of
one connection), ``cycle`` (an ASGI request's receive/send), ``wsgi`` (a WSGI
request's thread-pool run), ``scope`` (pure scope building), ``eager`` (run an app
without a Task until it waits), ``lifespan``, ``state``, ``config``, ``errors``.
The entry point for process supervisors is ``bench.servers.asgi.server.run_worker``.
"""
