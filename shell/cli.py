"""The `trialmon` command line: the composition root that wires etl, indicators
and dashboard together. Each command is a thin wrapper over a module function."""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import click

from shell.pipeline import prepare_database
from trialmon.errors import TrialmonError
from trialmon.settings import resolve_db_url


def common_options(func):
    """--db and --quiet on every command; resolves the database URL once."""

    @click.option("--db", "db", metavar="URL", help="Database URL (default: $TRIALMON_DB_URL, "
                  "else data/trialmon.sqlite).")
    @click.option("--quiet", "-q", is_flag=True, help="No progress bars.")
    @functools.wraps(func)
    def wrapper(*args, db, quiet, **kwargs):
        url = resolve_db_url(db)
        try:
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
    from trialmon.settings import get_settings

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
@click.option("--reports", "reports_dir", type=click.Path(file_okay=False),
              help="Write the monthly review of the newest loaded month into this folder "
                   "(PDF: all areas in one file, and one file per trial area).")
@click.option("--report-lang", "report_langs", multiple=True,
              type=click.Choice(["fi", "sv", "en"]), help="Languages of --reports "
              "(repeatable; default fi).")
@common_options
def load_register(url, quiet, files, synthetic, allow_columns, reports_dir, report_langs):
    """Load monthly register extracts (CSV or Parquet): all files or nothing."""
    from etl.register import load_register_files

    ensure_schema(url)
    report = load_register_files(url, [Path(f) for f in files], synthetic=synthetic,
                                 progress=not quiet, allow_columns=allow_columns)
    click.echo(report.summary())
    _compute(url, report.changed_months, quiet)
    if reports_dir and report.changed_months:
        _write_reviews(url, max(report.changed_months), Path(reports_dir),
                       report_langs or ("fi",))


def _write_reviews(url: str, month: str, folder: Path, langs) -> None:
    """The month's review: the all-areas document and one file per trial area."""
    from dashboard.report import default_name, write_area_reports, write_report

    for lang in langs:
        out = folder / default_name(month, lang, "pdf", None)
        write_report(url, month, out, lang=lang, fmt="pdf", all_areas=True)
        areas = write_area_reports(url, month, folder, lang=lang, fmt="pdf")
        click.echo(f"wrote {out} and {len(areas)} area reports", err=True)


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
@click.option("--as-of", "as_of", metavar="YYYY-MM-DDTHH:MM",
              help="The table as it was published at this time (UTC).")
@click.option("--vintage", type=int, metavar="ID",
              help="The table as publication (vintage) ID left it.")
@common_options
def export(url, quiet, fmt, out, indicators, area_types, areas, populations, groups, start, end,
           lang, unprotected, as_of, vintage):
    """Write the tidy indicator table (and its metadata JSON)."""
    from indicators.export import ExportQuery, export_table

    ensure_schema(url)
    query = ExportQuery(indicators=indicators, area_types=area_types, areas=areas,
                        populations=populations, groups=groups, start=start, end=end,
                        lang=lang, unprotected=unprotected, as_of=as_of, vintage=vintage)
    written = export_table(url, query, fmt=fmt, out=Path(out) if out else None)
    if written:
        click.echo(f"wrote {', '.join(str(p) for p in written)}", err=True)


@main.command()
@click.option("--month", required=True, metavar="YYYY-MM")
@click.option("--area", "areas", multiple=True, metavar="CODE",
              help="Trial area code (TA01 ...) or TRIALS; repeatable.")
@click.option("--all-areas", is_flag=True, help="A national summary page, then every trial area.")
@click.option("--lang", type=click.Choice(["fi", "sv", "en"]), default="fi", show_default=True)
@click.option("--format", "fmt", type=click.Choice(["html", "pdf"]), default="pdf",
              show_default=True)
@click.option("--out", type=click.Path(), help="Output file (default: "
              "trialmon-review-<area>-<month>-<lang>.<format>); with --each, a folder.")
@click.option("--each", is_flag=True, help="With --all-areas: one file per trial area "
              "into the --out folder instead of one document.")
@click.option("--as-of", "as_of", metavar="YYYY-MM-DDTHH:MM",
              help="Build from the figures as published at this time (UTC).")
@click.option("--vintage", type=int, metavar="ID", help="Build from publication (vintage) ID.")
@common_options
def report(url, quiet, month, areas, all_areas, lang, fmt, out, each, as_of, vintage):
    """Write the monthly review of trial areas (HTML or PDF)."""
    from dashboard.report import default_name, write_area_reports, write_report

    ensure_schema(url)
    if areas and all_areas:
        raise click.UsageError("give --area or --all-areas, not both")
    if each:
        if not all_areas:
            raise click.UsageError("--each goes with --all-areas")
        files = write_area_reports(url, month, Path(out or "."), lang=lang, fmt=fmt,
                                   as_of=as_of, vintage=vintage)
        click.echo(f"wrote {len(files)} area reports to {out or '.'}", err=True)
        return
    name = default_name(month, lang, fmt, None if all_areas else "-".join(areas) or None)
    target = Path(out or name)
    built = write_report(url, month, target, lang=lang, fmt=fmt, areas=tuple(areas),
                         all_areas=all_areas, as_of=as_of, vintage=vintage)
    click.echo(f"wrote {target} (vintage {built.vintage})", err=True)


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
@click.option("--port", type=int, default=None, help="Default 8050 ($TRIALMON_PORT).")
@click.option("--no-demo", is_flag=True, help="Do not build demo data into an empty database.")
@common_options
def serve(url, quiet, host, port, no_demo):
    """Serve the dashboard (builds demo data first if the database is empty)."""
    from shell.pipeline import run_dashboard

    run_dashboard(url, host=host, port=port, build_demo=not no_demo, quiet=quiet)


if __name__ == "__main__":
    main()
