"""Reference areas (municipalities, regions, trial areas) -- placeholder, see issue 2."""


def sync_reference(engine) -> None:
    """Write the shipped reference CSVs into the area tables (idempotent)."""
