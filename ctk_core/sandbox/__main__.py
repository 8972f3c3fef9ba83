"""``python -m ctk_core.sandbox``: run the sandbox; the first stdout line is its base URL."""

from __future__ import annotations

import argparse
import signal
import sys
from types import FrameType

from ctk_core.sandbox.faults import parse_fault


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ctk_core.sandbox", description="Run the offline Confluence Cloud sandbox."
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback)")
    parser.add_argument("--port", type=int, default=0, help="port (0 picks a free one)")
    parser.add_argument(
        "--seed",
        choices=("demo", "empty"),
        default="demo",
        help="content of a new site (default demo)",
    )
    parser.add_argument(
        "--data",
        help="SQLite file to keep the site in, shared with every sandbox using it (created when "
        "missing; a .json name means the .db beside it, and an old JSON state there is imported "
        "once)",
    )
    parser.add_argument("--email", help="accept only this email")
    parser.add_argument("--token", help="accept only this API token")
    parser.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="SPEC",
        help="inject a fault, e.g. 429,every=3 or close,count=1,path=/wiki/api/v2 (repeatable)",
    )
    parser.add_argument(
        "--no-plugins", action="store_true", help="do not load routes from installed ctk plugins"
    )
    args = parser.parse_args(argv)
    for spec in args.fault:
        try:
            parse_fault(spec)
        except ValueError as exc:
            parser.error(f"--fault {spec!r}: {exc}")

    from ctk_core.sandbox.server import SandboxServer

    server = SandboxServer(
        host=args.host,
        port=args.port,
        seed=args.seed,
        data=args.data,
        email=args.email,
        token=args.token,
        faults=args.fault,
        plugins=not args.no_plugins,
    )
    print(server.url, flush=True)
    print(
        f"ctk sandbox: serving {server.url} (cloudId {server.cloud_id}); Ctrl-C stops it",
        file=sys.stderr,
        flush=True,
    )

    def stop(signum: int, frame: FrameType | None) -> None:
        server.request_shutdown()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        server.serve_forever()
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
