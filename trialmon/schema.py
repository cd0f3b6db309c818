"""The database schema (SQLAlchemy Core), shared by every module.

Two namespaces keep person-level data away from what is published:

* ``microdata``: the register extract rows, their load history and the
  unprotected municipal counts. On PostgreSQL a schema of that name (a dashboard
  role is simply not granted it); on SQLite a separate file attached under that
  name (``<db>-microdata.sqlite``), so the dashboard process never opens it.
* the default schema (``public`` on PostgreSQL, the main SQLite file): reference
  areas and the protected, published indicator tables that the dashboard reads.

Schema changes go through Alembic (``trialmon/migrations``); this module is the
model the migrations are written from.

Where SQLite would store bulk columns wastefully, a column has a SQLite variant of its
type that SQLAlchemy statements do not see (they bind and read the same Python values on
both backends): `DayNumber` for dates, `Coded` for category text. `trialmon.db.Database`
reads the same variants for its Arrow writes and reads, so the table is the one place
that says how a column is stored.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from trialmon.domain import RESPONSIBILITIES, SERVICE_TYPES, SEXES, STATUS_CODES

MICRODATA = "microdata"

metadata = sa.MetaData()

_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()


class DayNumber(sa.types.TypeDecorator):
    """A date stored as an INTEGER: its days since 1970-01-01 (negative before).

    Why: SQLite has no date type; the ADBC driver wrote dates as 10-byte ISO text. A
    day number takes 2 bytes (3 before 1880 or after 2059) and is what Arrow's and
    Polars' date type holds, so bulk writes and reads cast instead of formatting and
    parsing text (``Database`` does it for Arrow; this type does it for SQLAlchemy
    statements, which still see `datetime.date`). Used on SQLite only: PostgreSQL has
    a 4-byte DATE.
    """

    impl = sa.Integer
    cache_ok = True

    @property
    def python_type(self) -> type:
        return dt.date

    def process_bind_param(self, value, dialect):
        return None if value is None else value.toordinal() - _EPOCH_ORDINAL

    def process_result_value(self, value, dialect):
        return None if value is None else dt.date.fromordinal(value + _EPOCH_ORDINAL)


def day_number_date() -> sa.types.TypeEngine:
    """A DATE on PostgreSQL, a `DayNumber` on SQLite."""
    return sa.Date().with_variant(DayNumber(), "sqlite")


class Coded(sa.types.TypeDecorator):
    """A category stored as a SMALLINT: its position in `values` (0, 1, 2 ...).

    Why: SQLite stores text as it comes: the register's category columns took about 20
    bytes a row. It stores the integers 0 and 1 in no payload byte at all and 2..127 in
    one, so a code costs 0-1 bytes instead of 1-16 bytes of text (the default demo's
    register_row: see migration 0012). SQLAlchemy statements still bind and read the
    text; `trialmon.db.Database` converts Arrow writes and reads from the same `values`.
    Because a stored code is a position, `values` may only be appended to, never
    reordered or shortened (trialmon.domain). Used on SQLite only: PostgreSQL keeps text.
    """

    impl = sa.SmallInteger
    cache_ok = True

    def __init__(self, values: tuple[str, ...]):
        super().__init__()
        self.values = tuple(values)

    @property
    def python_type(self) -> type:
        return str

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value not in self.values:  # never stored as null or as a wrong code
            raise ValueError(f"{value!r} is not one of {self.values}")
        return self.values.index(value)

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if not 0 <= value < len(self.values):
            raise ValueError(f"stored code {value} is not a position in {self.values}")
        return self.values[value]


def coded_text(length: int, values: tuple[str, ...]) -> sa.types.TypeEngine:
    """A VARCHAR(`length`) on PostgreSQL, a `Coded(values)` on SQLite."""
    return sa.String(length).with_variant(Coded(values), "sqlite")


# --------------------------------------------------------------------------- microdata

register_row = sa.Table(
    "register_row",
    metadata,
    sa.Column("month", sa.String(7), nullable=False),
    sa.Column("person_id", sa.String(64), nullable=False),
    sa.Column("municipality_code", sa.String(3), nullable=False),
    sa.Column("age", sa.SmallInteger, nullable=False),
    sa.Column("sex", coded_text(1, SEXES), nullable=False),
    sa.Column("foreign_language", sa.Boolean, nullable=False),
    sa.Column("earnings_related", sa.Boolean, nullable=False),
    sa.Column("status", coded_text(16, STATUS_CODES), nullable=False),
    sa.Column("service_type", coded_text(24, SERVICE_TYPES)),
    sa.Column("responsibility", coded_text(10, RESPONSIBILITIES), nullable=False),
    sa.Column("registered_on", day_number_date(), nullable=False),
    sa.Column("unemployment_start", day_number_date()),
    sa.Column("initial_interview_on", day_number_date()),
    sa.Column("plan_updated_on", day_number_date()),
    sa.Column("last_review_on", day_number_date()),
    sa.Column("vintage_id", sa.Integer, nullable=False),
    sa.PrimaryKeyConstraint("month", "person_id"),
    schema=MICRODATA,
    # clustered on the key, dates as day numbers (migration 0010), categories as codes (0012)
    sqlite_with_rowid=False,
)
"""One jobseeker on one month's calculation date (the input contract), current vintage only.
Rows are written and read a month at a time: the key's prefix (month) selects them on
both backends, so there is no separate month index. The loader checks (month,
person_id) for duplicates before writing, so the key never rejects a load's row; it
writes a month's rows in key order (a WITHOUT ROWID table is a b-tree on the key)."""

vintage = sa.Table(
    "vintage",
    metadata,
    sa.Column("vintage_id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("month", sa.String(7), nullable=False, index=True),
    sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("source_file", sa.Text, nullable=False),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("row_count", sa.Integer, nullable=False),
    sa.Column("revision", sa.Integer, nullable=False),  # 0 = first delivery of the month
    sa.Column("rows_added", sa.Integer, nullable=False, server_default="0"),
    sa.Column("rows_removed", sa.Integer, nullable=False, server_default="0"),
    sa.Column("rows_changed", sa.Integer, nullable=False, server_default="0"),
    sa.Column("synthetic", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("is_current", sa.Boolean, nullable=False, server_default=sa.true()),
    schema=MICRODATA,
)
"""Every delivery of every month. A month's current vintage has is_current = true."""

municipal_measure = sa.Table(
    "municipal_measure",
    metadata,
    sa.Column("month", sa.String(7), nullable=False),
    sa.Column("municipality_code", sa.String(3), nullable=False),
    sa.Column("population", sa.String(16), nullable=False),
    sa.Column("group", sa.String(24), nullable=False),
    sa.Column("measure", sa.String(32), nullable=False),
    sa.Column("value", sa.Integer),  # null: not computable (e.g. month t-1 not loaded)
    sa.PrimaryKeyConstraint("month", "municipality_code", "population", "group", "measure"),
    schema=MICRODATA,
    sqlite_with_rowid=False,  # clustered on the key: stored once (migration 0006)
)
"""Unprotected additive counts per municipality: the building blocks of every
register indicator. Larger areas are sums of these; ratios are built from sums."""

measure_vintage = sa.Table(
    "measure_vintage",
    metadata,
    sa.Column("month", sa.String(7), nullable=False),
    sa.Column("measure", sa.String(32), nullable=False),
    sa.Column("vintage", sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint("month", "measure"),
    schema=MICRODATA,
)
"""The data vintage of the stored municipal counts of each (month, measure): the newest
load among the months the measure reads. Written with the counts; one row per month and
measure instead of a copy on each of its municipal rows (migration 0011)."""

# --------------------------------------------------------------------------- published

area = sa.Table(
    "area",
    metadata,
    sa.Column("area_type", sa.String(16), nullable=False),
    sa.Column("area_code", sa.String(16), nullable=False),
    sa.Column("name_fi", sa.Text, nullable=False),
    sa.Column("name_sv", sa.Text, nullable=False),
    sa.Column("name_en", sa.Text, nullable=False),
    sa.Column("valid_from", sa.Date, nullable=False),
    sa.Column("valid_to", sa.Date),  # inclusive; null = still valid
    sa.Column("trial_from", sa.String(7)),  # trial areas: first month of the trial
    sa.Column("trial_to", sa.String(7)),  # trial areas: last month of the trial
    sa.Column("source", sa.Text),
    sa.Column("confidence", sa.String(16)),  # 'confirmed', 'inferred' or 'derived'
    sa.Column("completeness", sa.String(16)),  # 'complete' or 'partial' (members known)
    sa.Column("note", sa.Text),  # why a membership is only inferred, or what is missing
    sa.PrimaryKeyConstraint("area_type", "area_code", "valid_from"),
)
"""Every area of every area type (municipality, region, trial_area, all_trials,
comparison, country, employment_area and any loaded area system), versioned by validity."""

area_member = sa.Table(
    "area_member",
    metadata,
    sa.Column("area_type", sa.String(16), nullable=False),
    sa.Column("area_code", sa.String(16), nullable=False),
    sa.Column("municipality_code", sa.String(3), nullable=False),
    sa.Column("valid_from", sa.Date, nullable=False),
    sa.Column("valid_to", sa.Date),  # inclusive; null = still valid
    sa.Column("source", sa.Text),
    sa.Column("confidence", sa.String(16)),  # as the area's, unless the source says otherwise
    sa.PrimaryKeyConstraint("area_type", "area_code", "municipality_code", "valid_from"),
)
"""Which municipalities make up an area, and when. Municipality areas list themselves."""

area_system = sa.Table(
    "area_system",
    metadata,
    sa.Column("area_type", sa.String(16), primary_key=True),
    sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("source_file", sa.Text, nullable=False),
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("areas", sa.Integer, nullable=False),
    sa.Column("memberships", sa.Integer, nullable=False),
)
"""Area systems loaded by `trialmon load areas` (one row per area_type, its latest load).
The start-up sync of the shipped reference leaves these area types alone; their
indicator cells carry ``loaded_at`` as vintage when it is newer than the data's."""

def _published_cell_columns() -> list[sa.Column]:
    """The key and figures of a published cell: one definition for the current cells and
    their history (a Column belongs to one table, so each table gets fresh ones)."""
    return [
        sa.Column("indicator", sa.String(40), nullable=False),
        sa.Column("population", sa.String(16), nullable=False),
        sa.Column("group", sa.String(24), nullable=False),
        sa.Column("area_type", sa.String(16), nullable=False),
        sa.Column("area_code", sa.String(16), nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("value", sa.Float),
        sa.Column("numerator", sa.Float),
        sa.Column("denominator", sa.Float),
    ]


CELL_KEY = ("month", "indicator", "population", "group", "area_type", "area_code")
"""The primary key of a published cell, month first (migration 0009): a month's cells are
one contiguous range of the key, so publishing a new month appends to the table instead
of touching nearly every page, and selections by month need no index of their own. The
API's keyset pages come in this order."""

indicator_value = sa.Table(
    "indicator_value",
    metadata,
    *_published_cell_columns(),
    sa.Column("flag", sa.String(12)),  # null, 'suppressed' or 'incomplete'
    sa.Column("vintage", sa.DateTime(timezone=True), nullable=False),
    # the publication that published this value (null: before history was kept = 0)
    sa.Column("published_in", sa.Integer),
    sa.PrimaryKeyConstraint(*CELL_KEY),
    # time series and selections by area without population/group (the dashboard, the
    # API, the downloads page): one seek per (area, indicator), the months in order
    sa.Index("ix_indicator_value_area", "area_code", "indicator", "month"),
    sqlite_with_rowid=False,  # clustered on the key: stored once (migration 0009)
)
"""The protected, published indicator cells (the export format, less area names).
Suppressed cells have value, numerator and denominator null and flag 'suppressed'."""

publication = sa.Table(
    "publication",
    metadata,
    sa.Column("publication_id", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("source", sa.String(16), nullable=False),  # 'register' or 'statfin'
    # comma list of: new_month, corrected_delivery, membership_change,
    # disclosure_threshold, recompute
    sa.Column("reason", sa.String(120), nullable=False),
    sa.Column("cells_added", sa.Integer, nullable=False),
    sa.Column("cells_changed", sa.Integer, nullable=False),
    sa.Column("cells_removed", sa.Integer, nullable=False),
    sa.Column("threshold", sa.Integer),
    sa.Column("membership_hash", sa.String(64)),
)
"""Every computation that changed published cells: the vintage id of the API
(``vintage=ID``) is its ``publication_id``."""

publication_month = sa.Table(
    "publication_month",
    metadata,
    sa.Column("publication_id", sa.Integer, nullable=False),
    sa.Column("month", sa.String(7), nullable=False),
    sa.Column("cells_added", sa.Integer, nullable=False),
    sa.Column("cells_changed", sa.Integer, nullable=False),
    sa.Column("cells_removed", sa.Integer, nullable=False),
    sa.PrimaryKeyConstraint("publication_id", "month"),
)
"""Per publication and month: how many published cells were added, changed, removed."""

indicator_value_history = sa.Table(
    "indicator_value_history",
    metadata,
    *_published_cell_columns(),
    sa.Column("flag", sa.String(12)),
    sa.Column("vintage", sa.DateTime(timezone=True), nullable=False),
    sa.Column("published_in", sa.Integer, nullable=False),  # 0: before history was kept
    sa.Column("replaced_in", sa.Integer, nullable=False),
    sa.PrimaryKeyConstraint("indicator", "population", "group", "area_type", "area_code",
                            "month", "replaced_in"),
    sa.Index("ix_indicator_value_history_replaced_in", "replaced_in", "month"),
)
"""Published cells as they stood before a publication replaced (changed or removed)
them: valid from publication ``published_in`` until ``replaced_in`` (exclusive).
Only changed cells are kept; the current cells are in ``indicator_value``."""

month_status = sa.Table(
    "month_status",
    metadata,
    sa.Column("month", sa.String(7), primary_key=True),
    sa.Column("source", sa.String(16), primary_key=True),  # 'register' or 'statfin'
    sa.Column("vintage", sa.DateTime(timezone=True), nullable=False),
    sa.Column("revision", sa.Integer, nullable=False),
    sa.Column("row_count", sa.Integer, nullable=False),
    sa.Column("rows_changed", sa.Integer, nullable=False),
    sa.Column("synthetic", sa.Boolean, nullable=False),
    sa.Column("computed_at", sa.DateTime(timezone=True)),
    # the computation that published the month's register cells (null: statfin rows,
    # and months computed before provenance was recorded)
    sa.Column("computation_id", sa.String(32)),
)
"""What is published for each month: the data status page reads this."""

computation = sa.Table(
    "computation",
    metadata,
    sa.Column("computation_id", sa.String(32), primary_key=True),
    sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("threshold", sa.Integer, nullable=False),
    sa.Column("method", sa.String(64), nullable=False),
    sa.Column("method_version", sa.String(32), nullable=False),
)
"""Provenance of the disclosure rule: one row per computation run that published
cells, with the threshold and the protection method it applied. Everything that states
the rule (footer, Definitions, export and API metadata) reads it from here, never from
the serving process's environment."""

statfin_value = sa.Table(
    "statfin_value",
    metadata,
    sa.Column("month", sa.String(7), nullable=False),
    sa.Column("area_code", sa.String(16), nullable=False),  # as published: SSS, MK01, KU091 ...
    sa.Column("measure", sa.String(32), nullable=False),  # source code, e.g. TYOTTOMATLOPUSSA
    sa.Column("value", sa.Float),  # null: missing or suppressed at source
    sa.Column("loaded_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("source", sa.Text),
    sa.PrimaryKeyConstraint("month", "area_code", "measure"),
)
"""Statistics Finland table tyonv/12r5 as loaded (public statistics, all residents)."""

effect_estimate = sa.Table(
    "effect_estimate",
    metadata,
    sa.Column("indicator", sa.String(40), nullable=False),
    sa.Column("population", sa.String(16), nullable=False),
    sa.Column("group", sa.String(24), nullable=False),
    sa.Column("areas", sa.String(200), nullable=False),  # 'TRIALS' or one trial area code
    sa.Column("window", sa.String(16), nullable=False),  # 'full' or 'pre_nordic'
    sa.Column("period_from", sa.String(7)),
    sa.Column("period_to", sa.String(7), nullable=False),
    sa.Column("estimate", sa.Float),
    sa.Column("std_error", sa.Float),
    sa.Column("ci_low", sa.Float),
    sa.Column("ci_high", sa.Float),
    sa.Column("method", sa.Text, nullable=False),
    sa.Column("n_treated", sa.Integer, nullable=False),
    sa.Column("n_control", sa.Integer, nullable=False),
    sa.Column("pre_trend_p_value", sa.Float),
    sa.Column("event_study", sa.Text, nullable=False),  # JSON list of event-month estimates
    sa.Column("status", sa.String(12), nullable=False),  # 'ok' or 'refused'
    sa.Column("reason", sa.Text),
    sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint("indicator", "population", "group", "areas", "window"),
)
"""Difference-in-differences estimates of the default specifications (indicators.effects),
computed in the compute process from the unprotected municipal counts; only coefficients,
intervals and municipality counts are stored, so the dashboard may read them."""
