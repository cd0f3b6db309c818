"""Indicator names and definitions in Finnish, Swedish and English (filled in by issue 3)."""

from indicators.registry import Text  # noqa: F401

TEXTS: dict = {}
