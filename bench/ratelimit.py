"""The cost of the shared rate limiter, and what it lets through (prints tables; never asserts).

1. The cost of a take: one token from a bucket in memory (per process) and from the user's
   shared bucket (a state file read and rewritten under ``flock``), alone and with 4 processes
   taking from the same file at once. Budget: well under a millisecond (<= 0.1 ms).
2. 30 ``ctk spaces list`` processes against one site with ``CTK_RATE_LIMIT=20/60``: one after
   another, and all at once. Before the bucket was shared, all 30 went through. Now at most 20
   do, plus one for every 3 s the runs take (the refill).

Runs against a sandbox in a separate process, with a fresh private cache folder for the state
files (your own buckets are not touched).

    python bench/ratelimit.py [--takes 20000] [--rounds 5] [--runs 30]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from ctk_core.ratelimit import FileStore, TokenBucket

BUDGET_US = 100.0

TAKER = """
import sys, time
from ctk_core.ratelimit import FileStore, TokenBucket
bucket = TokenBucket(10**9, 1.0, store=FileStore(sys.argv[1]))
n = int(sys.argv[2])
sys.stdin.read()  # start together
start = time.perf_counter()
for _ in range(n):
    bucket.try_acquire()
print((time.perf_counter() - start) / n * 1e6)
"""


def per_take_us(bucket: TokenBucket, takes: int) -> float:
    start = time.perf_counter()
    for _ in range(takes):
        bucket.try_acquire()
    return (time.perf_counter() - start) / takes * 1e6


def take_costs(folder: Path, takes: int, rounds: int) -> list[tuple[str, list[float]]]:
    huge = 10**9  # never runs dry: this measures the take, not the waiting
    memory = TokenBucket(huge, 1.0)
    shared = TokenBucket(huge, 1.0, store=FileStore(folder / "ctk" / "ratelimit-bench"))
    rows = [
        ("in memory (one process)", [per_take_us(memory, takes) for _ in range(rounds)]),
        ("shared file, 1 process", [per_take_us(shared, takes) for _ in range(rounds)]),
    ]
    contended: list[float] = []
    path = str(folder / "ctk" / "ratelimit-contended")
    for _ in range(rounds):
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", TAKER, path, str(takes // 4)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                text=True,
            )
            for _ in range(4)
        ]
        outs = [p.communicate("")[0] for p in procs]
        contended.append(statistics.median(float(out) for out in outs))
    rows.append(("shared file, 4 processes at once", contended))
    return rows


def start_sandbox() -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "ctk_core.sandbox", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


def ctk_runs(url: str, runs: int, together: bool, home: Path) -> tuple[int, int, int, float]:
    cache = Path(tempfile.mkdtemp(prefix="cache-", dir=home))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CTK_", "CONFLUENCE_"))}
    env.pop("XDG_RUNTIME_DIR", None)
    env.update(
        CTK_BASE_URL=url,
        CONFLUENCE_EMAIL="bench@example.com",
        CONFLUENCE_API_TOKEN="sandbox-token",
        CONFLUENCE_TOKEN_TYPE="classic",
        CTK_CONFIG_DIR=str(home / "config"),
        XDG_CACHE_HOME=str(cache),
        CTK_RATE_LIMIT="20/60",
    )
    exe = shutil.which("ctk", path=os.path.dirname(sys.executable))
    command = [exe] if exe else [sys.executable, "-m", "ctk_core.cli"]

    def one(_: int) -> int:
        return subprocess.run(
            [*command, "spaces", "list"], env=env, capture_output=True, check=False
        ).returncode

    start = time.perf_counter()
    if together:
        with ThreadPoolExecutor(max_workers=runs) as pool:
            codes = list(pool.map(one, range(runs)))
    else:
        codes = [one(i) for i in range(runs)]
    elapsed = time.perf_counter() - start
    return codes.count(0), codes.count(7), len(codes) - codes.count(0) - codes.count(7), elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--takes", type=int, default=20000, help="takes per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--runs", type=int, default=30, help="ctk processes per trial")
    args = parser.parse_args()

    home = Path(tempfile.mkdtemp(prefix="ctk-bench-ratelimit-"))
    try:
        print(f"Cost of a take ({args.takes} takes per round, {args.rounds} rounds)\n")
        print("| bucket | median us/take | min | max | budget |")
        print("| --- | --- | --- | --- | --- |")
        for name, values in take_costs(home, args.takes, args.rounds):
            print(
                f"| {name} | {statistics.median(values):.1f} | {min(values):.1f} | "
                f"{max(values):.1f} | <= {BUDGET_US:.0f} |"
            )
        print()
        proc, url = start_sandbox()
        try:
            print(f"{args.runs} `ctk spaces list` processes, CTK_RATE_LIMIT=20/60, one site\n")
            print("| runs | went through (exit 0) | refused (exit 7) | other | seconds |")
            print("| --- | --- | --- | --- | --- |")
            for together in (False, True):
                ok, refused, other, elapsed = ctk_runs(url, args.runs, together, home)
                how = "all at once" if together else "one after another"
                print(f"| {how} | {ok} | {refused} | {other} | {elapsed:.1f} |")
        finally:
            proc.terminate()
            proc.wait(10)
        print(
            "\nA bucket holds 20 and gains one every 3 s: runs one after another get 20 plus "
            "one per 3 s they take."
        )
    finally:
        shutil.rmtree(home, ignore_errors=True)


if __name__ == "__main__":
    main()
