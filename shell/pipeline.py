"""The pipeline: migrate -> reference -> load -> compute -> serve.

`prepare_database` is the first two steps (every command runs it); `ensure_demo_data`
fills an empty database with synthetic data; serving is shell/server.py."""

from __future__ import annotations

import click
import sqlalchemy as sa

from etl.reference import sync_reference
from trialmon.db import get_engine, migrate
from trialmon.schema import month_status
from trialmon.settings import get_settings


def prepare_database(url: str) -> None:
    """Create or upgrade the schema, then bring the reference areas up to date."""
    migrate(url)
    sync_reference(get_engine(url))


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
