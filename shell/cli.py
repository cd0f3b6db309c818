"""The `trialmon` command line: the composition root that wires etl, indicators
and dashboard together. Each command is a thin wrapper over a module function."""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import click

from shell.pipeline import prepare_database
from trialmon.errors import TrialmonError
from trialmon.settings import get_settings, resolve_db_url


def common_options(func):
    """--db and --quiet on every command; resolves the database URL once."""

    @click.option("--db", "db", metavar="URL", help="Database URL (default: $TRIALMON_DB_URL, "
                  "else data/trialmon.sqlite).")
    @click.option("--quiet", "-q", is_flag=True, help="No progress bars.")
    @functools.wraps(func)
    def wrapper(*args, db, quiet, **kwargs):
        url = resolve_db_url(db)
        try:
            get_settings()  # a bad environment value stops every command with one line
            return func(*args, url=url, quiet=quiet, **kwargs)
        except TrialmonError as error:
            click.echo(f"error: {error}", err=True)
            sys.exit(1)

    return wrapper


def ensure_schema(url: str) -> None:
    prepare_database(url)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="trialmon")
def main() -> None:
    """Monthly monitoring of Finland's municipal employment trials."""


@main.command()
@click.option("--scale", type=float, default=None, help="1.0 = national size (default 0.02).")
@click.option("--from", "start", default="2020-01", show_default=True, metavar="YYYY-MM")
@click.option("--to", "end", default="2025-12", show_default=True, metavar="YYYY-MM")
@click.option("--seed", type=int, default=2021, show_default=True)
@click.option("--out", type=click.Path(dir_okay=False),
              help="Write the extract to this Parquet file instead of loading it.")
@common_options
def demo(url, quiet, scale, start, end, seed, out):
    """Generate synthetic register extracts and load them (marked synthetic)."""
    from etl.demo import build_demo, write_parquet

    scale = scale if scale is not None else get_settings().demo_scale
    if out:
        rows = write_parquet(out, scale=scale, start=start, end=end, seed=seed)
        click.echo(f"wrote {rows} rows ({start}..{end}, scale {scale:g}) to {out}", err=True)
        return
    ensure_schema(url)
    months = build_demo(url, scale=scale, start=start, end=end, seed=seed, progress=not quiet)
    _compute(url, months, quiet)


@main.group()
def load() -> None:
    """Load source files into the database."""


@load.command("register")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--synthetic", is_flag=True, help="Mark the loaded months as synthetic data.")
@click.option("--allow-column", "allow_columns", multiple=True, metavar="NAME",
              help="Accept (and ignore) this extra column; repeatable.")
@common_options
def load_register(url, quiet, files, synthetic, allow_columns):
    """Load monthly register extracts (CSV or Parquet): all files or nothing."""
    from etl.register import load_register_files

    ensure_schema(url)
    report = load_register_files(url, [Path(f) for f in files], synthetic=synthetic,
                                 progress=not quiet, allow_columns=allow_columns)
    click.echo(report.summary())
    _compute(url, report.changed_months, quiet)


@load.command("statfin")
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@common_options
def load_statfin(url, quiet, files):
    """Load Statistics Finland table tyonv/12r5 (PxWeb json, JSON-stat2 or CSV)."""
    from etl.statfin import load_statfin_files

    ensure_schema(url)
    report = load_statfin_files(url, [Path(f) for f in files])
    click.echo(report.summary())
    from indicators.public_statistics import compute_public_statistics

    computed = compute_public_statistics(url, report.months)
    if not quiet:
        click.echo(computed.summary())


def _compute(url: str, months, quiet: bool) -> None:
    from indicators.engine import compute

    if months:
        report = compute(url, months=sorted(months), progress=not quiet)
        if not quiet:
            click.echo(report.summary())


@main.command("compute")
@common_options
def compute_all(url, quiet):
    """Recompute every indicator cell from the loaded data."""
    from indicators.engine import compute

    ensure_schema(url)
    report = compute(url, months=None, progress=not quiet)
    click.echo(report.summary())


@main.command()
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv",
              show_default=True)
@common_options
def areas(url, quiet, fmt):
    """Print the area reference (municipalities, regions, trial areas, validity)."""
    from etl.reference import area_reference_table

    ensure_schema(url)
    table = area_reference_table(url)
    click.echo(table.write_csv() if fmt == "csv" else table.write_json(), nl=False)


@main.command()
@common_options
def status(url, quiet):
    """Loaded months, their vintages and revisions, row counts."""
    from etl.register import load_history

    ensure_schema(url)
    click.echo(load_history(url).summary())


@main.command()
@click.option("--format", "fmt", type=click.Choice(["csv", "parquet", "xlsx"]), default="csv",
              show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), help="Output file (default: stdout for CSV).")
@click.option("--indicator", "indicators", multiple=True)
@click.option("--area-type", "area_types", multiple=True)
@click.option("--area", "areas", multiple=True)
@click.option("--population", "populations", multiple=True)
@click.option("--group", "groups", multiple=True)
@click.option("--from", "start", metavar="YYYY-MM")
@click.option("--to", "end", metavar="YYYY-MM")
@click.option("--lang", type=click.Choice(["fi", "sv", "en"]), default="en", show_default=True)
@click.option("--unprotected", is_flag=True,
              help="Without disclosure control: only for staff who hold the extract.")
@common_options
def export(url, quiet, fmt, out, indicators, area_types, areas, populations, groups, start, end,
           lang, unprotected):
    """Write the tidy indicator table (and its metadata JSON)."""
    from indicators.export import ExportQuery, export_table

    ensure_schema(url)
    query = ExportQuery(indicators=indicators, area_types=area_types, areas=areas,
                        populations=populations, groups=groups, start=start, end=end,
                        lang=lang, unprotected=unprotected)
    written = export_table(url, query, fmt=fmt, out=Path(out) if out else None)
    if written:
        click.echo(f"wrote {', '.join(str(p) for p in written)}", err=True)


@main.group()
def fetch() -> None:
    """Download public source data."""


@fetch.command("statfin")
@click.option("--table", default="12r5", show_default=True)
@click.option("--from", "start", required=True, metavar="YYYY-MM")
@click.option("--to", "end", metavar="YYYY-MM")
@click.option("--out", required=True, type=click.Path(file_okay=False))
@click.option("--base-url", default="https://pxdata.stat.fi/PxWeb/api/v1", show_default=True,
              envvar="TRIALMON_PXWEB_URL")
@click.option("--lang", type=click.Choice(["fi", "sv", "en"]), default="fi", show_default=True)
@click.option("--max-cells", type=int, default=100_000, show_default=True,
              help="Cells per query (the API's limit).")
@click.option("--max-calls", type=int, default=30, show_default=True,
              help="Requests per --window seconds (the API's rate limit).")
@click.option("--window", "window_seconds", type=float, default=10.0, show_default=True)
@click.option("--quiet", "-q", is_flag=True)
def fetch_statfin(table, start, end, out, base_url, lang, max_cells, max_calls, window_seconds,
                  quiet):
    """Download table tyonv/TABLE from Statistics Finland's PxWeb API."""
    from etl.statfin import fetch_pxweb

    try:
        files = fetch_pxweb(table=table, start=start, end=end, out=Path(out), base_url=base_url,
                            lang=lang, progress=not quiet, max_cells=max_cells,
                            max_calls=max_calls, window_seconds=window_seconds)
    except TrialmonError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(1)
    click.echo(f"wrote {len(files)} file(s) to {out}")


@main.command()
@click.option("--host", default=None, help="Default 127.0.0.1 ($TRIALMON_HOST).")
@click.option("--port", type=click.IntRange(1, 65535), default=None,
              help="Default 8050 ($TRIALMON_PORT).")
@click.option("--workers", type=click.IntRange(1, 64), default=None,
              help="Worker processes (default: 2 per core, $TRIALMON_WORKERS).")
@click.option("--threads", type=click.IntRange(1, 64), default=None,
              help="Threads per worker (default 4, $TRIALMON_THREADS).")
@click.option("--log-format", type=click.Choice(["text", "json"]), default=None,
              help="Log lines as text or JSON (default text, $TRIALMON_LOG_FORMAT).")
@click.option("--log-level", type=click.Choice(["debug", "info", "warning", "error"]),
              default=None, help="Default info ($TRIALMON_LOG_LEVEL).")
@click.option("--demo/--no-demo", default=None,
              help="Build demo data first if the database is empty (default off, "
                   "$TRIALMON_DEMO=1 turns it on).")
@click.option("--dev", is_flag=True, help="Flask's development server instead of gunicorn.")
@common_options
def serve(url, quiet, host, port, workers, threads, log_format, log_level, demo, dev):
    """Serve the dashboard with the production server (gunicorn)."""
    from shell.server import ServeOptions
    from shell.server import serve as run_server

    options = ServeOptions.from_settings(host=host, port=port, workers=workers,
                                         threads=threads, log_format=log_format,
                                         log_level=log_level, demo=demo, dev=dev, quiet=quiet)
    run_server(url, options)


if __name__ == "__main__":
    main()
