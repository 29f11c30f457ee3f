"""WSGI (PEP 3333) on top of the sans-IO HTTP/1.1 core, for blocking workers.

Modules:

- ``environ``: the environ of a request and ``start_response`` (pure; shared with the
  event-loop server's WSGI adapter).
- ``start_cache``: ``start_response`` remembering heads it has already checked.
- ``input``: ``wsgi.input`` streaming the request body.
- ``filewrapper``: ``wsgi.file_wrapper``, with sendfile where possible.
- ``blocking``: one request/response cycle over a blocking socket (``WSGIHandler``),
  used by the prefork server's sync and thread workers.
"""
