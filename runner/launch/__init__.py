"""A server configuration as a process: its command, its CPUs, its start, its resources, its stop.

- ``commands``   the argv of each server (bundled or peer)
- ``pinning``    server and engine CPU sets
- ``preflight``  checks before anything starts (app interface, engine, missing peers)
- ``process``    ``ServerProcess``: own process group, readiness probe, TERM -> KILL, leftovers
- ``sampler``    ``TreeSampler``: CPU seconds and RSS of the process tree over a window
"""
