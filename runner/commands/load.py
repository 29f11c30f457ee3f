"""`bench load URL`: the native engine on its own, in the style of wrk and oha.

    bench load http://127.0.0.1:8000/ -c 64 -d 10s
    bench load http://127.0.0.1:8000/ --rate 2000 --arrival poisson -d 30s --warmup 2s
    bench load ws://127.0.0.1:8000/ws --ws -c 32 --ws-rate 50
    bench load http://127.0.0.1:8000/items -m POST -H 'Content-Type: application/json' --body @item.json --json

A progress bar while it runs (on a terminal), then a latency table and percentile
spectrum; ``--json`` prints one JSON object (``LoadResult.to_dict()``) instead. Ctrl-C
stops the run and prints what was measured so far; a second Ctrl-C aborts.

The exit code (``outcome``) tells a script whether anything was served: 5 when no
response succeeded (a closed port, every response a 404), 1 when the error rate is
above ``--max-error-rate``; errors below it are reported, not failed.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from bench.runner import units
from bench.runner.errors import UsageError
from bench.runner.exit_codes import ExitCode
from bench.runner.units import fraction_arg


def parse_duration(text: str) -> float:
    """``"10s"``, ``"500ms"``, ``"2m"``, ``"1h"`` or a bare number of seconds → seconds.

    The scenario's rule (``bench.runner.units.parse_duration``), as a usage error.
    """
    try:
        return units.parse_duration(text)
    except ValueError as exc:
        raise UsageError(f"invalid duration {text!r}: {exc} (examples: 10s, 500ms, 2m)") from None


def parse_header(text: str) -> tuple[str, str]:
    """``"Name: value"`` → ``("Name", "value")``."""
    name, sep, value = text.partition(":")
    if not sep or not name.strip():
        raise UsageError(f"invalid header {text!r} (expected 'Name: value')")
    return name.strip(), value.strip()


def read_body(text: str | None) -> bytes:
    """``@file`` reads the file; anything else is the body itself."""
    if text is None:
        return b""
    if text.startswith("@"):
        try:
            return Path(text[1:]).read_bytes()
        except OSError as exc:
            raise UsageError(f"cannot read body file {text[1:]!r}: {exc.strerror}") from None
    return text.encode()


def parse_cpus(text: str | None) -> tuple[int, ...] | None:
    """``"1"``, ``"0,2"`` or ``"2-3"`` → CPU numbers (``bench.runner.units.parse_cpus``)."""
    if text is None:
        return None
    try:
        return units.parse_cpus(text)
    except ValueError as exc:
        raise UsageError(f"invalid CPU list {text!r}: {exc}") from None


def outcome(requests: int, errors: int, max_error_rate: float | None) -> tuple[ExitCode, str]:
    """The exit code of a finished load, and why (empty when it passed); pure.

    No successful response is ``NOTHING_MEASURED`` whatever the limit; otherwise an
    error rate (errors / attempts) above ``max_error_rate`` is ``FAILED``. Without a
    limit, errors are reported but do not fail.
    """
    if requests <= 0:
        what = f"{errors:,} errors" if errors else "no response at all"
        return ExitCode.NOTHING_MEASURED, f"no successful response ({what})"
    rate = errors / (requests + errors)
    if max_error_rate is not None and rate > max_error_rate:
        return (
            ExitCode.FAILED,
            f"error rate {rate:.3%} ({errors:,} of {requests + errors:,}) is above "
            f"--max-error-rate {max_error_rate:.3%}",
        )
    return ExitCode.OK, ""


def register(subparsers: Any) -> None:
    """Add the ``load`` subcommand."""
    p = subparsers.add_parser(
        "load",
        help="drive load at one URL with the native engine (like wrk/oha)",
        description="Drive load at one URL with the native engine and print latencies.",
    )
    p.add_argument("url", help="http(s)://HOST:PORT/PATH or ws(s)://HOST:PORT/PATH")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument(
        "-c", "--connections", type=int, default=None, help="closed loop (default 16)"
    )
    mode.add_argument(
        "--rate", "-q", type=float, default=None, help="open loop: requests per second (oha -q)"
    )
    p.add_argument(
        "-d", "--duration", "-z", default="10s", help="measured window (default 10s; oha -z)"
    )
    # wrk/oha habits: -t means engine processes here; --latency is what we always print;
    # a request count (-n) has no equivalent (the window is a duration): refused.
    p.add_argument("--latency", action="store_true", help="accepted (wrk): always printed")
    p.add_argument("-n", dest="total_requests", default=None, help=argparse.SUPPRESS)
    p.add_argument("--warmup", default="0s", help="load before the window, discarded")
    p.add_argument("--arrival", choices=("constant", "poisson"), default="constant")
    p.add_argument("--max-connections", type=int, default=4096, help="open loop connection cap")
    p.add_argument("--ws", action="store_true", help="WebSocket echo round-trips")
    p.add_argument("--ws-size", type=int, default=32, help="bytes per WebSocket message")
    p.add_argument("--ws-rate", type=float, default=None, help="messages/s per connection")
    p.add_argument("-m", "--method", default="GET")
    p.add_argument("-H", "--header", action="append", default=[], help="'Name: value'")
    p.add_argument("--body", default=None, help="request body, or @FILE")
    p.add_argument(
        "-k",
        "--insecure",
        action="store_true",
        help="https/wss: do not verify the server's certificate (verified by default)",
    )
    p.add_argument("--timeout", default="10s", help="per-request timeout (default 10s)")
    p.add_argument("--expect-status", type=int, default=200, help="0: accept any status")
    p.add_argument("--expect-body", default=None, help="verify each body (text, or @FILE)")
    p.add_argument("--expect-length", type=int, default=None, help="verify each body length")
    p.add_argument(
        "--max-error-rate",
        type=fraction_arg,
        default=None,
        metavar="PCT",
        help="exit 1 when errors exceed this share of requests, e.g. 1%% or 0.01 "
        "(default: errors are reported; only no successful response fails)",
    )
    p.add_argument("-p", "--processes", "-t", type=int, default=1, help="engine processes (wrk -t)")
    p.add_argument("--cpus", default=None, help="pin engine processes to CPUs, e.g. 1 or 2-3")
    p.add_argument(
        "--cluster",
        default=None,
        metavar="ADDRESS",
        help="split the load across the workers of a dask scheduler, e.g. tcp://10.0.0.1:8786 "
        "(-p: engine processes per worker; docs/cluster.md)",
    )
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument(
        "--no-record",
        action="store_true",
        help="count responses without recording latencies (measures the recording cost)",
    )
    p.set_defaults(handler=handle)


def build_spec(args: argparse.Namespace) -> Any:
    """The LoadSpec the command line describes."""
    from bench.runner.loadspec import LoadSpec

    if args.total_requests is not None:
        raise UsageError("-n (a request count) is not supported: use -d DURATION (e.g. -d 10s)")
    websocket = args.ws or args.url.startswith(("ws://", "wss://"))
    open_loop = args.rate is not None
    connections = args.connections if args.connections is not None else 16
    return LoadSpec(
        url=args.url,
        mode="open" if open_loop else "closed",
        connections=connections,
        rate=args.rate,
        arrival=args.arrival,
        duration_s=parse_duration(args.duration),
        warmup_s=parse_duration(args.warmup),
        method=args.method.upper(),
        headers=tuple(parse_header(h) for h in args.header),
        body=read_body(args.body),
        timeout_s=parse_duration(args.timeout),
        processes=args.processes,
        cpus=parse_cpus(args.cpus),
        websocket=websocket,
        ws_message_size=args.ws_size,
        ws_message_rate=args.ws_rate,
        expect_status=args.expect_status or None,
        expect_body=read_body(args.expect_body) if args.expect_body is not None else None,
        expect_length=args.expect_length,
        max_connections=args.max_connections,
        tls_verify=not args.insecure,
    )


def handle(args: argparse.Namespace) -> int:
    """Run the load, show progress, print the result."""
    from bench.runner.commands import _load_view as view
    from bench.runner.engines.native import run, validate_spec

    spec = build_spec(args)
    validate_spec(spec)
    stop = threading.Event()
    interrupted = False

    def on_sigint(signum: int, frame: Any) -> None:
        nonlocal interrupted
        if interrupted:
            raise KeyboardInterrupt
        interrupted = True
        stop.set()

    cluster, shards = None, None
    if args.cluster:  # connected and checked (one line) before any load is sent
        from bench.runner.engines.cluster import Cluster

        cluster = Cluster.open(args.cluster)
    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        with view.ProgressView(spec, enabled=sys.stderr.isatty()) as progress:
            if cluster is None:
                result = run(spec, progress=progress.update, stop=stop, record=not args.no_record)
            else:
                shards = cluster.run(
                    spec, progress=progress.update, stop=stop, record=not args.no_record
                )
                result = shards.result
    finally:
        signal.signal(signal.SIGINT, previous)
        if cluster is not None:
            cluster.close()
    if args.json:
        print(json.dumps(result.to_dict() if shards is None else shards.to_dict(), indent=2))
    else:
        view.print_result(spec, result, interrupted=interrupted)
        if shards is not None:
            from bench.runner.commands._cluster_view import print_shards

            print_shards(shards)
    if interrupted:
        return ExitCode.INTERRUPTED
    if shards is not None and shards.failed:
        print(f"bench: cluster {args.cluster}: {shards.failed}", file=sys.stderr)
        return ExitCode.FAILED
    code, why = outcome(result.requests, result.error_count, args.max_error_rate)
    if why:
        print(f"bench: {why}", file=sys.stderr)
    return code
