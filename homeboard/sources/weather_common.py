"""Helpers both weather providers share: tolerant number parsing and icon categories."""

from __future__ import annotations

import math
from typing import Any

UNKNOWN = "unknown"


def number(value: Any) -> float | None:
    """``value`` as a float; None for null, NaN, booleans or anything non-numeric.

    Providers have sent numbers as strings before (the original build's NWS data did),
    so numeric strings are accepted.
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        result = float(value)
    elif isinstance(value, str):
        try:
            result = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    return result if math.isfinite(result) else None


def integer(value: Any) -> int | None:
    """``value`` as a rounded int, or None (see ``number``)."""
    result = number(value)
    return None if result is None else int(round(result))


def percent(value: Any) -> int | None:
    """A probability in percent, clamped to 0..100, or None."""
    result = integer(value)
    return None if result is None else max(0, min(100, result))


def wmo_category(code: Any) -> str:
    """The icon category of a WMO weather code; "unknown" for null or unknown codes."""
    # The renderer owns the categories; imported here, not at module import, so that
    # loading a source does not load the drawing code.
    from homeboard.render.icons import WEATHER_CATEGORIES, category_for_wmo

    category = category_for_wmo(integer(code))
    return category if category in WEATHER_CATEGORIES else UNKNOWN


def c_to_f(value: float | None) -> float | None:
    """Degrees Celsius to Fahrenheit (None stays None)."""
    return None if value is None else value * 9.0 / 5.0 + 32.0


def f_to_c(value: float | None) -> float | None:
    """Degrees Fahrenheit to Celsius (None stays None)."""
    return None if value is None else (value - 32.0) * 5.0 / 9.0


__all__ = ["UNKNOWN", "c_to_f", "f_to_c", "integer", "number", "percent", "wmo_category"]
