"""Errors the command line reports as a clear message and a non-zero exit."""

from __future__ import annotations

from dataclasses import dataclass


class TrialmonError(Exception):
    """A failure the user can act on; the CLI prints it without a traceback."""


class QueryError(TrialmonError):
    """A bad query parameter, named by its API name (``parameter``), so the HTTP API
    answers which parameter is wrong without reading the message."""

    def __init__(self, parameter: str, message: str):
        super().__init__(message)
        self.parameter = parameter


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file, located as precisely as possible."""

    file: str
    row: int | None  # 1-based data row (the header is row 0); None for file-level problems
    column: str | None
    value: object
    message: str

    def __str__(self) -> str:
        where = [self.file]
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        value = "" if self.value is None else f": value {self.value!r}"
        return f"{', '.join(where)}{value}: {self.message}"


class InputRejected(TrialmonError):
    """An input file broke the contract; nothing was written."""

    def __init__(self, problems: list[Problem], total: int | None = None, shown: int = 10):
        self.problems = problems
        self.total = total if total is not None else len(problems)
        lines = [str(p) for p in problems[:shown]]
        more = self.total - len(lines)
        head = f"rejected: {self.total} problem{'s' if self.total != 1 else ''}"
        tail = [f"... and {more} more"] if more > 0 else []
        tail.append("nothing was loaded; the database is unchanged")
        super().__init__("\n".join([head, *("  " + line for line in lines), *tail]))
