"""`python app.py` / `trialmon serve`: the dashboard on a ready database."""

from __future__ import annotations

import click
import sqlalchemy as sa

from trialmon.db import get_engine, upgrade
from trialmon.schema import month_status
from trialmon.settings import get_settings


def has_published_data(url: str) -> bool:
    with get_engine(url).connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(month_status)).scalar() > 0


def ensure_demo_data(url: str, quiet: bool = False) -> None:
    """An empty database gets the default demo data, so the first start shows something."""
    if has_published_data(url):
        return
    from etl.demo import build_demo
    from indicators.engine import compute

    scale = get_settings().demo_scale
    if not quiet:
        click.echo(f"empty database: building demo data (scale {scale}) ...", err=True)
    months = build_demo(url, scale=scale, start="2020-01", end="2025-12", seed=2021,
                        progress=not quiet)
    compute(url, months=sorted(months), progress=not quiet)


def run_dashboard(url: str, host: str | None = None, port: int | None = None,
                  build_demo: bool = True, quiet: bool = False) -> None:
    settings = get_settings()
    upgrade(url)
    if build_demo:
        ensure_demo_data(url, quiet=quiet)
    from dashboard.app import create_app

    app = create_app(url)
    app.run(host=host or settings.host, port=port or settings.port, debug=False)
