"""Settings: the one place that reads the environment.

Every value has a working default so that `python app.py` needs no configuration.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_DATA_DIR = Path("data")
DEFAULT_DB_FILE = "trialmon.sqlite"


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


@dataclass(frozen=True)
class Settings:
    db_url: str = field(default_factory=resolve_db_url)
    # Counts 1..threshold-1 are suppressed (spec: default 5, configurable).
    suppression_threshold: int = field(
        default_factory=lambda: int(os.environ.get("TRIALMON_SUPPRESSION_THRESHOLD", "5"))
    )
    # Optional municipality boundaries (GeoJSON, EPSG:3067 or WGS84) for the map page.
    boundaries_path: str | None = field(
        default_factory=lambda: os.environ.get("TRIALMON_BOUNDARIES") or None
    )
    host: str = field(default_factory=lambda: os.environ.get("TRIALMON_HOST", "127.0.0.1"))
    port: int = field(default_factory=lambda: int(os.environ.get("TRIALMON_PORT", "8050")))
    # Default size of the demo data built on first start (1.0 = national scale).
    demo_scale: float = field(
        default_factory=lambda: float(os.environ.get("TRIALMON_DEMO_SCALE", "0.02"))
    )


def get_settings(**overrides) -> Settings:
    return Settings(**{k: v for k, v in overrides.items() if v is not None})
