"""Shared harness of the benchmarks: run a measurement in a fresh subprocess and
record its wall time, its result and its peak resident memory (the process and
all its workers, sampled from /proc every 20 ms), plus the machine and versions.

A child prints one line ``RESULT <json>``; everything else it prints is ignored.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time


def tree_rss(pid: int) -> int:
    """Resident memory (bytes) of a process and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as fh:
                    ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry))
            except (OSError, ValueError, IndexError):
                continue
    total, stack = 0, [pid]
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/statm") as fh:
                total += int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
        except (OSError, ValueError):
            pass
        stack.extend(children.get(p, []))
    return total


def run_child(cmd: list[str]) -> dict:
    """Run ``cmd``, return its ``RESULT`` JSON with ``peak_rss_mb`` and ``wall_s`` added."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    peak, done = 0, threading.Event()

    def sample():
        nonlocal peak
        while not done.is_set():
            peak = max(peak, tree_rss(proc.pid))
            time.sleep(0.02)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    out, _ = proc.communicate()
    done.set()
    thread.join()
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[:4])} ... failed with exit code {proc.returncode}")
    line = next(ln for ln in out.splitlines() if ln.startswith("RESULT "))
    res = json.loads(line[len("RESULT ") :])
    res["peak_rss_mb"] = peak / 2**20
    res["wall_s"] = time.perf_counter() - t0
    return res


def child_result(obj: dict) -> None:
    """Print a child's result line."""
    print("RESULT " + json.dumps(obj), flush=True)


def machine() -> dict:
    """The machine, its load and the versions that shape the timings."""
    from mer_core.environment import environment

    return {
        "cpus": os.cpu_count(),
        "load_average_at_start": os.getloadavg()[0] if hasattr(os, "getloadavg") else None,
        "time": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        **environment(),
    }
