"""Benchmark: a deep page of /api/v1/indicators by offset and by keyset cursor.

    .venv/bin/python bench/bench_cursor.py --db sqlite:///bench/out/serve-demo-0.005-2022-01-2024-12.sqlite

Reads the key of the row at `--depth` straight from the database, builds the cursor the
API would hand out for it, and times the page after it (`limit` rows) both ways in one
process (Flask test client, after one warm-up request each). Prints wall and CPU ms.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dashboard.api import Cursor  # noqa: E402
from dashboard.app import create_app  # noqa: E402
from indicators.export import PAGE_ORDER, newest_publication  # noqa: E402
from trialmon.db import database  # noqa: E402
from trialmon.schema import indicator_value  # noqa: E402


def timed(client, path: str, repeat: int) -> tuple[float, float, int]:
    client.get(path)
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(repeat):
        answer = client.get(path)
        assert answer.status_code == 200, answer.data[:300]
    return (1000 * (time.perf_counter() - wall) / repeat,
            1000 * (time.process_time() - cpu) / repeat, answer.get_json()["data"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--depth", type=int, default=2_000_000)
    parser.add_argument("--limit", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    key = [indicator_value.c[k] for k in PAGE_ORDER]
    with database(args.db).connect_published() as conn:
        row = conn.execute(sa.select(*key).order_by(*key).offset(args.depth - 1).limit(1)).one()
    cursor = Cursor(tuple(row), newest_publication(args.db)).encode()
    client = create_app(args.db).server.test_client()
    base = f"/api/v1/indicators?format=json&limit={args.limit}"
    pages = []
    for name, path in (("offset", f"{base}&offset={args.depth}"),
                       ("cursor", f"{base}&cursor={cursor}")):
        wall, cpu, rows = timed(client, path, args.repeat)
        pages.append(rows)
        print(f"page after row {args.depth:,} by {name}: {wall:,.0f} ms wall, "
              f"{cpu:,.0f} ms CPU, {len(rows)} rows")
    print("the two pages hold the same rows:", pages[0] == pages[1])


if __name__ == "__main__":
    main()
