"""Numbers as French readers expect them on pages and in texts: 26 936, 18,4 %, 12,5 km."""

from __future__ import annotations

NARROW_NBSP = "\u202f"  # the thousands separator and the space before % in French typography


def fr_number(value: float, decimals: int | None = None) -> str:
    """``decimals=None``: none for whole numbers, one otherwise (10 -> '10', 12.53 -> '12,5')."""
    if decimals is None:
        decimals = 0 if float(value).is_integer() else 1
    return f"{value:,.{decimals}f}".replace(",", NARROW_NBSP).replace(".", ",")


def fr_percent(share: float, decimals: int = 1) -> str:
    """A share between 0 and 1 as a French percentage: 0.184 -> '18,4 %'."""
    return f"{fr_number(100 * share, decimals)}{NARROW_NBSP}%"
