"""Settings: the one place that reads the environment.

Interface: `get_settings(**overrides) -> Settings`, `resolve_db_url(cli_value)`,
`default_db_url()`, `SettingsError` (a TrialmonError: the CLI prints it on one line).

Decisions:
* Every value has a working default so that `python app.py` needs no configuration.
* A value that does not parse (``TRIALMON_PORT=x``, a negative scale) is refused when the
  settings are read, with one line naming the variable and the value, never a traceback.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from trialmon.errors import TrialmonError

DEFAULT_DATA_DIR = Path("data")
DEFAULT_DB_FILE = "trialmon.sqlite"
LOG_FORMATS = ("text", "json")
LOG_LEVELS = ("debug", "info", "warning", "error")
TRUE_WORDS, FALSE_WORDS = ("1", "true", "yes", "on"), ("", "0", "false", "no", "off")


class SettingsError(TrialmonError):
    """An environment variable holds a value trialmon cannot use."""


def default_db_url(data_dir: Path | None = None) -> str:
    """The embedded default: a SQLite file under ./data (created on first use)."""
    data_dir = Path(os.environ.get("TRIALMON_DATA_DIR", data_dir or DEFAULT_DATA_DIR))
    return f"sqlite:///{(data_dir / DEFAULT_DB_FILE).as_posix()}"


def data_dir() -> Path:
    """TRIALMON_DATA_DIR (default ./data): embedded SQLite files and, on PostgreSQL, the
    bulk download files."""
    return Path(os.environ.get("TRIALMON_DATA_DIR") or DEFAULT_DATA_DIR)


def downloads_dir(db_url: str) -> Path:
    """Where the bulk download files are written (at compute) and served from:
    TRIALMON_DOWNLOADS_DIR, else beside an embedded SQLite file, else TRIALMON_DATA_DIR."""
    configured = os.environ.get("TRIALMON_DOWNLOADS_DIR")
    if configured:
        return Path(configured)
    if db_url.startswith("sqlite:///"):
        return Path(db_url.removeprefix("sqlite:///")).parent
    return data_dir()


def resolve_db_url(cli_value: str | None = None) -> str:
    """`--db URL`, else `TRIALMON_DB_URL`, else the embedded SQLite default."""
    return cli_value or os.environ.get("TRIALMON_DB_URL") or default_db_url()


def _env(name: str, default: str, parse: Callable[[str], object], expected: str,
         valid: Callable[[object], bool] = lambda _v: True):
    """The variable `name` parsed, or `default` when unset; SettingsError when it is wrong."""
    raw = os.environ.get(name)
    if raw is None:
        raw = default
    try:
        value = parse(raw.strip())
    except ValueError:
        value = None
    if value is None or not valid(value):
        raise SettingsError(f"{name}={raw!r} is not valid: expected {expected}")
    return value


def _boolean(text: str) -> bool:
    if text.lower() in TRUE_WORDS:
        return True
    if text.lower() in FALSE_WORDS:
        return False
    raise ValueError(text)


def _choice(options: tuple[str, ...]) -> Callable[[str], str]:
    def parse(text: str) -> str:
        if text.lower() not in options:
            raise ValueError(text)
        return text.lower()
    return parse


# The demo's size (1.0 = national): a fifth of the real register, so that most trial-area
# and regional cells survive disclosure control (at 0.02 most were hidden: their
# municipalities' counts of a few persons are protected by hiding the area totals) while
# the first start stays a few minutes (docs/reference-data.md has the figures).
DEFAULT_DEMO_SCALE = 0.2


def _default_workers() -> int:
    """Two gthread workers per core, at least 2 (measured by bench/bench_serve.py)."""
    return max(2, 2 * (os.cpu_count() or 1))


@dataclass(frozen=True)
class Settings:
    db_url: str = field(default_factory=resolve_db_url)
    # Counts 1..threshold-1 are suppressed (spec: default 5, configurable).
    suppression_threshold: int = field(default_factory=lambda: _env(
        "TRIALMON_SUPPRESSION_THRESHOLD", "5", int, "a whole number of at least 2",
        lambda v: v >= 2))
    # Optional municipality boundaries (GeoJSON, EPSG:3067 or WGS84) for the map page.
    boundaries_path: str | None = field(
        default_factory=lambda: os.environ.get("TRIALMON_BOUNDARIES") or None
    )
    host: str = field(default_factory=lambda: os.environ.get("TRIALMON_HOST", "127.0.0.1"))
    port: int = field(default_factory=lambda: _env(
        "TRIALMON_PORT", "8050", int, "a port number 1-65535", lambda v: 0 < v < 65536))
    # Default size of the demo data built on first start (1.0 = national scale).
    demo_scale: float = field(default_factory=lambda: _env(
        "TRIALMON_DEMO_SCALE", str(DEFAULT_DEMO_SCALE), float, "a number above 0 (1.0 = national size)",
        lambda v: 0 < v <= 10))
    # `trialmon serve` builds demo data into an empty database only when asked.
    demo: bool = field(default_factory=lambda: _env(
        "TRIALMON_DEMO", "0", _boolean, "1 or 0 (true/false)"))
    # The production server (shell/server.py): processes and threads per process.
    workers: int = field(default_factory=lambda: _env(
        "TRIALMON_WORKERS", str(_default_workers()), int, "a whole number 1-64",
        lambda v: 0 < v <= 64))
    threads: int = field(default_factory=lambda: _env(
        "TRIALMON_THREADS", "4", int, "a whole number 1-64", lambda v: 0 < v <= 64))
    # Processes that protect months side by side in a computation (disclosure control
    # dominates the compute time; the result does not depend on this number).
    compute_workers: int = field(default_factory=lambda: _env(
        "TRIALMON_COMPUTE_WORKERS", str(min(4, os.cpu_count() or 1)), int,
        "a whole number 1-64", lambda v: 0 < v <= 64))
    log_format: str = field(default_factory=lambda: _env(
        "TRIALMON_LOG_FORMAT", "text", _choice(LOG_FORMATS), " or ".join(LOG_FORMATS)))
    log_level: str = field(default_factory=lambda: _env(
        "TRIALMON_LOG_LEVEL", "info", _choice(LOG_LEVELS), ", ".join(LOG_LEVELS)))


def get_settings(**overrides) -> Settings:
    return Settings(**{k: v for k, v in overrides.items() if v is not None})
