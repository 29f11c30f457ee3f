"""Build hook for the one optional C extension (WebSocket masking); metadata is in pyproject.toml."""

from setuptools import Extension, setup

setup(
    ext_modules=[
        Extension(
            "bench.servers.protocol.websocket._speedups",
            sources=["servers/protocol/websocket/_speedups.c"],
            optional=True,  # a machine without a C compiler falls back to pure Python
        )
    ]
)
