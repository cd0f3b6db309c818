"""Start the real production server (`trialmon serve`, gunicorn) in a subprocess on a free
loopback port, for tests and bench/bench_serve.py.

`running_server(url, ...)` yields a `Served` (base URL, process, log file) and stops it
with SIGTERM at the end; `free_port()`; `get(url)` (status, headers, body) with no
exception on 4xx/5xx.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str, headers: dict | None = None, data: bytes | None = None,
        method: str | None = None, timeout: float = 30) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, headers=headers or {}, data=data, method=method)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


@dataclass
class Served:
    base: str
    process: subprocess.Popen
    log_path: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self, timeout: float = 40) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode


def server_command(url: str, port: int, *args: str) -> list[str]:
    return [sys.executable, "-m", "shell.cli", "serve", "--db", url, "--host", "127.0.0.1",
            "--port", str(port), *args]


def start_server(url: str, *args: str, env: dict | None = None,
                 ready_path: str = "/healthz", wait_seconds: float = 90) -> Served:
    """`trialmon serve` on a free port; returns once `ready_path` answers."""
    port = free_port()
    log_path = Path(tempfile.mkstemp(prefix="trialmon-serve-", suffix=".log")[1])
    environment = {**os.environ, "PYTHONPATH": str(ROOT), **(env or {})}
    with log_path.open("wb") as log:
        process = subprocess.Popen(server_command(url, port, *args), cwd=ROOT, env=environment,
                                   stdout=log, stderr=subprocess.STDOUT)
    served = Served(f"http://127.0.0.1:{port}", process, log_path)
    deadline = time.monotonic() + wait_seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{served.log()}")
        with contextlib.suppress(OSError):
            status, _, _ = get(served.base + ready_path, timeout=2)
            if status < 500 or ready_path != "/healthz":
                return served
        time.sleep(0.3)
    served.stop()
    raise RuntimeError(f"server did not answer within {wait_seconds} s:\n{served.log()}")


@contextlib.contextmanager
def running_server(url: str, *args: str, env: dict | None = None) -> Iterator[Served]:
    served = start_server(url, *args, env=env)
    try:
        yield served
    finally:
        served.stop()


def callback_payload(dependencies: list[dict], first_input: str, values: dict,
                     changed: str | None = None) -> dict:
    """The body Dash's renderer posts to /_dash-update-component for the callback whose
    first input is `first_input` (e.g. "ex-indicator.value"), from the app's
    /_dash-dependencies and the controls' `values` ({"ex-indicator.value": ..., ...})."""
    callback = next(c for c in dependencies
                    if c["inputs"] and f"{c['inputs'][0]['id']}.{c['inputs'][0]['property']}"
                    == first_input)

    def items(specs):
        return [{"id": s["id"], "property": s["property"],
                 "value": values.get(f"{s['id']}.{s['property']}")} for s in specs]

    outputs = [{"id": part.split(".")[0], "property": part.split(".")[1].split("@")[0]}
               for part in callback["output"].strip(".").split("...")]
    multi = callback["output"].startswith("..")
    return {"output": callback["output"], "outputs": outputs if multi else outputs[0],
            "inputs": items(callback["inputs"]), "state": items(callback["state"]),
            "changedPropIds": [changed or first_input]}
