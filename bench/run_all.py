"""Run every benchmark at its default (full) size, one after another.

Each script prints its own figures; this only runs them in a sensible order
(load, compute, disclosure, dashboard). Full size takes a while on 2 cores.
Pass `--quick` for a small smoke run of each.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
FULL = [
    ["bench_load.py"],
    ["bench_compute.py"],
    ["bench_disclosure.py"],
    ["bench_dashboard.py"],
    ["bench_effect.py"],
    ["bench_api.py"],
    ["bench_report.py"],
]
QUICK = [
    ["bench_load.py", "--scale", "0.05", "--months", "3", "--no-postgres"],
    ["bench_compute.py", "--scale", "0.05", "--months", "6"],
    ["bench_disclosure.py", "6"],
    ["bench_effect.py", "36"],
    ["bench_report.py", "--scale", "0.01"],
]


def main() -> int:
    plan = QUICK if "--quick" in sys.argv[1:] else FULL
    for command in plan:
        print(f"\n=== {' '.join(command)}", flush=True)
        result = subprocess.run([sys.executable, str(HERE / command[0]), *command[1:]])
        if result.returncode:
            return result.returncode
    return 0


if __name__ == "__main__":
    sys.exit(main())
