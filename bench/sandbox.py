"""How many simple GETs per second the sandbox answers on loopback (budget: >= 500/s).

One keep-alive ``requests.Session`` sends sequential GETs, as ctk's client would, to a sandbox
in a separate process (``python -m ctk_core.sandbox``), and then to one in this process (a
server thread sharing the interpreter with the client). Prints a table; never asserts.

    python bench/sandbox.py [--seconds 2]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager

import requests

from ctk_core.sandbox import SandboxServer

BUDGET = 500.0


def measure(session: requests.Session, url: str, seconds: float) -> tuple[int, float]:
    count = 0
    start = time.perf_counter()
    deadline = start + seconds
    while time.perf_counter() < deadline:
        resp = session.get(url)
        resp.raise_for_status()
        count += 1
    return count, time.perf_counter() - start


@contextmanager
def subprocess_sandbox() -> Iterator[str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "ctk_core.sandbox", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        yield proc.stdout.readline().strip()
    finally:
        proc.terminate()
        proc.wait(10)


@contextmanager
def thread_sandbox() -> Iterator[str]:
    server = SandboxServer(seed="demo").start()
    try:
        yield server.url
    finally:
        server.stop()


def run(url: str, seconds: float, where: str) -> list[tuple[str, str, int, float, float]]:
    session = requests.Session()
    session.auth = ("bench@example.com", "token")
    session.headers["Accept"] = "application/json"
    cloud_id = session.get(url + "/_edge/tenant_info").json()["cloudId"]
    space = session.get(url + "/wiki/api/v2/spaces?keys=DEMO").json()["results"][0]
    home = space["homepageId"]
    endpoints = [
        ("space by id", f"/wiki/api/v2/spaces/{space['id']}"),
        ("page by id (storage)", f"/wiki/api/v2/pages/{home}?body-format=storage"),
        ("pages list (limit 25)", "/wiki/api/v2/pages?limit=25"),
        ("gateway page by id", f"/ex/confluence/{cloud_id}/wiki/api/v2/pages/{home}"),
    ]
    rows = []
    for name, path in endpoints:
        session.get(url + path).raise_for_status()  # warm up
        count, elapsed = measure(session, url + path, seconds)
        rows.append((where, name, count, elapsed, count / elapsed))
    session.close()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="time per endpoint")
    args = parser.parse_args()
    rows = []
    with subprocess_sandbox() as url:
        rows += run(url, args.seconds, "subprocess")
    with thread_sandbox() as url:
        rows += run(url, args.seconds, "in-process")
    print(
        f"{'server':<11} {'endpoint':<24} {'requests':>9} {'seconds':>8} {'req/s':>8}  "
        f"budget {BUDGET:.0f}/s"
    )
    for where, name, count, elapsed, rate in rows:
        verdict = "ok" if rate >= BUDGET else "UNDER"
        print(f"{where:<11} {name:<24} {count:>9} {elapsed:>8.2f} {rate:>8.0f}  {verdict}")


if __name__ == "__main__":
    main()
