"""The production server: gunicorn runs the dashboard's WSGI app.

Interface:
* `create_wsgi_app(url=None) -> flask.Flask`: the WSGI entry, for any WSGI server
  (``gunicorn 'shell.server:create_wsgi_app()'``); the database from $TRIALMON_DB_URL.
* `serve(url, options)`: what ``trialmon serve`` runs (options: `ServeOptions`).
* `DashboardServer`: the gunicorn application (``gunicorn.app.base.BaseApplication``).

Decisions:
* gunicorn, not waitress/uWSGI/an ASGI server: the app is plain WSGI (Flask under Dash),
  gunicorn is the most used and best kept pre-fork WSGI server on Linux, it runs in-process
  from Python (no config file), and its pre-fork model gives what we need: the app is
  built once in the master (``preload_app``) and shared copy-on-write by the workers, a
  worker that dies or leaks is replaced, SIGTERM drains in-flight requests
  (``graceful_timeout``) before exiting. Polars and the SQL driver release the GIL, so
  each worker runs a few threads (``gthread``) to overlap waiting on the database.
* Migrations, the reference sync and (when asked) the demo data run before the app is
  built and before any worker is forked, in a process the master starts (``python -m
  shell.pipeline``) and waits for until it writes to a pipe that the server may start:
  at once after the migrations, or, on a first start, once the demo's first view is
  published; it then goes on with the other demo months while the server serves, and
  is stopped with the server. Not in the master itself: Polars' thread pool does not survive fork(2)
  (a worker forked after the master ran a Polars query hangs on its first one), so the
  master imports and builds the app but runs no query; each worker warms its own caches
  after the fork (`dashboard.app.warm_up`). The database engine is disposed before
  forking, so no worker inherits a connection of the master.
* Demo data are built only when asked (``--demo`` or TRIALMON_DEMO=1); ``python app.py``
  asks, for the newcomer on an empty embedded database.
* The Flask development server only with ``--dev``; its Server header carries no version
  (gunicorn's says just "gunicorn").
* gunicorn's own access log is off: the app logs one line per request (dashboard/web.py)
  with a request id, in the same text or JSON format as everything else (shell/logs.py).
  gunicorn's control socket is off (one per user by default: two servers would share it).
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from dataclasses import dataclass

from gunicorn.app.base import BaseApplication
from werkzeug.serving import WSGIRequestHandler

from dashboard.app import create_app, warm_up
from shell.logs import configure_logging, logging_config
from shell.pipeline import PREPARED
from trialmon.errors import TrialmonError
from trialmon.settings import get_settings, resolve_db_url

log = logging.getLogger("trialmon.server")
GRACEFUL_SECONDS = 20
TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 8050
    workers: int = 2
    threads: int = 4
    log_format: str = "text"
    log_level: str = "info"
    demo: bool = False
    dev: bool = False
    quiet: bool = False

    @classmethod
    def from_settings(cls, **overrides) -> ServeOptions:
        """Unset (None) overrides take the environment's value (trialmon.settings)."""
        s = get_settings()
        values = dict(host=s.host, port=s.port, workers=s.workers, threads=s.threads,
                      log_format=s.log_format, log_level=s.log_level, demo=s.demo)
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)


def create_wsgi_app(url: str | None = None):
    """The dashboard's WSGI app on `url` (default: the configured database)."""
    return create_app(url or resolve_db_url()).server


def prepare_apart(url: str, options: ServeOptions) -> subprocess.Popen | None:
    """Migrate, sync the reference, build demo data if asked: in a process of its own
    (`python -m shell.pipeline`; see Decisions: the master runs no Polars query), until
    it says the server may start. Returns that process while it still works (the rest of
    a first start's demo months), else None; the server stops it when it stops.

    A plain subprocess, not multiprocessing: gunicorn forks its workers from this
    process, and a forked worker would try to join a multiprocessing child at exit."""
    ready, ready_write = os.pipe()
    command = [sys.executable, "-m", "shell.pipeline", "--ready-fd", str(ready_write),
               "--log-format", options.log_format, "--log-level", options.log_level,
               *(["--demo"] if options.demo else []), *(["--quiet"] if options.quiet else [])]
    # the URL (it may hold a password) goes by the environment, not the command line
    child = subprocess.Popen(command, pass_fds=[ready_write],
                             env={**os.environ, "TRIALMON_DB_URL": url})
    os.close(ready_write)
    with os.fdopen(ready, "rb") as said:
        can_serve = said.read(1) == PREPARED  # b"" when it ended without saying so
    if can_serve:
        return child
    if child.wait() != 0:
        raise TrialmonError(f"preparing the database failed (exit code {child.returncode})")
    return None


def serve(url: str, options: ServeOptions) -> None:
    configure_logging(options.log_format, options.log_level)
    preparing = prepare_apart(url, options)
    try:
        if options.dev:
            _serve_dev(url, options)
        else:
            DashboardServer(url, options).run()
    finally:
        stop_preparing(preparing)


def stop_preparing(child: subprocess.Popen | None) -> None:
    """A server that stops stops the demo months still being computed for it (the next
    start finishes them: `pipeline.unpublished_demo_months`)."""
    if child is None:
        return
    try:
        child.wait(1)  # it may be just finishing
        return
    except subprocess.TimeoutExpired:
        pass
    log.warning("stopping the demo data still being computed; the next start finishes it")
    child.terminate()
    try:
        child.wait(GRACEFUL_SECONDS)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


class QuietRequestHandler(WSGIRequestHandler):
    """The development server's handler without its version in the Server header."""

    def version_string(self) -> str:
        return "trialmon"


def _serve_dev(url: str, options: ServeOptions) -> None:
    log.warning("development server (--dev): not for production use")
    log.info("serving on http://%s:%s", options.host, options.port)
    create_app(url).run(host=options.host, port=options.port, debug=False,
                        request_handler=QuietRequestHandler)


class DashboardServer(BaseApplication):
    """gunicorn with the app preloaded in the master; configured from `ServeOptions`."""

    def __init__(self, url: str, options: ServeOptions):
        self.url, self.options = url, options
        self.application = None
        super().__init__()

    def gunicorn_settings(self) -> dict:
        o = self.options
        return {
            "bind": [f"{o.host}:{o.port}"],
            "workers": o.workers,
            "threads": o.threads,
            "worker_class": "gthread",
            "preload_app": True,
            "timeout": TIMEOUT_SECONDS,
            "graceful_timeout": GRACEFUL_SECONDS,
            "keepalive": 5,
            "max_requests": 5000,
            "max_requests_jitter": 500,
            "accesslog": None,
            "loglevel": "warning",
            "logconfig_dict": logging_config(o.log_format, o.log_level),
            "proc_name": "trialmon",
            "when_ready": self._when_ready,
            "pre_fork": self._pre_fork,
            "post_fork": self._post_fork,
            "on_exit": self._on_exit,
        }

    def load_config(self) -> None:
        settings = self.gunicorn_settings()
        if "control_socket_disable" in self.cfg.settings:  # gunicorn >= 25.1
            settings["control_socket_disable"] = True
        for key, value in settings.items():
            self.cfg.set(key, value)

    def load(self):
        if self.application is None:
            app = create_app(self.url, warm=False)
            self.data = app.server.extensions["trialmon_data"]
            self.application = app.server
        return self.application

    def _pre_fork(self, _arbiter, _worker) -> None:
        self.data.db.dispose()  # no pooled connection of the master is inherited

    def _post_fork(self, _arbiter, _worker) -> None:
        """Warm the new worker's caches. Only an optimisation: a worker replaced while the
        database is down must still start (gunicorn stops the whole server when a worker
        fails to boot), answer 503 meanwhile and warm up on its first requests."""
        try:
            warm_up(self.data)
        except Exception as error:  # noqa: BLE001 (any failure: the worker serves cold)
            log.warning("worker started without warming its caches: %s",
                        str(error).splitlines()[0] if str(error) else type(error).__name__)

    def _when_ready(self, _arbiter) -> None:
        o = self.options
        log.info("serving on http://%s:%s (gunicorn, %d workers x %d threads)",
                 o.host, o.port, o.workers, o.threads)

    def _on_exit(self, _arbiter) -> None:
        log.info("stopped")
