"""The PxWeb API v1 client: metadata, queries under the API's limits, pacing, retries.

Interface
* ``fetch_pxweb(table, start, end, out, base_url, lang, ...) -> list[Path]``: download
  months of StatFin/tyonv/TABLE as PxWeb ``json`` files (and ``<table>.meta.json``).
* ``plan_queries(metadata, start, end, max_cells) -> list[dict]``: the v1 queries.
* ``RateLimiter(calls, window, clock, sleep)``, ``PxWebClient(base_url, limiter, ...)``.
* ``MAX_CELLS``, ``MAX_CALLS``, ``WINDOW_SECONDS``, ``DEFAULT_BASE_URL``: the API's limits
  (Statistics Finland: 100 000 cells per query, 30 requests per 10 seconds), the one home
  of these numbers (the command line's defaults read them).

Decisions
* Queries select every value of every non-time variable and are split by months, and by
  the largest other variable when one month alone is too big.
* The clock and the sleep are injectable, so pacing is tested on a virtual clock.
* A malformed answer is a ``TrialmonError`` naming the URL, never an ``assert``.
"""


from __future__ import annotations

import json
import re
import sys
import time
import urllib.error
import urllib.request
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import product
from pathlib import Path

from etl.pxweb import MONTH_PATTERN, PERIOD_PATTERN
from trialmon.errors import TrialmonError

DEFAULT_BASE_URL = "https://pxdata.stat.fi/PxWeb/api/v1"
MAX_CELLS = 100_000  # cells per query
MAX_CALLS, WINDOW_SECONDS = 30, 10.0  # requests per window


class RateLimiter:
    """At most `calls` requests in any `window` seconds (a sliding window), by sleeping."""

    def __init__(self, calls: int, window: float, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.calls, self.window = calls, window
        self.clock, self.sleep = clock, sleep
        self.sent: deque[float] = deque()

    def wait(self) -> None:
        now = self.clock()
        while self.sent and now - self.sent[0] >= self.window:
            self.sent.popleft()
        if len(self.sent) >= self.calls:
            self.sleep(self.window - (now - self.sent[0]) + 0.05)
            self.sent.popleft()
        self.sent.append(self.clock())


@dataclass
class PxWebClient:
    """A minimal PxWeb API v1 client: pacing, retries on 429/503, clear errors."""

    base_url: str
    limiter: RateLimiter
    max_retries: int = 5
    backoff: float = 1.0
    timeout: float = 60.0
    sleep: Callable[[float], None] = time.sleep

    def request(self, url: str, body: dict | None = None) -> bytes:
        data = None if body is None else json.dumps(body).encode("utf-8")
        for attempt in range(self.max_retries + 1):
            self.limiter.wait()
            req = urllib.request.Request(url, data=data, method="GET" if data is None else "POST",
                                         headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(req, timeout=self.timeout) as response:
                    return response.read()
            except urllib.error.HTTPError as error:
                if error.code in (429, 503) and attempt < self.max_retries:
                    self.sleep(_retry_after(error) or self.backoff * 2 ** attempt)
                    continue
                detail = error.read()[:300].decode("utf-8", "replace")
                raise TrialmonError(f"PxWeb {url}: HTTP {error.code} {detail}".strip()) from None
            except urllib.error.URLError as error:
                raise TrialmonError(f"PxWeb {url}: {error.reason}") from None
        raise TrialmonError(f"PxWeb {url}: no answer after {self.max_retries} retries")


def _retry_after(error: urllib.error.HTTPError) -> float | None:
    value = error.headers.get("Retry-After") if error.headers else None
    try:
        return float(value) if value else None
    except ValueError:
        return None


def fetch_pxweb(table: str, start: str, end: str | None, out: Path,
                base_url: str = DEFAULT_BASE_URL, lang: str = "fi", progress: bool = True, *,
                max_cells: int = MAX_CELLS, max_calls: int = MAX_CALLS,
                window_seconds: float = WINDOW_SECONDS, max_retries: int = 5,
                backoff: float = 1.0, clock: Callable[[], float] = time.monotonic,
                sleep: Callable[[float], None] = time.sleep) -> list[Path]:
    """Download months start..end of StatFin/tyonv/TABLE as PxWeb ``json`` files in `out`.

    Queries select every value of every non-time variable and are split (by months, and
    by the largest other variable when one month alone is too big) so that none asks for
    more than `max_cells` cells; requests are paced to at most `max_calls` per
    `window_seconds` and retried with exponential backoff on 429/503. The table
    metadata is written beside the data as ``<table>.meta.json``. `clock` and `sleep`
    drive the pacing and the backoff (a test passes a virtual clock).
    """
    table_url = f"{base_url.rstrip('/')}/{lang}/StatFin/tyonv/{table}.px"
    client = PxWebClient(base_url, RateLimiter(max_calls, window_seconds, clock, sleep),
                         max_retries=max_retries, backoff=backoff, sleep=sleep)
    metadata = _parse_metadata(client.request(table_url), table_url)
    queries = plan_queries(metadata, start, end, max_cells)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{table}.meta.json").write_text(json.dumps(metadata, ensure_ascii=False), "utf-8")
    written = []
    for number, query in enumerate(queries, start=1):
        body = client.request(table_url, query)
        path = out / f"{table}_{_query_span(query, metadata)}_{number:03d}.json"
        path.write_bytes(body)
        written.append(path)
        if progress:
            print(f"fetched {number}/{len(queries)}: {path.name}", file=sys.stderr)
    return written


def _parse_metadata(body: bytes, url: str) -> dict:
    try:
        metadata = json.loads(body)
    except ValueError:
        metadata = None
    variables = metadata.get("variables") if isinstance(metadata, dict) else None
    if not isinstance(variables, list) or not all(
            isinstance(v, dict) and "code" in v and "values" in v for v in variables):
        raise TrialmonError(f"PxWeb {url}: not table metadata (no 'variables' with "
                            "'code' and 'values')")
    return metadata


def time_variable(metadata: dict) -> dict:
    """The variable marked ``time: true`` (else the one whose values are all periods)."""
    variables = metadata["variables"]
    marked = [v for v in variables if v.get("time")]
    if not marked:
        marked = [v for v in variables if v["values"]
                  and all(PERIOD_PATTERN.match(x) for x in v["values"])]
    if len(marked) != 1:
        raise TrialmonError(f"cannot tell the time variable among {[v['code'] for v in variables]}")
    return marked[0]


def plan_queries(metadata: dict, start: str, end: str | None, max_cells: int) -> list[dict]:
    """PxWeb v1 queries for months start..end, each at most `max_cells` cells."""
    time_var = time_variable(metadata)
    wanted = [m for m in time_var["values"] if _in_span(m, start, end)]
    if not wanted:
        raise TrialmonError(f"no month of the table lies in {start}..{end or 'newest'}")
    others = [v for v in metadata["variables"] if v is not time_var]
    per_month = _product(len(v["values"]) for v in others)
    if per_month <= max_cells:
        chunks = {time_var["code"]: _chunks(wanted, max_cells // per_month)}
        return [_query({time_var["code"]: month_chunk, **_all(others)})
                for month_chunk in chunks[time_var["code"]]]
    largest = max(others, key=lambda v: len(v["values"]))
    rest = per_month // len(largest["values"])
    if rest > max_cells:
        raise TrialmonError(f"one month of one {largest['code']} value already has {rest} "
                            f"cells, more than the limit {max_cells}")
    return [_query({time_var["code"]: [month], **_all(others), largest["code"]: part})
            for month, part in product(wanted, _chunks(largest["values"], max_cells // rest))]


def _in_span(period: str, start: str, end: str | None) -> bool:
    if not re.match(MONTH_PATTERN, period):
        return False
    month = period.replace("M", "-")
    return month >= start and (end is None or month <= end)


def _product(numbers: Iterable[int]) -> int:
    total = 1
    for n in numbers:
        total *= n
    return total


def _chunks(values: list[str], size: int) -> list[list[str]]:
    return [values[i:i + size] for i in range(0, len(values), max(size, 1))]


def _all(variables: list[dict]) -> dict[str, list[str]]:
    return {v["code"]: list(v["values"]) for v in variables}


def _query(selection: dict[str, list[str]]) -> dict:
    return {"query": [{"code": code, "selection": {"filter": "item", "values": values}}
                      for code, values in selection.items()],
            "response": {"format": "json"}}


def _query_span(query: dict, metadata: dict) -> str:
    time_code = time_variable(metadata)["code"]
    months = next(q["selection"]["values"] for q in query["query"] if q["code"] == time_code)
    return months[0] if len(months) == 1 else f"{months[0]}-{months[-1]}"
