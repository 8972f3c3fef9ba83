"""Peak memory of a process, for the tests that prove streaming."""

from __future__ import annotations

import os
import subprocess
import sys


def peak_rss_kib() -> int:
    """This process's peak resident set (VmHWM) in KiB.

    Not ``ru_maxrss``: Linux carries that across exec, so a child forked from a large pytest
    process would report the parent's size. VmHWM belongs to the memory map exec creates.
    """
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    raise RuntimeError("no VmHWM in /proc/self/status")


_RUNNER = """
import sys
sys.path.insert(0, {folder!r})
from memory_support import peak_rss_kib
from ctk_core.cli import main
try:
    main(sys.argv[1:], prog_name="ctk")
except SystemExit as exc:
    code = exc.code
print(peak_rss_kib(), file=sys.stderr)
sys.exit(code)
"""


def run_ctk_measured(
    args: list[str], env: dict[str, str], timeout: float = 240
) -> tuple[subprocess.CompletedProcess[str], int]:
    """Run ``ctk ARGS`` in a fresh Python process; returns the process and its peak RSS (KiB)."""
    code = _RUNNER.format(folder=os.path.dirname(os.path.abspath(__file__)))
    proc = subprocess.run(
        [sys.executable, "-c", code, *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    lines = proc.stderr.strip().splitlines()
    return proc, int(lines[-1]) if lines and lines[-1].isdigit() else -1
