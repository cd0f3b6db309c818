"""The pipeline: migrate -> reference -> load -> compute -> serve.

`prepare_database` is the first two steps (every command runs it); `python app.py` /
`trialmon serve` is the last, on a ready database."""

from __future__ import annotations

import click
import sqlalchemy as sa

from etl.reference import sync_reference
from indicators.bulk import build_bulk, bulk_files
from indicators.engine import compute
from trialmon.db import get_published_engine, migrate
from trialmon.schema import month_status
from trialmon.settings import get_settings


def prepare_database(url: str) -> None:
    """Create or upgrade the schema, then bring the reference areas up to date."""
    migrate(url)
    sync_reference(get_published_engine(url))


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
    with get_published_engine(url).connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(month_status)).scalar() > 0


def ensure_demo_data(url: str, quiet: bool = False) -> None:
    """An empty database gets the default demo data, so the first start shows something."""
    if has_published_data(url):
        return
    from etl.demo import build_demo  # start-up: only an empty database needs the generator

    scale = get_settings().demo_scale
    if not quiet:
        click.echo(f"empty database: building demo data (scale {scale}) ...", err=True)
    months = build_demo(url, scale=scale, start="2020-01", end="2025-12", seed=2021,
                        progress=not quiet)
    compute_indicators(url, months=sorted(months), progress=not quiet)


def run_dashboard(url: str, host: str | None = None, port: int | None = None,
                  build_demo: bool = True, quiet: bool = False) -> None:
    settings = get_settings()
    prepare_database(url)
    if build_demo:
        ensure_demo_data(url, quiet=quiet)
    # start-up: Dash and the pages cost ~1 s; only `serve` needs them, not every command.
    from dashboard.app import create_app

    app = create_app(url)
    app.run(host=host or settings.host, port=port or settings.port, debug=False)
