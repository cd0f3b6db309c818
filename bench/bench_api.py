"""The HTTP API's largest answers: time and memory per request, in a fresh process each.

    python bench/bench_api.py --db sqlite:///data/trialmon.sqlite [--code DIR]

Each case runs in its own process: the app is created (``dashboard.app.create_app``),
its memory noted, one request made twice through Flask's test client (cold, then with the
database pages in the OS cache), and the wall times,
the answer's status and size and the process's peak memory above the baseline printed.
``--code DIR`` measures another checkout of the code (e.g. the commit before the API was
bounded) on the same database, for a before/after comparison.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from trialmon.settings import resolve_db_url  # noqa: E402

CASES = {
    "unfiltered, json (no paging)": "/api/v1/indicators?format=json",
    "unfiltered, csv (no paging)": "/api/v1/indicators?format=csv",
    "largest page, json (limit=100000)": "/api/v1/indicators?format=json&limit=100000",
    "largest page, csv (limit=100000)": "/api/v1/indicators?format=csv&limit=100000",
    "deep page, json (offset=4000000)":
        "/api/v1/indicators?format=json&limit=100000&offset=4000000",
    "one indicator, all areas, json": "/api/v1/indicators?indicator=unemployed&population=all"
                                      "&group=all&format=json",
    "bulk file (en, csv.gz)": "/api/v1/bulk/trialmon-indicators-en.csv.gz",
}

CHILD = r"""
import json, resource, sys, time
from dashboard.app import create_app
app = create_app(sys.argv[1])
client = app.server.test_client()
client.get("/api/v1/areas")
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
times = []
for _ in range(int(sys.argv[3])):  # cold, then warm (the database pages cached by the OS)
    started = time.perf_counter()
    response = client.get(sys.argv[2])
    size, status = len(response.get_data()), response.status_code
    times.append(time.perf_counter() - started)
    del response
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"status": status, "seconds": times[0],
                  "warm": times[-1] if len(times) > 1 else None, "bytes": size,
                  "extra_mb": (peak - base) / 1024, "peak_mb": peak / 1024}))
"""


def run_case(db: str, path: str, code: Path, repeat: int) -> dict:
    env = {**os.environ, "PYTHONPATH": str(code)}
    done = subprocess.run([sys.executable, "-c", CHILD, db, path, str(repeat)], env=env,
                          cwd=code, capture_output=True, text=True, timeout=1800)
    if done.returncode:
        return {"status": "error", "error": done.stderr.strip().splitlines()[-1][:120]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=None, help="default: $TRIALMON_DB_URL, else "
                        "data/trialmon.sqlite (as `python app.py` builds it)")
    parser.add_argument("--code", type=Path, default=ROOT)
    parser.add_argument("--only", nargs="*", help="names of the cases to run (substrings)")
    parser.add_argument("--once", action="store_true", help="one request per case (no warm)")
    args = parser.parse_args()
    args.db = resolve_db_url(args.db)
    print(f"code: {args.code}  database: {args.db}")
    print(f"{'request':38} {'status':>6} {'cold s':>7} {'warm s':>7} {'answer MB':>10} "
          f"{'+memory MB':>11} {'peak MB':>8}")
    for name, path in CASES.items():
        if args.only and not any(o in name for o in args.only):
            continue
        result = run_case(args.db, path, args.code, 1 if args.once else 2)
        if result["status"] == "error":
            print(f"{name:38} {'error':>6}  {result['error']}")
            continue
        warm = f"{result['warm']:>7.2f}" if result["warm"] is not None else f"{'-':>7}"
        print(f"{name:38} {result['status']:>6} {result['seconds']:>7.2f} {warm} "
              f"{result['bytes'] / 1e6:>10.1f} {result['extra_mb']:>11.0f} "
              f"{result['peak_mb']:>8.0f}", flush=True)


if __name__ == "__main__":
    main()
