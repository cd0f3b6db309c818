"""The `trialmon` command line: the composition root that wires etl, indicators
and dashboard together. Each command is a thin wrapper over a module function."""

from __future__ import annotations

import functools
import json
import sys
from pathlib import Path

import click

from etl.area_systems import load_area_system, membership_table
from etl.pxweb_client import DEFAULT_BASE_URL, MAX_CALLS, MAX_CELLS, WINDOW_SECONDS, fetch_pxweb
from etl.reference import area_reference_table
from etl.register import load_history, load_register_files
from etl.statfin import load_statfin_files
from indicators.bulk import build_bulk
from indicators.public_statistics import compute_public_statistics
from shell.pipeline import compute_indicators, prepare_database, publish_effects
from trialmon.domain import DEMO_MONTHS, DEMO_SEED, LANGUAGES
from trialmon.errors import TrialmonError
from trialmon.settings import DEFAULT_DEMO_SCALE, get_settings, resolve_db_url


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
@click.option("--scale", type=float, default=None,
              help=f"1.0 = national size (default: TRIALMON_DEMO_SCALE, else {DEFAULT_DEMO_SCALE:g}).")
@click.option("--from", "start", default=DEMO_MONTHS[0], show_default=True, metavar="YYYY-MM")
@click.option("--to", "end", default=DEMO_MONTHS[1], show_default=True, metavar="YYYY-MM")
@click.option("--seed", type=int, default=DEMO_SEED, show_default=True)
@click.option("--effect", type=float, default=0.0, show_default=True, metavar="PP",
              help="Plant PP percentage points on the unemployed share of trial "
                   "municipalities from 2021-03 (a known answer for `trialmon effect`).")
@click.option("--out", type=click.Path(dir_okay=False),
              help="Write the extract to this Parquet file instead of loading it.")
@common_options
def demo(url, quiet, scale, start, end, seed, effect, out):
    """Generate synthetic register extracts and load them (marked synthetic)."""
    # start-up: the compute chain loads scipy (~0.7 s); --help, status, areas skip it
    from etl.demo import build_demo, write_parquet

    scale = scale if scale is not None else get_settings().demo_scale
    if out:
        rows = write_parquet(out, scale=scale, start=start, end=end, seed=seed, effect=effect)
        click.echo(f"wrote {rows} rows ({start}..{end}, scale {scale:g}) to {out}", err=True)
        return
    ensure_schema(url)
    if not -50 <= effect <= 50:
        raise click.BadParameter(f"must be between -50 and 50, not {effect}", param_hint="--effect")
    months = build_demo(url, scale=scale, start=start, end=end, seed=seed, progress=not quiet,
                        effect=effect)
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
              type=click.Choice(LANGUAGES), help="Languages of --reports "
              "(repeatable; default fi).")
@common_options
def load_register(url, quiet, files, synthetic, allow_columns, reports_dir, report_langs):
    """Load monthly register extracts (CSV or Parquet): all files or nothing."""
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
    from dashboard.report import default_name, write_area_reports, write_report  # start-up

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
    ensure_schema(url)
    report = load_statfin_files(url, [Path(f) for f in files])
    click.echo(report.summary())
    computed = compute_public_statistics(url, report.months)
    if report.months:
        build_bulk(url)
    if not quiet:
        click.echo(computed.summary())
    if report.months:  # the public-statistics effect reads these months
        _publish_effects(url, quiet)


@load.command("areas")
@click.argument("file", type=click.Path(dir_okay=False))
@common_options
def load_areas(url, quiet, file):
    """Load an area system (CSV, docs/area-systems.md) and recompute the affected months."""
    ensure_schema(url)
    report = load_area_system(url, Path(file))
    click.echo(report.summary())
    _compute(url, report.affected_months, quiet)
    if report.affected_statfin_months:
        computed = compute_public_statistics(url, report.affected_statfin_months)
        if not quiet:
            click.echo(computed.summary())


def _compute(url: str, months, quiet: bool) -> None:
    """Compute the changed months and any loaded month not yet (successfully) computed:
    a load whose computation failed is picked up by the next run, even when that run
    finds every file unchanged."""
    report = compute_indicators(url, months=sorted(months or ()), progress=not quiet)
    if not quiet and report.months:
        click.echo(report.summary())


@main.command("compute")
@common_options
def compute_all(url, quiet):
    """Recompute every indicator cell from the loaded data (and the bulk download)."""
    ensure_schema(url)
    report = compute_indicators(url, months=None, progress=not quiet)
    click.echo(report.summary())


@main.command()
@click.option("--format", "fmt", type=click.Choice(["csv", "json"]), default="csv",
              show_default=True)
@click.option("--by-municipality", is_flag=True,
              help="One row per municipality period with its region and trial area instead.")
@common_options
def areas(url, quiet, fmt, by_municipality):
    """Print the area systems: every membership with its validity, source and confidence."""
    ensure_schema(url)
    table = area_reference_table(url) if by_municipality else membership_table(url)
    click.echo(table.write_csv() if fmt == "csv" else table.write_json(), nl=False)


@main.command()
@common_options
def status(url, quiet):
    """Loaded months, their vintages and revisions, row counts."""
    ensure_schema(url)
    click.echo(load_history(url).summary())


@main.command()
@click.option("--format", "fmt", type=click.Choice(["csv", "csv-excel", "parquet", "xlsx"]), default="csv",
              show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), help="Output file (default: stdout for CSV).")
@click.option("--indicator", "indicators", multiple=True)
@click.option("--area-type", "area_types", multiple=True)
@click.option("--area", "areas", multiple=True)
@click.option("--population", "populations", multiple=True)
@click.option("--group", "groups", multiple=True)
@click.option("--from", "start", metavar="YYYY-MM")
@click.option("--to", "end", metavar="YYYY-MM")
@click.option("--lang", type=click.Choice(LANGUAGES), default="en", show_default=True)
@click.option("--unprotected", is_flag=True,
              help="Without disclosure control: only for staff who hold the extract.")
@click.option("--as-of", "as_of", metavar="YYYY-MM-DDTHH:MM",
              help="The table as it was published at this time (UTC).")
@click.option("--vintage", type=int, metavar="ID",
              help="The table as publication (vintage) ID left it.")
@common_options
def export(url, quiet, fmt, out, indicators, area_types, areas, populations, groups, start, end,
           lang, unprotected, as_of, vintage):
    """Write the tidy indicator table (with its metadata JSON and, for CSV and Parquet, a
    Frictionless datapackage.json)."""
    # start-up: the compute chain loads scipy (~0.7 s); --help, status, areas skip it
    from indicators.export import ExportQuery, export_table

    ensure_schema(url)
    query = ExportQuery(indicators=indicators, area_types=area_types, areas=areas,
                        populations=populations, groups=groups, start=start, end=end,
                        lang=lang, unprotected=unprotected, as_of=as_of, vintage=vintage)
    written = export_table(url, query, fmt=fmt, out=Path(out) if out else None)
    if written:
        click.echo(f"wrote {', '.join(str(p) for p in written)}", err=True)


@main.command()
@click.option("--indicator", metavar="ID",
              help="unemployed_share, long_term_share, activation_rate, exit_open_market_rate, "
                   "exit_services_rate or stat_unemployment_rate.")
@click.option("--population", default="all", show_default=True)
@click.option("--group", default="all", show_default=True)
@click.option("--areas", default="TRIALS", show_default=True, metavar="TRIALS|TA01,TA02",
              help="The trial area(s) treated; the controls are municipalities in no trial area.")
@click.option("--from", "start", metavar="YYYY-MM", help="Default: the first loaded month.")
@click.option("--to", "end", default="2024-12", show_default=True, metavar="YYYY-MM")
@click.option("--format", "fmt", type=click.Choice(["json", "table"]), default="json",
              show_default=True)
@click.option("--publish", is_flag=True,
              help="Also store the estimate in the published table the dashboard reads.")
@click.option("--grid", is_flag=True,
              help="Instead of one estimate: estimate and publish every combination the "
                   "Effect page offers beyond the defaults (each trial area alone, each group; "
                   "with --areas TA01,...: only those areas); run after a computation "
                   "(docs/effects.md).")
@common_options
def effect(url, quiet, indicator, population, group, areas, start, end, fmt, publish, grid):
    """Difference-in-differences: trial against comparison municipalities (docs/effects.md)."""
    # start-up: pyfixest and numba load in ~2 s; only the effect commands need them
    from indicators.effects import (
        EffectSpec,
        effect_from_db,
        format_table,
        publish_grid_effects,
        publish_results,
    )

    ensure_schema(url)
    if grid:
        codes = tuple(sorted({a.strip() for a in areas.split(",") if a.strip()})) or ("",)
        written = publish_grid_effects(url, progress=not quiet, areas=codes)
        click.echo(f"effects: {written} further specification(s) estimated and published")
        return
    if not indicator:
        raise click.UsageError("effect: --indicator is required (or --grid)")
    codes = tuple(sorted({a.strip() for a in areas.split(",") if a.strip()})) or ("",)
    spec = EffectSpec(indicator, population, group, codes, start, end)
    result = effect_from_db(url, spec)
    if publish:
        publish_results(url, [(spec, result)])
    click.echo(json.dumps(result.to_json(), indent=2) if fmt == "json" else format_table(result))


def _publish_effects(url: str, quiet: bool) -> None:
    written = publish_effects(url)
    if not quiet:
        click.echo(f"effects: {written} default specification(s) estimated and published")


@main.command()
@click.option("--month", required=True, metavar="YYYY-MM")
@click.option("--area", "areas", multiple=True, metavar="CODE",
              help="Trial area code (TA01 ...) or TRIALS; repeatable.")
@click.option("--all-areas", is_flag=True, help="A national summary page, then every trial area.")
@click.option("--lang", type=click.Choice(LANGUAGES), default="fi", show_default=True)
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
    # start-up: the report module loads only for `report`
    from dashboard.report import default_name, write_area_reports, write_report  # start-up

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
@click.option("--base-url", default=DEFAULT_BASE_URL, show_default=True,
              envvar="TRIALMON_PXWEB_URL")
@click.option("--lang", type=click.Choice(LANGUAGES), default="fi", show_default=True)
@click.option("--max-cells", type=int, default=MAX_CELLS, show_default=True,
              help="Cells per query (the API's limit).")
@click.option("--max-calls", type=int, default=MAX_CALLS, show_default=True,
              help="Requests per --window seconds (the API's rate limit).")
@click.option("--window", "window_seconds", type=float, default=WINDOW_SECONDS,
              show_default=True)
@click.option("--quiet", "-q", is_flag=True)
def fetch_statfin(table, start, end, out, base_url, lang, max_cells, max_calls, window_seconds,
                  quiet):
    """Download table tyonv/TABLE from Statistics Finland's PxWeb API."""
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
    # start-up: gunicorn and the server module load only for `serve`
    from shell.server import ServeOptions  # start-up: as above
    from shell.server import serve as run_server  # start-up: as above

    options = ServeOptions.from_settings(host=host, port=port, workers=workers,
                                         threads=threads, log_format=log_format,
                                         log_level=log_level, demo=demo, dev=dev, quiet=quiet)
    run_server(url, options)


if __name__ == "__main__":
    main()
