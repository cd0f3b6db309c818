"""The pipeline: migrate -> reference -> load -> compute -> serve.

`prepare_database` is the first two steps (every command runs it); `ensure_demo_data`
fills an empty database with synthetic data; serving is shell/server.py."""

from __future__ import annotations

import logging
import sys

import sqlalchemy as sa

from etl.reference import sync_reference
from indicators.bulk import build_bulk, bulk_files
from indicators.engine import compute
from shell.logs import configure_logging
from trialmon.db import database, migrate
from trialmon.errors import TrialmonError
from trialmon.schema import month_status
from trialmon.settings import get_settings


def prepare_database(url: str) -> None:
    """Create or upgrade the schema, then bring the reference areas up to date."""
    migrate(url)
    sync_reference(database(url).published)


def compute_indicators(url: str, months=None, progress: bool = True):
    """Compute the indicators (`months`: the changed ones; None = all) and, when
    anything was published, the default effect estimates and the bulk download files."""
    report = compute(url, months=months, progress=progress)
    if report.months:
        publish_effects(url)
    if report.months or not bulk_files(url, "en")[0].exists():
        build_bulk(url)
    return report


def publish_effects(url: str) -> int:
    """Re-estimate and publish the default effect specifications (docs/effects.md)."""
    # start-up: pyfixest and numba load in ~2 s; only a computation needs them
    from indicators.effects import publish_default_effects

    return publish_default_effects(url)


def has_published_data(url: str) -> bool:
    with database(url).connect_published() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(month_status)).scalar() > 0


def ensure_demo_data(url: str, quiet: bool = False) -> None:
    """An empty database gets the default demo data, so the first start shows something."""
    if has_published_data(url):
        return
    from etl.demo import build_demo  # start-up: only an empty database needs the generator

    scale = get_settings().demo_scale
    logging.getLogger("trialmon.server").warning(
        "empty database: building synthetic demo data (scale %g) ...", scale)
    months = build_demo(url, scale=scale, start="2020-01", end="2025-12", seed=2021,
                        progress=not quiet)
    compute_indicators(url, months=sorted(months), progress=not quiet)


def prepare_for_serving(url: str, demo: bool, quiet: bool, log_format: str,
                        log_level: str) -> None:
    """What runs before a server starts (shell/server.py runs it in a spawned process, so
    this module imports nothing of the dashboard): migrate, reference, demo data if asked.
    A TrialmonError is logged in one line and exits 1."""
    configure_logging(log_format, log_level)
    try:
        prepare_database(url)
        if demo:
            ensure_demo_data(url, quiet=quiet)
    except TrialmonError as error:
        logging.getLogger("trialmon.server").error("%s", error)
        sys.exit(1)
