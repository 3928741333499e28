"""Helpers both weather providers share: tolerant number parsing, plausible ranges, icons.

A provider's number is taken only when it could be true on Earth: a temperature of
99999° or 1e308 °F, a 140 % chance of rain or weather code 12345 is a broken answer,
and becomes "unknown" (None) instead of being drawn (or overflowing to inf when
converted).
"""

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


# Plausible temperatures in °C: the records are -89.2 °C (Vostok) and 56.7 °C (Death
# Valley); wind chill and heat index reach further than the air itself.
AIR_TEMPERATURE_C = (-95.0, 65.0)
APPARENT_TEMPERATURE_C = (-110.0, 85.0)


def temperature(value: Any, *, fahrenheit: bool = False, apparent: bool = False) -> float | None:
    """A temperature as given (°F with ``fahrenheit``), or None when missing or implausible."""
    result = number(value)
    if result is None:
        return None
    celsius = f_to_c(result) if fahrenheit else result
    low, high = APPARENT_TEMPERATURE_C if apparent else AIR_TEMPERATURE_C
    return result if celsius is not None and low <= celsius <= high else None


def percent(value: Any) -> int | None:
    """A probability in percent (0..100), or None when missing or out of range."""
    result = number(value)
    if result is None or not 0 <= result <= 100:
        return None
    return int(round(result))


def wmo_code(value: Any) -> int | None:
    """A WMO weather code (a whole number 0..99), or None."""
    result = number(value)
    if result is None or result != int(result) or not 0 <= result <= 99:
        return None
    return int(result)


def flag(value: Any) -> bool | None:
    """A 0/1 flag (Open-Meteo's ``is_day``) as a bool, or None for anything else."""
    result = number(value)
    return None if result not in (0.0, 1.0) else bool(result)


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


__all__ = [
    "UNKNOWN",
    "c_to_f",
    "f_to_c",
    "flag",
    "integer",
    "number",
    "percent",
    "temperature",
    "wmo_category",
    "wmo_code",
]
