"""The register rows' category columns as small integer codes on SQLite

Revision ID: 0012
Revises: 0011

Why: after migration 0010 four category columns of ``microdata.register_row`` --
status, service_type, responsibility and sex -- were still stored as text: about 20
bytes a row, ~190 MB of the default demo's 706 MB table (9.37 M rows). On SQLite each is now stored as its position in the
column's values (``trialmon.schema.Coded``, values in ``trialmon.domain``): SQLite keeps
the integers 0 and 1 in the record header alone and 2..127 in one byte. Measured on the
default demo (bench/bench_first_start.py, a shared two-core machine): built anew,
register_row takes 494 MB (was 706 MB) and the microdata file 783 MB (was 995 MB);
migrated from 0010 (a 1,134 MB file), 0011 takes 9 s, this one 16 s (2.4 s of it the
check for values it cannot code), the VACUUM after them 6 s, and the file is 698 MB
(register_row 437 MB: VACUUM packs pages fuller than the loads do). Loading is no
slower: bench/bench_load.py (7.9 M rows) at 0.94-0.97x of its floor, 0.96-1.08x before.
PostgreSQL: nothing changes (its columns stay VARCHAR; this migration does nothing there).

SQLite rebuilds the table (WITHOUT ROWID as 0010 made it, rows copied in key order),
each text turned into its code by a CASE built from the values, nulls staying null.
Because a code is a position, the tuples may only be appended to: a later value added
at the end gets its own code here and in the downgrade, every earlier code stays the
same. A value outside the tuples (only a hand-edited row could hold one: the loader
validates every row against the same values) stops the migration with the row named,
instead of becoming a null. The downgrade turns the codes back into text. The old
table's pages are left free in the file; `trialmon.db.migrate` vacuums it afterwards.
"""

from alembic import op

from trialmon.domain import RESPONSIBILITIES, SERVICE_TYPES, SEXES, STATUS_CODES

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

_TABLE = "microdata.register_row"
#: the coded columns: (VARCHAR length on PostgreSQL and before this migration, values)
_CODED = {"sex": (1, SEXES), "status": (16, STATUS_CODES),
          "service_type": (24, SERVICE_TYPES), "responsibility": (10, RESPONSIBILITIES)}
_COLUMNS = ("month", "person_id", "municipality_code", "age", "sex", "foreign_language",
            "earnings_related", "status", "service_type", "responsibility", "registered_on",
            "unemployment_start", "initial_interview_on", "plan_updated_on",
            "last_review_on", "vintage_id")  # the table's order (trialmon.schema)


def _create(coded: bool) -> None:
    def kind(column: str) -> str:
        return "SMALLINT" if coded else f"VARCHAR({_CODED[column][0]})"

    op.execute(f"""CREATE TABLE {_TABLE}__new (
        month VARCHAR(7) NOT NULL, person_id VARCHAR(64) NOT NULL,
        municipality_code VARCHAR(3) NOT NULL, age SMALLINT NOT NULL,
        sex {kind('sex')} NOT NULL, foreign_language BOOLEAN NOT NULL,
        earnings_related BOOLEAN NOT NULL, status {kind('status')} NOT NULL,
        service_type {kind('service_type')}, responsibility {kind('responsibility')} NOT NULL,
        registered_on INTEGER NOT NULL, unemployment_start INTEGER,
        initial_interview_on INTEGER, plan_updated_on INTEGER, last_review_on INTEGER,
        vintage_id INTEGER NOT NULL, PRIMARY KEY (month, person_id)) WITHOUT ROWID""")


def _stored(value: str | int) -> str:
    return f"'{value}'" if isinstance(value, str) else str(value)


def _refuse_unknown(to_codes: bool) -> None:
    """Stop with the first row whose category value (or code) has no counterpart:
    converted, it would be stored as null."""
    def known(values: tuple[str, ...]) -> str:
        return ", ".join(_stored(v) for v in (values if to_codes else range(len(values))))

    unknown = " OR ".join(f"{c} NOT IN ({known(values)})" for c, (_, values) in _CODED.items())
    found = op.get_bind().exec_driver_sql(
        f"SELECT month, person_id, {', '.join(_CODED)} FROM {_TABLE} WHERE {unknown} "
        "LIMIT 1").first()
    if found is not None:
        raise RuntimeError(f"register_row {tuple(found)}: a category value outside "
                           "trialmon.domain's values; it cannot be converted")


def _rebuild(to_codes: bool) -> None:
    """register_row copied into a new table with the coded columns as codes or as text,
    then renamed into place."""
    _refuse_unknown(to_codes)
    _create(coded=to_codes)

    def converted(column: str) -> str:
        if column not in _CODED:
            return column
        pairs = [(v, i) if to_codes else (i, v) for i, v in enumerate(_CODED[column][1])]
        whens = " ".join(f"WHEN {_stored(a)} THEN {_stored(b)}" for a, b in pairs)
        return f"CASE {column} {whens} END"

    op.execute(f"INSERT INTO {_TABLE}__new SELECT {', '.join(map(converted, _COLUMNS))} "
               f"FROM {_TABLE} ORDER BY month, person_id")  # the key's order: no sort
    op.execute(f"DROP TABLE {_TABLE}")
    op.execute(f"ALTER TABLE {_TABLE}__new RENAME TO register_row")


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild(to_codes=True)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild(to_codes=False)
