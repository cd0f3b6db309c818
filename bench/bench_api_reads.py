"""Benchmark: what one /api/v1/indicators request costs the database.

    .venv/bin/python bench/bench_api_reads.py [--db sqlite:///...] [--repeat 50]

Without ``--db`` it builds the dashboard test fixture (tests/test_dashboard_fixture.py) in
a temporary SQLite file. Counts, per request, the connections the serving engine opens
(SQLite: NullPool, so each checkout is a new connection), the statements it runs, and
the validation look-ups (stored area types / area codes), by listening to the engine's
events (Database.published); prints them with the wall time per request.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dashboard.app import create_app  # noqa: E402
from tests.test_dashboard_fixture import publish_fixture  # noqa: E402

REQUESTS = ["indicator=unemployed&area=091&format=json",
            "indicator=unemployed&area=091&limit=5",
            "indicator=unemployed&area=091&limit=5&offset=5"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db")
    parser.add_argument("--repeat", type=int, default=50)
    args = parser.parse_args()
    url = args.db or publish_fixture(f"sqlite:///{tempfile.mkdtemp()}/api.sqlite")
    app = create_app(url)
    engine = app.server.extensions["trialmon_data"].db.published
    seen = {"connections": 0, "statements": 0, "validations": 0}

    def connected(*_args):
        seen["connections"] += 1

    def executed(_conn, _cursor, statement, *_args):
        seen["statements"] += 1
        seen["validations"] += "SELECT DISTINCT area.area_code" in statement

    sa.event.listen(engine, "connect", connected)
    sa.event.listen(engine, "before_cursor_execute", executed)
    client = app.server.test_client()
    for query in REQUESTS:
        path = f"/api/v1/indicators?{query}"
        assert client.get(path).status_code == 200  # warm
        seen.update(connections=0, statements=0, validations=0)
        start = time.perf_counter()
        for i in range(args.repeat):  # a distinct header: no ETag short-cut
            assert client.get(path, headers={"X-Request": str(i)}).status_code == 200
        ms = 1000 * (time.perf_counter() - start) / args.repeat
        n = args.repeat
        print(f"{query}: {seen['connections'] / n:.1f} connections, "
              f"{seen['statements'] / n:.1f} statements, {seen['validations'] / n:.1f} "
              f"validations, {ms:.1f} ms per request")


if __name__ == "__main__":
    main()
