"""Benchmark: the production server under 50 people using the dashboard at once.

    .venv/bin/python bench/bench_serve.py                        # SQLite, 60 s, 50 users
    .venv/bin/python bench/bench_serve.py --backend postgresql   # a throwaway PostgreSQL
    .venv/bin/python bench/bench_serve.py --seconds 20 --workers 3 --threads 4
    .venv/bin/python bench/bench_serve.py --db URL               # a database already built

Starts `trialmon serve` (gunicorn, a subprocess) on a small demo database (built once into
bench/out/ for SQLite; into a throwaway server from tests/pgserver.py for PostgreSQL) and
drives it with locust, headless, from this process, on 127.0.0.1 only, for a bounded time.

Each simulated person walks the pages as a browser session does: a full page load
(the HTML, /_dash-layout, /_dash-dependencies, then the router callback), then the page's
own callback with the values its controls hold, then one to three selector changes (a
random other option of a random control, read from the layout the server sent), now and
then a move to another page through the menu (router callback only) and a small API
query. The callback bodies are built from the app's /_dash-dependencies and the controls in
the layout, exactly as Dash's renderer builds them. Think time 0.5-2 s between actions.

Prints p50/p95/p99 and errors per request type, for pages and callbacks together, and the
requests per second. Goal (issue 7): p95 <= 300 ms for callbacks and pages, 0 errors.
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()  # before anything opens a socket: locust runs on gevent

import argparse  # noqa: E402
import contextlib  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections import defaultdict  # noqa: E402
from pathlib import Path  # noqa: E402

import gevent  # noqa: E402
from locust import HttpUser, between, events, task  # noqa: E402
from locust.env import Environment  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests import pgserver  # noqa: E402
from tests.serving import callback_payload, start_server  # noqa: E402

OUT = ROOT / "bench" / "out"
PAGES = {"overview": 2, "explorer": 3, "compare": 2, "map": 1, "downloads": 1}
FIRST_INPUT = {"overview": "ov-area.value", "explorer": "ex-indicator.value",
               "compare": "cmp-indicator.value", "map": "map-indicator.value",
               "downloads": "dl-indicators.value"}
LANGS = ("fi", "sv", "en")
TIMES: dict[str, list[float]] = defaultdict(list)
ERRORS: dict[str, int] = defaultdict(int)


# ----------------------------------------------------------------- the people
def controls_in(tree) -> dict[str, dict]:
    """id -> props of every control (a component with an id, a value and options)."""
    found, stack = {}, [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            props = node.get("props")
            if isinstance(props, dict):
                if isinstance(props.get("id"), str) and "value" in props:
                    found[props["id"]] = props
                stack.extend(props.values())
    return found


def other_value(props: dict):
    options = [o["value"] if isinstance(o, dict) else o for o in props.get("options") or []
               if not (isinstance(o, dict) and o.get("disabled"))]  # a group's heading
    if not options:
        return None
    if isinstance(props.get("value"), list):
        return random.sample(options, k=min(len(options), random.randint(1, 3)))
    return random.choice(options)


class Person(HttpUser):
    wait_time = between(0.5, 2.0)

    def on_start(self):
        self.lang = random.choice(LANGS)
        self.full_load(self.pick_page())

    def pick_page(self) -> str:
        return random.choices(list(PAGES), weights=list(PAGES.values()))[0]

    def full_load(self, page: str) -> None:
        path = f"/{self.lang}/{page}"
        self.client.get(path, name="page: html")
        self.client.get("/_dash-layout", name="page: _dash-layout")
        deps = self.client.get("/_dash-dependencies", name="page: _dash-dependencies")
        self.dependencies = deps.json() if deps.ok else []
        self.navigate(page)

    def navigate(self, page: str) -> None:
        """The router callback (a menu link), then the page's first callback."""
        self.page, self.path = page, f"/{self.lang}/{page}"
        routed = self.post("route", "url.pathname", {"url.pathname": self.path,
                                                      "url.search": ""})
        layout = (routed or {}).get("response", {}).get("page", {}).get("children")
        self.controls = controls_in(layout)
        self.page_callback(FIRST_INPUT[page])

    def values(self) -> dict:
        out = {f"{cid}.value": props["value"] for cid, props in self.controls.items()}
        out["url.pathname"] = self.path
        return out

    def page_callback(self, changed: str) -> None:
        self.post(self.page, FIRST_INPUT[self.page], self.values(), changed)

    def post(self, name: str, first_input: str, values: dict, changed: str | None = None):
        if not self.dependencies:
            return None
        body = callback_payload(self.dependencies, first_input, values, changed)
        with self.client.post("/_dash-update-component", json=body, name=f"callback: {name}",
                              catch_response=True) as answer:
            if answer.status_code != 200:
                answer.failure(f"{answer.status_code}: {answer.text[:200]}")
                return None
            return answer.json()

    @task(6)
    def change_a_selector(self):
        choices = [cid for cid, p in self.controls.items() if p.get("options")]
        if not choices:
            return
        control = random.choice(choices)
        value = other_value(self.controls[control])
        if value is None:
            return
        self.controls[control]["value"] = value
        self.page_callback(f"{control}.value")

    @task(2)
    def follow_a_menu_link(self):
        self.navigate(self.pick_page())

    @task(1)
    def reload_or_open_a_new_tab(self):
        self.full_load(self.pick_page())

    @task(1)
    def small_api_query(self):
        if random.random() < 0.5:
            self.client.get("/api/v1/areas?area_type=trial_area", name="api: areas")
        else:
            self.client.get("/api/v1/indicators?indicator=unemployed_share&area=SSS,TRIALS"
                            "&format=json&from=2024-01", name="api: indicators")


@events.request.add_listener
def record(request_type, name, response_time, exception, **_kwargs):
    TIMES[name].append(response_time)
    if exception:
        ERRORS[name] += 1


# ----------------------------------------------------------------- databases
def demo_database(url: str, scale: float, start: str, end: str) -> None:
    subprocess.run([sys.executable, "-m", "shell.cli", "demo", "--db", url, "--scale",
                    str(scale), "--from", start, "--to", end, "-q"], cwd=ROOT, check=True,
                   env={**os.environ, "PYTHONPATH": str(ROOT)})


@contextlib.contextmanager
def database(backend: str, scale: float, start: str, end: str, url: str | None = None):
    if url:  # a demo database built before (e.g. kept between runs to compare changes)
        yield url
        return
    if backend == "sqlite":
        path = OUT / f"serve-demo-{scale:g}-{start}-{end}.sqlite"
        if not path.exists():
            OUT.mkdir(parents=True, exist_ok=True)
            print(f"building the demo database {path.name} ...", flush=True)
            demo_database(f"sqlite:///{path}", scale, start, end)
        yield f"sqlite:///{path}"
        return
    with pgserver.postgres_server() as server_url:
        url = pgserver.create_database(server_url, "bench_serve")
        print("building the demo database in a throwaway PostgreSQL ...", flush=True)
        demo_database(url, scale, start, end)
        yield url


# ----------------------------------------------------------------- CPU time
def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = defaultdict(list)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            tree[int(fields[1])].append(int(stat.parent.name))
    return tree


def _cpu_seconds(pid: int) -> float:
    """user + system CPU time of `pid` (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _postmaster(url: str) -> int | None:
    """The PostgreSQL server process listening on the URL's port (None for SQLite)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if not parsed.get_backend_name().startswith("postgresql"):
        return None
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        with contextlib.suppress(OSError):
            words = cmdline.read_bytes().split(b"\0")
            if words and words[0].endswith(b"/postgres") and str(parsed.port).encode() in words:
                return int(cmdline.parent.name)
    return None


def tree_cpu(root: int | None) -> float:
    """CPU seconds of `root` and its descendants that are alive now."""
    if root is None:
        return 0.0
    tree, total, stack = _children(), 0.0, [root]
    while stack:
        pid = stack.pop()
        total += _cpu_seconds(pid)
        stack.extend(tree.get(pid, []))
    return total


# ----------------------------------------------------------------- run and report
def percentile(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def report(seconds: float) -> dict:
    rows = sorted(TIMES)
    print(f"\n{'request':34} {'count':>7} {'errors':>6} {'p50 ms':>8} {'p95 ms':>8} "
          f"{'p99 ms':>8}")
    for name in rows:
        times = TIMES[name]
        print(f"{name:34} {len(times):7d} {ERRORS[name]:6d} {percentile(times, 50):8.0f} "
              f"{percentile(times, 95):8.0f} {percentile(times, 99):8.0f}")
    groups = {"ALL pages (html + route callback)":
              [n for n in rows if n == "page: html" or n == "callback: route"],
              "ALL page callbacks": [n for n in rows if n.startswith("callback: ")
                                     and n != "callback: route"],
              "ALL requests": rows}
    summary = {}
    for label, names in groups.items():
        times = [t for n in names for t in TIMES[n]]
        errors = sum(ERRORS[n] for n in names)
        summary[label] = {"count": len(times), "errors": errors,
                          "p50": percentile(times, 50), "p95": percentile(times, 95),
                          "p99": percentile(times, 99)}
        print(f"{label:34} {len(times):7d} {errors:6d} {percentile(times, 50):8.0f} "
              f"{percentile(times, 95):8.0f} {percentile(times, 99):8.0f}")
    total = sum(len(v) for v in TIMES.values())
    print(f"\nrequests/s: {total / seconds:.1f} ({total} requests in {seconds:.0f} s)")
    worst = max(summary[k]["p95"] for k in list(summary)[:2])
    errors = summary["ALL requests"]["errors"]
    verdict = "met" if worst <= 300 and errors == 0 else "NOT met"
    print(f"goal p95 <= 300 ms for pages and callbacks, 0 errors: {verdict} "
          f"(worst p95 {worst:.0f} ms, {errors} errors)")
    return summary


def drive(base: str, users: int, seconds: float) -> float:
    env = Environment(user_classes=[Person], host=base, events=events)
    runner = env.create_local_runner()
    runner.start(users, spawn_rate=max(1, users / 5))
    started = time.monotonic()
    gevent.spawn_later(seconds, runner.quit)
    runner.greenlet.join()
    for error in env.stats.errors.values():
        print(f"error x{error.occurrences}: {error.method} {error.name}: {error.error}")
    return time.monotonic() - started


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--db", default=None,
                        help="serve this database (already built) instead of building one")
    parser.add_argument("--scale", type=float, default=0.005)
    parser.add_argument("--from", dest="start", default="2022-01")
    parser.add_argument("--to", dest="end", default="2024-12")
    args = parser.parse_args(argv)
    if args.seconds > 600:
        parser.error("--seconds is bounded at 600")
    server_args = ["--log-level", "warning"]
    for name in ("workers", "threads"):
        if getattr(args, name):
            server_args += [f"--{name}", str(getattr(args, name))]
    with database(args.backend, args.scale, args.start, args.end, args.db) as url:
        served = start_server(url, *server_args)
        try:
            print(f"server: {served.base} ({args.backend}; {' '.join(server_args)}); "
                  f"{args.users} users for {args.seconds:g} s", flush=True)
            load_before = os.getloadavg()
            postmaster = _postmaster(url)
            cpu_before = (tree_cpu(served.process.pid), tree_cpu(postmaster))
            elapsed = drive(served.base, args.users, args.seconds)
            cpu_after = (tree_cpu(served.process.pid), tree_cpu(postmaster))
            load_after = os.getloadavg()
        finally:
            served.stop()
    summary = report(elapsed)
    print(f"machine load average (1, 5, 15 min): before {load_before[0]:.1f} "
          f"{load_before[1]:.1f} {load_before[2]:.1f}, after {load_after[0]:.1f} "
          f"{load_after[1]:.1f} {load_after[2]:.1f} on {os.cpu_count()} cores")
    summary["load_average_after"] = list(load_after)
    requests = summary["ALL requests"]["count"]
    server_cpu, database_cpu = (after - before for after, before in zip(cpu_after, cpu_before,
                                                                        strict=True))
    print(f"CPU time per request (steadier than latency on a shared machine): server "
          f"{1000 * server_cpu / max(requests, 1):.1f} ms"
          + (f", PostgreSQL {1000 * database_cpu / max(requests, 1):.1f} ms"
             if postmaster else ""))
    summary["cpu_ms_per_request"] = {"server": 1000 * server_cpu / max(requests, 1),
                                     "postgresql": 1000 * database_cpu / max(requests, 1)}
    (OUT / f"bench_serve-{args.backend}.json").write_text(json.dumps(summary, indent=2))


if __name__ == "__main__":
    main()
