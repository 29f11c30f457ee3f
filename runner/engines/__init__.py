"""Load engines: native (in-process, uvloop), locust (its own processes), wrk (cross-check)."""
