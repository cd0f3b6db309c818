"""Read access to the published tables, in small slices, cached per data vintage.

The dashboard never opens microdata: every query here reads ``indicator_value``,
``area``, ``area_member`` or ``month_status``. Each query seeks what it draws through an
index of ``indicator_value``: a time series through ``ix_indicator_value_area`` (area
code, indicator, months), a cross-section of one month through the primary key (month,
indicator, population, group, area_type, ...), so a callback reads only the cells it draws.

Results are cached in memory. The cache key includes a *data version* (the newest
``month_status`` vintage and computation time and the number of published months),
so a new load or recomputation is picked up by the next callback without a restart.

One database object: ``Data(db)`` takes the process's ``trialmon.db.Database`` (or a URL,
looked up with ``as_database``) and reads only through its serving engine
(``db.connect_published`` / ``db.read_published``). The dashboard app builds one ``Data``
per process and hands the same instance to its pages, the API, the effect endpoint and
the reports (dashboard/app.py), so a process holds one cache.

Figures as published: ``series`` and ``cross_section`` take ``as_of`` (a publication id,
None = now) and then read the cells as that publication left them
(indicators/history.py); ``publications``, ``publication_months``, ``revisions`` and
``revised_cells`` read the record of publications and revisions.
"""

from __future__ import annotations

import functools
import threading
import time

import polars as pl
import sqlalchemy as sa

from indicators import history
from indicators.provenance import published_rule, warn_if_environment_differs
from trialmon.db import Database, as_database
from trialmon.domain import demo_unfinished
from trialmon.months import utc_expr
from trialmon.schema import (
    area,
    area_member,
    area_system,
    effect_estimate,
    indicator_value,
    month_status,
    publication,
)

#: Known area systems first, in this order; any other (loaded) system after them.
AREA_TYPE_ORDER = {t: i for i, t in enumerate(
    ("all_trials", "trial_area", "comparison", "country", "employment_area", "region",
     "municipality"))}
MEMBERSHIP_SCHEMA = {"area_type": pl.String, "area_code": pl.String,
                     "municipality_code": pl.String, "valid_from": pl.Date, "valid_to": pl.Date,
                     "source": pl.String, "confidence": pl.String}
VALUE_SCHEMA = {"indicator": pl.String, "area_type": pl.String, "area_code": pl.String,
                "month": pl.String, "value": pl.Float64, "numerator": pl.Float64,
                "denominator": pl.Float64, "flag": pl.String}
VERSION_TTL_SECONDS = 2.0


class Data:
    """The dashboard's view of one database."""

    def __init__(self, db: Database | str):
        self.db = as_database(db)
        self._version: tuple = ()
        self._version_checked = 0.0
        self._lock = threading.Lock()
        self._cached = functools.lru_cache(maxsize=2048)(self._compute)
        self._built = functools.lru_cache(maxsize=512)(self._build)

    # ----------------------------------------------------------------- versioning
    def version(self) -> tuple:
        """A token that changes whenever published data change (rechecked every 2 s)."""
        now = time.monotonic()
        if now - self._version_checked > VERSION_TTL_SECONDS:
            stmt = sa.select(sa.func.count(), sa.func.max(month_status.c.vintage),
                             sa.func.max(month_status.c.computed_at))
            systems = sa.select(sa.func.count(), sa.func.max(area_system.c.loaded_at))
            effects = sa.select(sa.func.count(), sa.func.max(effect_estimate.c.computed_at))
            with self.db.connect_published() as conn:
                row = (*conn.execute(stmt).one(), *conn.execute(systems).one(), conn.execute(
                    sa.select(sa.func.max(publication.c.publication_id))).scalar(),
                    *conn.execute(effects).one())
            with self._lock:
                self._version = tuple(str(v) for v in row)
                self._version_checked = now
        return self._version

    def forget_version(self) -> None:
        """Make the next `version()` ask the database (the readiness probe)."""
        self._version_checked = 0.0

    def _get(self, name: str, *args):
        return self._cached(self.version(), name, args)

    def memo(self, build, *args):
        """`build(*args, self)`, remembered for the current data version: a page's layout
        or a callback's outputs for one view (a frozen View) are built once, then served
        from memory to everyone who asks for the same view (every first visit does)."""
        return self._built(self.version(), build, args)

    def _build(self, _version, build, args: tuple):
        return build(*args, self)

    def _compute(self, _version, name: str, args: tuple):
        return getattr(self, f"_q_{name}")(*args)

    # ----------------------------------------------------------------- public reads
    def areas(self) -> pl.DataFrame:
        """Every area's current version: area_type, area_code, name_fi/sv/en, trial_from/to."""
        return self._get("areas")

    def area_names(self, lang: str) -> dict[str, str]:
        column = f"name_{lang}"
        frame = self.areas()
        return dict(zip(frame["area_code"], frame[column], strict=True))

    def area_type_of(self) -> dict[str, str]:
        frame = self.areas()
        return dict(zip(frame["area_code"], frame["area_type"], strict=True))

    def area_systems(self) -> pl.DataFrame:
        """Loaded area systems: area_type, loaded_at, source_file, areas, memberships."""
        return self._get("area_systems")

    def memberships(self) -> pl.DataFrame:
        """Every membership of every area larger than a municipality (MEMBERSHIP_SCHEMA)."""
        return self._get("memberships")

    def members(self, area_type: str) -> pl.DataFrame:
        """Current membership: area_code, municipality_code."""
        return self._get("members", area_type)

    def months(self) -> list[str]:
        """Published months (any source), ascending."""
        return self._get("months")

    def latest_month(self, indicator: str | None = None) -> str | None:
        """The newest month with a published cell (of `indicator` when given)."""
        if indicator:
            return self._get("latest_month", indicator)
        months = self.months()
        return months[-1] if months else None

    def status(self) -> pl.DataFrame:
        """month_status as a frame, newest month first."""
        return self._get("status")

    def disclosure_rule(self):
        """The disclosure rule stored with the computation of the published cells
        (indicators.provenance); warns once if this process's setting differs."""
        rule = self._get("disclosure_rule")
        warn_if_environment_differs(rule)
        return rule

    def suppression_threshold(self) -> int | None:
        rule = self.disclosure_rule()
        return rule.threshold if rule else None

    def is_synthetic(self) -> bool:
        status = self.status()
        return bool(status.height and status["synthetic"].any())

    def demo_unfinished(self) -> bool:
        """The demo's first view is published and its other months are still being
        computed (a first start; `domain.demo_unfinished`)."""
        register = self.status().filter(pl.col("source") == "register")
        if not register.height:
            return False
        return demo_unfinished(register["month"].min(), register["month"].max(),
                               bool(register["synthetic"].all()))

    def series(self, indicators: tuple[str, ...], population: str, group: str,
               codes: tuple[str, ...], start: str | None = None,
               end: str | None = None, as_of: int | None = None) -> pl.DataFrame:
        """Cells of several indicators for several areas over a period (VALUE_SCHEMA),
        as published now or, with `as_of`, as publication `as_of` left them."""
        return self._get("series", tuple(indicators), population, group, tuple(codes),
                         start, end, as_of)

    def cross_section(self, indicator: str, population: str, group: str, area_type: str,
                      month: str, as_of: int | None = None) -> pl.DataFrame:
        """One indicator in one month for every area of a type (VALUE_SCHEMA)."""
        return self._get("cross_section", indicator, population, group, area_type, month,
                         as_of)

    def publications(self) -> pl.DataFrame:
        """Every publication (history.PUBLICATION_SCHEMA), newest first."""
        return self._get("publications")

    def vintage_ids(self) -> tuple[str, ...]:
        """The publication ids as the address writes them ('3')."""
        return tuple(str(v) for v in self.publications()["publication_id"])

    def publication_months(self) -> pl.DataFrame:
        return self._get("publication_months")

    def revisions(self, indicators: tuple[str, ...], codes: tuple[str, ...],
                  population: str, group: str) -> pl.DataFrame:
        """Old -> new of every revised cell of the indicators and areas (history.revisions)."""
        return self._get("revisions", tuple(indicators), tuple(codes), population, group)

    def revised_cells(self, indicators: tuple[str, ...], population: str, group: str,
                      codes: tuple[str, ...], as_of: int | None = None) -> pl.DataFrame:
        """[indicator, area_code, month] shown at `as_of` whose value was revised."""
        return self._get("revised_cells", tuple(indicators), population, group,
                         tuple(codes), as_of)

    # ----------------------------------------------------------------- queries
    def _read(self, stmt, schema: dict) -> pl.DataFrame:
        return self.db.read_published(stmt, schema)

    def _q_areas(self) -> pl.DataFrame:
        stmt = sa.select(area.c.area_type, area.c.area_code, area.c.name_fi, area.c.name_sv,
                         area.c.name_en, area.c.valid_from, area.c.trial_from, area.c.trial_to,
                         area.c.source, area.c.confidence, area.c.completeness, area.c.note)
        schema = {"area_type": pl.String, "area_code": pl.String, "name_fi": pl.String,
                  "name_sv": pl.String, "name_en": pl.String, "valid_from": pl.Date,
                  "trial_from": pl.String, "trial_to": pl.String, "source": pl.String,
                  "confidence": pl.String, "completeness": pl.String, "note": pl.String}
        frame = self._read(stmt, schema)
        order = pl.col("area_type").replace_strict(AREA_TYPE_ORDER, default=len(AREA_TYPE_ORDER),
                                                   return_dtype=pl.Int32)
        return (frame.sort("valid_from").unique(["area_type", "area_code"], keep="last")
                .with_columns(order.alias("_o"))
                .sort("_o", "area_type", "area_code").drop("_o", "valid_from"))

    def _q_area_systems(self) -> pl.DataFrame:
        c = area_system.c
        return self._read(sa.select(c.area_type, c.loaded_at, c.source_file, c.areas,
                                    c.memberships).order_by(c.area_type),
                          {"area_type": pl.String, "loaded_at": pl.Object,
                           "source_file": pl.String, "areas": pl.Int64, "memberships": pl.Int64})

    def _q_memberships(self) -> pl.DataFrame:
        c = area_member.c
        stmt = (sa.select(c.area_type, c.area_code, c.municipality_code, c.valid_from, c.valid_to,
                          c.source, c.confidence).where(c.area_type != "municipality"))
        return self._read(stmt, MEMBERSHIP_SCHEMA).sort("area_type", "area_code",
                                                        "municipality_code", "valid_from")

    def _q_disclosure_rule(self):
        return published_rule(self.db)

    def _q_members(self, area_type: str) -> pl.DataFrame:
        stmt = (sa.select(area_member.c.area_code, area_member.c.municipality_code,
                          area_member.c.valid_from)
                .where(area_member.c.area_type == area_type))
        frame = self._read(stmt, {"area_code": pl.String, "municipality_code": pl.String,
                                  "valid_from": pl.Date})
        return (frame.sort("valid_from").unique("municipality_code", keep="last")
                .drop("valid_from").sort("municipality_code"))

    def _q_months(self) -> list[str]:
        stmt = sa.select(month_status.c.month).distinct().order_by(month_status.c.month)
        with self.db.connect_published() as conn:
            return [r[0] for r in conn.execute(stmt)]

    def _q_latest_month(self, indicator: str) -> str | None:
        stmt = sa.select(sa.func.max(indicator_value.c.month)).where(
            indicator_value.c.indicator == indicator)
        with self.db.connect_published() as conn:
            return conn.execute(stmt).scalar()

    def _q_status(self) -> pl.DataFrame:
        c = month_status.c
        stmt = sa.select(c.month, c.source, c.vintage, c.revision, c.row_count, c.rows_changed,
                         c.synthetic, c.computed_at).order_by(c.month.desc(), c.source)
        names = ["month", "source", "vintage", "revision", "row_count", "rows_changed",
                 "synthetic", "computed_at"]
        with self.db.connect_published() as conn:
            rows = [tuple(r) for r in conn.execute(stmt).all()]
        frame = pl.DataFrame(rows, schema=names, orient="row", infer_schema_length=None)
        return frame.with_columns(utc_expr("vintage", frame.schema["vintage"]),
                                  utc_expr("computed_at", frame.schema["computed_at"]),
                                  pl.col("synthetic").cast(pl.Boolean))

    @staticmethod
    def _value_columns(table: sa.Table) -> list:
        c = table.c
        return [c.indicator, c.area_type, c.area_code, c.month, c.value, c.numerator,
                c.denominator, c.flag]

    def _cells(self, where, as_of: int | None, order: bool = False) -> pl.DataFrame:
        """Cells matching `where(columns)`, now or as publication `as_of` left them."""
        if as_of is None:
            stmt = sa.select(*self._value_columns(indicator_value)).where(
                *where(indicator_value.c))
            if order:
                stmt = stmt.order_by(indicator_value.c.month)
            return self._read(stmt, VALUE_SCHEMA)
        stmt = history.as_of_select(self._value_columns, where, as_of)
        frame = self._read(stmt, VALUE_SCHEMA)
        return frame.sort("month") if order else frame

    def _q_series(self, indicators, population, group, codes, start, end,
                  as_of) -> pl.DataFrame:
        types = self.area_type_of()
        keys = [(types[code], code) for code in codes if code in types]
        if not keys or not indicators:
            return pl.DataFrame(schema=VALUE_SCHEMA)

        def where(c) -> list:
            # area_code IN (...) besides the (type, code) pairs: it lets the database seek
            # each (area, indicator) in ix_indicator_value_area and read its month range
            # (without it SQLite walked the month-first key over every area's cells)
            conditions = [
                c.indicator.in_(indicators), c.population == population, c.group == group,
                c.area_code.in_(sorted({code for _, code in keys})),
                sa.tuple_(c.area_type, c.area_code).in_(keys) if len(keys) > 1 else
                c.area_type == keys[0][0]]
            if start:
                conditions.append(c.month >= start)
            if end:
                conditions.append(c.month <= end)
            return conditions

        return self._cells(where, as_of, order=True)

    def _q_cross_section(self, indicator, population, group, area_type, month,
                         as_of) -> pl.DataFrame:
        return self._cells(lambda c: [
            c.indicator == indicator, c.population == population, c.group == group,
            c.area_type == area_type, c.month == month], as_of)

    def _q_publications(self) -> pl.DataFrame:
        with self.db.connect_published() as conn:
            return history.publications(conn)

    def _q_publication_months(self) -> pl.DataFrame:
        with self.db.connect_published() as conn:
            return history.publication_months(conn)

    def _q_revisions(self, indicators, codes, population, group) -> pl.DataFrame:
        with self.db.connect_published() as conn:
            return history.revisions(conn, indicators, codes, (population,), (group,))

    def _q_revised_cells(self, indicators, population, group, codes, as_of) -> pl.DataFrame:
        with self.db.connect_published() as conn:
            return history.revised_cells(conn, indicators, population, group, codes, as_of)

