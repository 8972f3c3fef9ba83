"""Fuzzing on demand: the suite's hypothesis properties, each run for a set time.

CI runs each property a bounded number of times (the "ci" profile: 60 examples). This script
runs the same properties, imported from tests/test_fuzz_properties.py (CQL quoting, argument
coercion, converter corners) and tests/test_convert_properties.py (the converter's round
trips), for as long as it is told, and prints one row per property: the examples run and the
failures found (each failure's shrunk example and error follow the table). It asserts nothing
and is not part of the test suite.

    python bench/fuzz.py [--seconds N] [--only SUBSTRING]

``--seconds`` (default 60) is the time for all the properties together, shared equally. Each
property runs in rounds of ``--batch`` examples (default 200), a fresh random seed and no
example database each round, until its share is used; a round that fails counts one failure.
The exit code is 1 when a property failed.
"""

from __future__ import annotations

import argparse
import sys
import time
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from hypothesis import HealthCheck, settings  # noqa: E402


def load_properties() -> dict[str, Any]:
    import test_fuzz_properties

    return test_fuzz_properties.properties()


def run_property(test: Any, seconds: float, batch: int) -> tuple[int, list[str]]:
    """Run ``test`` (a ``@given`` function) in rounds until ``seconds`` have passed; return the
    examples run and the failures (one line each)."""
    count = 0
    inner = test.hypothesis.inner_test

    def counted(*args: Any, **kwargs: Any) -> Any:
        nonlocal count
        count += 1
        return inner(*args, **kwargs)

    failures: list[str] = []
    configured = settings(
        max_examples=batch,
        deadline=None,
        database=None,
        derandomize=False,
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )(test)
    configured.hypothesis.inner_test = counted
    end = time.monotonic() + seconds
    try:
        while time.monotonic() < end:
            try:
                configured()
            except Exception as exc:  # a falsified property, shrunk by hypothesis
                first = " ".join(str(exc).split())[:300]
                failures.append(f"{type(exc).__name__}: {first}")
    finally:
        test.hypothesis.inner_test = inner
    return count, failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60, help="time for all (default 60)")
    parser.add_argument("--batch", type=int, default=200, help="examples per round")
    parser.add_argument("--only", default="", help="only properties whose name contains this")
    args = parser.parse_args(argv)
    warnings.filterwarnings("ignore", message="Generating overly large repr")

    properties = {n: t for n, t in load_properties().items() if args.only in n}
    if not properties:
        print(f"no property matches {args.only!r}", file=sys.stderr)
        return 2
    share = args.seconds / len(properties)
    rows = []
    details = []
    for name, test in properties.items():
        started = time.monotonic()
        examples, failures = run_property(test, share, args.batch)
        rows.append((name, examples, len(failures), time.monotonic() - started))
        details += [f"{name}: {failure}" for failure in failures]

    width = max(len(r[0]) for r in rows)
    print(f"{'property'.ljust(width)}  {'examples':>9}  {'failures':>8}  {'seconds':>7}")
    for name, examples, failed, took in rows:
        print(f"{name.ljust(width)}  {examples:>9}  {failed:>8}  {took:>7.1f}")
    for line in details:
        print(line)
    return 1 if details else 0


if __name__ == "__main__":
    sys.exit(main())
