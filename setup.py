"""Build hook: the package layout and the one optional C extension; metadata is in pyproject.toml.

The repository keeps its folders (``servers/``, ``runner/``, ``dashboards/``,
``scenarios/``); they install under the one ``bench`` namespace, mapped here with
``package_dir``, so an install never claims generic top-level names.
"""

from setuptools import Extension, find_packages, setup

#: repository folder -> installed package
FOLDERS = {"servers": "bench.servers", "runner": "bench.runner", "dashboards": "bench.dashboards"}

packages = ["bench", "bench.scenarios"]
for folder, name in FOLDERS.items():
    packages.append(name)
    packages += [f"{name}.{sub}" for sub in find_packages(folder)]

setup(
    packages=packages,
    package_dir={
        "bench": "bench",
        "bench.scenarios": "scenarios",
        **{v: k for k, v in FOLDERS.items()},
    },
    ext_modules=[
        Extension(
            "bench.servers.protocol.websocket._speedups",
            sources=["servers/protocol/websocket/_speedups.c"],
            optional=True,  # a machine without a C compiler falls back to pure Python
        ),
        # The HTTP/1.1 core's hot path (servers/protocol/_accel.py); optional the same way.
        Extension(
            "bench.servers.protocol._hot",
            sources=["servers/protocol/_hot.c"],
            optional=True,
        ),
        # The WSGI environ of a plain request (servers/wsgi/environ.py); optional too.
        Extension(
            "bench.servers.wsgi._environ",
            sources=["servers/wsgi/_environ.c"],
            optional=True,
        ),
    ],
)
