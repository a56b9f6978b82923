"""Running a ``gateway`` command as a subprocess and measuring it: exit code, wall time and peak resident memory."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

# Runs the CLI as ``python -m gateway.cli.main`` would, and at exit writes the process's VmHWM (kB) to the file named
# by its first argument. VmHWM belongs to the address space, which exec makes new; the kernel's ru_maxrss (wait4,
# getrusage) does not: it starts from the pytest process the child was forked from, tens of MB of test data
# included, and would hide the gateway's own peak beneath the test's.
_WRAPPER = """
import atexit, re, runpy, sys
out = sys.argv.pop(1)
def _peak():
    with open("/proc/self/status") as status, open(out, "w") as peak:
        peak.write(re.search(r"VmHWM:\\s+(\\d+) kB", status.read()).group(1))
atexit.register(_peak)
sys.argv[0] = "gateway"
runpy.run_module("gateway.cli.main", run_name="__main__", alter_sys=True)
"""


@dataclass(frozen=True, slots=True)
class Finished:
    """How one command ended.

    Attributes:
        code: Its exit code.
        seconds: Wall time from start to exit.
        peak_rss: Its peak resident set size in bytes (``VmHWM`` of its own address space, read as it exits).
        output: What it wrote to stdout and stderr.
    """

    code: int
    seconds: float
    peak_rss: int
    output: str


def run_measured(args: list[str], log: Path, *, timeout_s: float) -> Finished:
    """Run ``gateway ARGS`` to its end and measure it; kill it (and fail) if it runs longer than ``timeout_s``.

    Raises:
        AssertionError: The command ran past ``timeout_s`` (it is killed), or exited without reporting its peak.
    """
    peak = log.with_suffix(".peak")
    peak.unlink(missing_ok=True)
    started = time.monotonic()
    with log.open("wb") as out:  # the child keeps its own copy of the descriptor
        proc = subprocess.Popen(
            [sys.executable, "-c", _WRAPPER, str(peak), *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        code = proc.wait(timeout_s)
    except subprocess.TimeoutExpired:
        raise AssertionError(
            f"gateway {' '.join(args)} still running after {timeout_s} s: {log.read_text()[-3000:]}"
        ) from None
    finally:
        if proc.returncode is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
    seconds = time.monotonic() - started
    output = log.read_text(errors="replace")
    assert peak.exists(), f"gateway {' '.join(args)} exited ({code}) without reporting its peak: {output[-3000:]}"
    return Finished(code, seconds, int(peak.read_text()) * 1024, output)
