"""Percentiles and plain-text tables, as every benchmark prints them."""

from __future__ import annotations

import statistics
from collections.abc import Sequence


def pct(values: Sequence[float], q: float) -> float:
    """The ``q``-quantile (0..1, in hundredths) of ``values``, interpolated between the nearest ranks."""
    if not values:
        raise ValueError("no values to take a percentile of")
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1]


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """``header``, a rule and ``rows`` as lines: the first column left-aligned, the others right-aligned, each
    as wide as its widest cell, two spaces apart."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(row: Sequence[str]) -> str:
        cells = [row[0].ljust(widths[0]), *(c.rjust(w) for c, w in zip(row[1:], widths[1:], strict=True))]
        return "  ".join(cells).rstrip()

    head = line(header)
    return [head, "-" * len(head), *(line(row) for row in rows)]


def print_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    for text in format_table(header, rows):
        print(text)
