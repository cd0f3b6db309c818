"""Progress bars for long work, on stderr; `--quiet` (progress=False) silences them.

click's bar draws itself only on a terminal, so logs and CI output stay clean.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterable, Iterator

import click


class _Silent:
    def update(self, n_steps: int, current_item=None) -> None:
        pass


@contextlib.contextmanager
def progress_bar(enabled: bool, label: str, length: int | None = None,
                 iterable: Iterable | None = None) -> Iterator:
    """A click progress bar when `enabled`, else an object whose update() does nothing.

    With `iterable` the yielded object iterates it (advancing the bar as it goes)."""
    if not enabled:
        yield iterable if iterable is not None else _Silent()
        return
    with click.progressbar(iterable=iterable, length=length, label=label, file=sys.stderr,
                           show_pos=True, show_eta=length is not None) as bar:
        yield bar
