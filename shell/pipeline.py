"""The pipeline: migrate -> reference -> load -> compute -> serve.

`prepare_database` is the first two steps (every command runs it); `ensure_demo_data`
fills an empty database with synthetic data; serving is shell/server.py."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable

import polars as pl
import sqlalchemy as sa

from etl.reference import sync_reference
from indicators.bulk import build_bulk, bulk_files
from indicators.engine import compute, current_vintages, pending_months, published_state
from shell.logs import configure_logging
from trialmon import domain
from trialmon.db import compact, database, migrate
from trialmon.errors import TrialmonError
from trialmon.months import month_range, shift_month
from trialmon.schema import month_status
from trialmon.settings import get_settings, resolve_db_url

log = logging.getLogger("trialmon.server")


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


# The demo months computed before a first start serves: the Overview's first view (it
# opens on the newest month with trial data, 2024-12, and compares it with the month
# before and the same month a year before). The other months follow while the
# dashboard already serves (issue 13: a first start under a minute).
DEMO_FIRST_VIEW = ("2023-12", "2024-12")
# ... and the months whose rows that computation reads, loaded first: it computes the
# first view +-1 month (flows of the month after, the interview cohort of the month
# before), each reads its neighbours, and the month before those gives its pattern.
DEMO_FIRST_LOAD = (shift_month(DEMO_FIRST_VIEW[0], -3), shift_month(DEMO_FIRST_VIEW[1], 2))


def ensure_demo_data(url: str, quiet: bool = False,
                     serve_from_here: Callable[[], None] | None = None) -> None:
    """An empty database gets the default demo data, so the first start shows something.

    With `serve_from_here` (a server waiting to start), the months the Overview's first
    view reads are loaded and published first and `serve_from_here()` is called; the
    other months, the effect estimates and the bulk files follow while the dashboard
    serves. A start that finds a demo unfinished (the server was stopped while it was
    built) finishes it."""
    if not has_published_data(url):
        log.warning("empty database: building synthetic demo data (scale %g) ...",
                    get_settings().demo_scale)
        if serve_from_here is None:
            months = build_demo_months(url, None, quiet)
            compute_indicators(url, months=sorted(months), progress=not quiet)
            return
        build_demo_months(url, set(month_range(*DEMO_FIRST_LOAD)), quiet)
        compute(url, list(month_range(*DEMO_FIRST_VIEW)), progress=not quiet, pending=False)
    if serve_from_here is not None:
        serve_from_here()
    if demo_history_unfinished(url):
        finish_demo(url, quiet)


def build_demo_months(url: str, only: set[str] | None, quiet: bool) -> set[str]:
    """Generate the default demo and load its months (`only`: just these)."""
    from etl.demo import build_demo  # start-up: only a demo start needs the generator

    first, last = domain.DEMO_MONTHS
    return build_demo(url, scale=get_settings().demo_scale, start=first, end=last,
                      seed=domain.DEMO_SEED, progress=not quiet, only=only)


def finish_demo(url: str, quiet: bool) -> None:
    """Load the demo months not yet loaded and compute every one not yet published."""
    loaded = set(current_vintages(url).filter(pl.col("synthetic"))["month"])
    missing = set(month_range(*domain.DEMO_MONTHS)) - loaded
    if missing:
        log.warning("demo data: loading the other %d month(s)", len(missing))
        build_demo_months(url, missing, quiet)
    pending = unpublished_demo_months(url)
    if pending:
        log.warning("demo data: computing the other %d month(s); the dashboard shows them "
                    "as soon as they are published", len(pending))
        compute_indicators(url, months=pending, progress=not quiet)
        # months published one after another leave their pages partly empty: packed
        # once, the demo takes ~15 % less disk (docs/DEVELOPING.md, "The first start")
        compact(url)
    log.warning("demo data complete: every month, the effect estimates and the bulk "
                "download files are published")


def demo_history_unfinished(url: str) -> bool:
    """Whether the published months are a demo whose first view came first and whose
    other months are still missing (`domain.demo_unfinished`). Read from the published
    tables only: a start on a finished (or a real) database never opens the person-level
    data."""
    s = month_status.c
    stmt = (sa.select(sa.func.min(s.month), sa.func.max(s.month),
                      sa.func.min(sa.cast(s.synthetic, sa.Integer)))
            .where(s.source == "register"))
    with database(url).connect_published() as conn:
        oldest, newest, all_synthetic = conn.execute(stmt).one()
    return domain.demo_unfinished(oldest, newest, bool(all_synthetic))


def unpublished_demo_months(url: str) -> list[str]:
    """Synthetic months loaded but not published: what a demo start has still to compute
    (real data are never computed behind the operator's back)."""
    vintages = current_vintages(url).filter(pl.col("synthetic"))
    return sorted(pending_months(vintages, published_state(url)))


PREPARED = b"1"  # what the preparing process writes when the server may start


def prepare_for_serving(url: str, demo: bool, quiet: bool, log_format: str,
                        log_level: str, ready_fd: int | None = None) -> None:
    """What runs before a server starts (shell/server.py runs it in a process of its
    own, so this module imports nothing of the dashboard): migrate, reference, demo data
    if asked. `ready_fd`: a pipe to write PREPARED to as soon as the server may start;
    the rest of the demo data is then built here while it serves. A TrialmonError is
    logged in one line and exits 1."""
    configure_logging(log_format, log_level)

    def serve_from_here() -> None:
        if ready_fd is not None:
            os.write(ready_fd, PREPARED)
            os.close(ready_fd)

    try:
        prepare_database(url)
        if demo:
            ensure_demo_data(url, quiet=quiet,
                             serve_from_here=serve_from_here if ready_fd is not None else None)
        else:
            serve_from_here()
    except TrialmonError as error:
        log.error("%s", error)
        sys.exit(1)
    except KeyboardInterrupt:  # Ctrl-C reaches this process too: the server says it
        sys.exit(130)


def main(argv: list[str] | None = None) -> None:
    """`python -m shell.pipeline`: the preparing process of `trialmon serve`; the database
    from $TRIALMON_DB_URL."""
    parser = argparse.ArgumentParser(prog="python -m shell.pipeline")
    parser.add_argument("--ready-fd", type=int)
    parser.add_argument("--demo", action="store_true")
    parser.add_argument("--quiet", action="store_true")
    parser.add_argument("--log-format", default="text")
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    prepare_for_serving(resolve_db_url(), args.demo, args.quiet, args.log_format,
                        args.log_level, args.ready_fd)


if __name__ == "__main__":
    main()
