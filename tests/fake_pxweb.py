"""A small fake PxWeb API v1 for the fetch tests (never the real internet).

Serves one table, ``/{lang}/StatFin/tyonv/{table}.px``: GET gives the metadata
(``variables`` with ``code``, ``text``, ``values``, ``valueTexts``, ``time``), POST
answers a v1 query in the real ``json`` response format (``columns`` with types d/t/c,
``data`` [{key, values}]). Like PxWeb it refuses a query of more than ``max_cells``
cells (HTTP 403) and more than ``max_calls`` requests in ``window`` seconds (HTTP 429).
``fail_next`` makes the next requests fail with the given status codes (e.g. 429, 503),
``fail_posts`` the next POSTs only, ``always_busy`` every POST (429).
Every request is recorded (its arrival time, method, path, body, status) for the tests'
asserts; ``clock`` (default ``time.monotonic``) is the time the server sees, so a test
can run client and server on one virtual clock (``VirtualClock``).

The table is built from the real 12r5 response (all areas and 23 measures of 2026M06)
repeated for every month in ``months`` with each value shifted by the month's index,
or from a synthetic table of the same shape when the shared file is absent.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import product
from pathlib import Path

AREA_CODE, TIME_CODE, CONTENTS_CODE = "alue_23_20260101", "timeperiod_m", "contentscode"


@dataclass
class FakeTable:
    areas: list[str]
    measures: list[str]
    measure_texts: list[str]
    months: list[str]  # '2026M01' ...
    base: dict[tuple[str, str], str]  # (area, measure) -> value text of the first month

    def value(self, area: str, month: str, measure: str) -> str:
        """The first month's text; later months add their index to numeric values."""
        text = self.base[(area, measure)]
        shift = self.months.index(month)
        if shift == 0 or not text.replace(".", "", 1).isdigit():
            return text
        return str(int(text) + shift) if text.isdigit() else f"{float(text) + shift:.1f}"

    def metadata(self) -> dict:
        return {"title": "fake 12r5", "variables": [
            {"code": AREA_CODE, "text": "Alue", "values": self.areas, "valueTexts": self.areas},
            {"code": TIME_CODE, "text": "Kuukausi", "values": self.months,
             "valueTexts": self.months, "time": True},
            {"code": CONTENTS_CODE, "text": "Tiedot", "values": self.measures,
             "valueTexts": self.measure_texts},
        ]}

    def response(self, selection: dict[str, list[str]]) -> dict:
        areas, months = selection[AREA_CODE], selection[TIME_CODE]
        measures = selection[CONTENTS_CODE]
        texts = dict(zip(self.measures, self.measure_texts, strict=True))
        columns = [{"code": AREA_CODE, "text": "Alue", "type": "d"},
                   {"code": TIME_CODE, "text": "Kuukausi", "type": "t"},
                   *({"code": m, "text": texts[m], "type": "c"} for m in measures)]
        data = [{"key": [a, t], "values": [self.value(a, t, m) for m in measures]}
                for a, t in product(areas, months)]
        return {"columns": columns, "comments": [], "data": data,
                "metadata": [{"updated": "2026-07-21T05.00.00Z", "label": "fake",
                              "source": "fake"}]}


def table_from_file(path: Path | None, months: list[str]) -> FakeTable:
    """The real 12r5 response as the first month, or a synthetic one of its shape."""
    if path is not None and path.exists():
        document = json.loads(path.read_text("utf-8"))
        contents = [c for c in document["columns"] if c["type"] == "c"]
        measures = [c["code"] for c in contents]
        base = {(r["key"][0], m): v for r in document["data"]
                for m, v in zip(measures, r["values"], strict=True)}
        areas = [r["key"][0] for r in document["data"]]
        return FakeTable(areas, measures, [c["text"] for c in contents], months, base)
    areas = ["SSS", "MK01", *(f"KU{n:03d}" for n in range(1, 400))]
    from indicators.public_statistics import source_measures

    named = source_measures()  # the real codes the indicators need, then fillers
    measures = [*named, *(f"M{i:02d}" for i in range(23 - len(named)))]
    base = {(a, m): ("..." if (i + j) % 97 == 0 else str((i * 31 + j * 7) % 500))
            for i, a in enumerate(areas) for j, m in enumerate(measures)}
    return FakeTable(areas, measures, measures, months, base)


class VirtualClock:
    """Time that passes only when someone sleeps: pacing asserts become exact."""

    def __init__(self, start: float = 1000.0):
        self.now = start

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 0.0)


@dataclass
class Recorded:
    at: float
    method: str
    path: str
    body: dict | None
    status: int


@dataclass
class FakePxWeb:
    table: FakeTable
    table_id: str = "12r5"
    max_cells: int = 100_000
    max_calls: int = 30
    window: float = 10.0
    fail_next: list[int] = field(default_factory=list)
    fail_posts: list[int] = field(default_factory=list)  # only POSTs fail (metadata passes)
    always_busy: bool = False  # every POST answers 429
    requests: list[Recorded] = field(default_factory=list)
    clock: Callable[[], float] = time.monotonic

    def __post_init__(self):
        self._recent: deque[float] = deque()
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/PxWeb/api/v1"

    def __enter__(self) -> FakePxWeb:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()

    def posts(self, status: int | None = 200) -> list[Recorded]:
        return [r for r in self.requests if r.method == "POST"
                and (status is None or r.status == status)]

    # ----------------------------------------------------------------- request handling

    def _answer(self, method: str, path: str, body: dict | None, now: float
                ) -> tuple[int, dict | str]:
        with self._lock:
            while self._recent and now - self._recent[0] >= self.window:
                self._recent.popleft()
            self._recent.append(now)
            if self.fail_next:
                return self.fail_next.pop(0), "try again later"
            if method == "POST" and (self.always_busy or self.fail_posts):
                return (429 if self.always_busy else self.fail_posts.pop(0)), "busy"
            if len(self._recent) > self.max_calls:
                return 429, "Too many requests"
        if not path.endswith(f"/StatFin/tyonv/{self.table_id}.px"):
            return 404, "no such table"
        if method == "GET":
            return 200, self.table.metadata()
        return self._query(body)

    def _query(self, body: dict | None) -> tuple[int, dict | str]:
        try:
            selection = {q["code"]: list(q["selection"]["values"]) for q in body["query"]}
            assert q_format(body) == "json"
        except (KeyError, TypeError, AssertionError):
            return 400, "bad query"
        variables = self.table.metadata()["variables"]
        for v in variables:
            unknown = set(selection.get(v["code"], [])) - set(v["values"])
            if v["code"] not in selection or unknown:
                return 400, f"bad selection for {v['code']}"
        cells = 1
        for values in selection.values():
            cells *= len(values)
        if cells > self.max_cells:
            return 403, f"Too many values selected: {cells} > {self.max_cells}"
        return 200, self.table.response(selection)

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _respond(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    body = None
                arrived = fake.clock()  # stamped on arrival, not after the answer is built
                status, payload = fake._answer(method, self.path, body, arrived)
                fake.requests.append(Recorded(arrived, method, self.path, body, status))
                data = (json.dumps(payload) if isinstance(payload, dict) else payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8"
                                 if isinstance(payload, dict) else "text/plain")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):  # noqa: N802 (http.server's naming)
                self._respond("GET")

            def do_POST(self):  # noqa: N802
                self._respond("POST")

            def log_message(self, *args):  # keep test output quiet
                pass

        return Handler


def q_format(body: dict) -> str:
    return (body.get("response") or {}).get("format", "px")
