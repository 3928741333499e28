"""Weather from Open-Meteo's forecast API: one request, no key (a key for the commercial host).

One GET asks for current conditions and the daily forecast of the shown days, in
the board's units and timezone (so ``daily.time`` are the board's local dates and
``current.time`` its local wall time). Nulls and implausible values become
placeholders ("unknown" icon, no temperature); a response without the blocks we
asked for, or with nothing usable in one of them, is an error, so the board keeps
the last good forecast instead of drawing an empty one.

Open-Meteo's data is CC BY 4.0: the credit travels with the data and is printed on
the frame.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any

import requests

from homeboard.errors import SourceError
from homeboard.model import WEATHER, Current, Forecast, SourceKind, WeatherData
from homeboard.sources import http
from homeboard.sources.base import read_secret
from homeboard.sources.weather_common import (
    flag,
    percent,
    temperature,
    wmo_category,
    wmo_code,
)

if TYPE_CHECKING:
    from homeboard.config import Config

FREE_BASE_URL = "https://api.open-meteo.com"
CUSTOMER_BASE_URL = "https://customer-api.open-meteo.com"
ATTRIBUTION = "Weather: Open-Meteo.com (CC BY 4.0)"
CURRENT_VARIABLES = ("temperature_2m", "apparent_temperature", "weather_code", "is_day")
DAILY_VARIABLES = (
    "weather_code", "temperature_2m_max", "temperature_2m_min", "precipitation_probability_max",
)
MAX_FORECAST_DAYS = 16  # the API's limit


class OpenMeteoSource:
    """Current conditions and daily forecasts from Open-Meteo."""

    name = WEATHER
    kind: SourceKind = "weather"
    label = "Weather"

    def __init__(
        self,
        *,
        latitude: float,
        longitude: float,
        tz: tzinfo,
        timezone: str,
        days: int,
        units: str = "metric",
        base_url: str | None = None,
        api_key_file: Path | None = None,
        timeout: timedelta | float | None = None,
        refresh: timedelta | None = None,
    ) -> None:
        self.latitude = latitude
        self.longitude = longitude
        self.tz = tz
        self.timezone = timezone
        self.days = days
        self.units = units
        self.api_key_file = api_key_file
        default = CUSTOMER_BASE_URL if api_key_file is not None else FREE_BASE_URL
        self.base_url = (base_url or default).rstrip("/")
        self.timeout = http.timeouts(timeout, default=10.0)
        self.refresh = refresh

    @classmethod
    def from_config(cls, config: Config) -> OpenMeteoSource:
        """The source for ``config`` (which has weather and a location)."""
        weather, location = config.weather, config.location
        assert weather is not None
        if location is None:
            raise SourceError("no location configured")
        return cls(
            latitude=location.latitude, longitude=location.longitude, tz=config.tz,
            timezone=config.timezone, days=config.layout.days, units=config.units,
            base_url=weather.base_url, api_key_file=weather.api_key_file,
            timeout=weather.timeout, refresh=weather.refresh,
        )

    def params(self, api_key: str | None = None) -> dict[str, Any]:
        """The query of the one request."""
        imperial = self.units == "imperial"
        params: dict[str, Any] = {
            "latitude": f"{self.latitude:.4f}",
            "longitude": f"{self.longitude:.4f}",
            "current": ",".join(CURRENT_VARIABLES),
            "daily": ",".join(DAILY_VARIABLES),
            "timezone": self.timezone,
            # One day more than shown, so a frame drawn after midnight still has its
            # last column before the next refresh.
            "forecast_days": min(self.days + 1, MAX_FORECAST_DAYS),
            "temperature_unit": "fahrenheit" if imperial else "celsius",
            "wind_speed_unit": "mph" if imperial else "kmh",
            "precipitation_unit": "inch" if imperial else "mm",
            "timeformat": "iso8601",
        }
        if api_key:
            params["apikey"] = api_key
        return params

    def fetch(self, *, session: requests.Session, now: datetime) -> WeatherData:
        """One request; the parsed conditions and forecast."""
        api_key = read_secret(self.api_key_file, "the weather API key file")
        resp = http.get(session, f"{self.base_url}/v1/forecast", params=self.params(api_key),
                        timeout=self.timeout, secrets=(api_key,))
        today = now.astimezone(self.tz).date()
        return parse_forecast(http.json_body(resp), tz=self.tz, today=today,
                              fahrenheit=self.units == "imperial")


def _block(body: dict[str, Any], key: str) -> dict[str, Any]:
    block = body.get(key)
    if not isinstance(block, dict):
        what = "missing" if block is None else "not an object"
        raise SourceError(f"malformed response: {key!r} is {what}")
    return block


def _local_time(value: Any, tz: tzinfo) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    # With timezone=<zone> Open-Meteo writes local wall time without an offset.
    return moment.replace(tzinfo=tz) if moment.tzinfo is None else moment.astimezone(tz)


def parse_current(block: dict[str, Any], tz: tzinfo, *, fahrenheit: bool = False) -> Current:
    """The ``current`` block as Current; nulls and implausible values become None / "unknown"."""
    code = wmo_code(block.get("weather_code"))
    is_day = flag(block.get("is_day"))
    return Current(
        temperature=temperature(block.get("temperature_2m"), fahrenheit=fahrenheit),
        category=wmo_category(code),
        is_day=True if is_day is None else is_day,
        apparent=temperature(block.get("apparent_temperature"), fahrenheit=fahrenheit,
                             apparent=True),
        code=code,
        observed_at=_local_time(block.get("time"), tz),
    )


def parse_daily(block: dict[str, Any], today: date, *,
                fahrenheit: bool = False) -> tuple[Forecast, ...]:
    """The ``daily`` block's parallel arrays as one Forecast per day from ``today`` on."""
    times = block.get("time")
    if not isinstance(times, list) or not times:
        raise SourceError("malformed response: 'daily.time' is missing or empty")
    columns: dict[str, list[Any]] = {}
    for name in DAILY_VARIABLES:
        column = block.get(name)
        if not isinstance(column, list):
            raise SourceError(f"malformed response: 'daily.{name}' is missing")
        if len(column) != len(times):
            raise SourceError(f"malformed response: 'daily.{name}' has {len(column)} values"
                              f" for {len(times)} days")
        columns[name] = column
    out: list[Forecast] = []
    for i, raw in enumerate(times):
        try:
            day = date.fromisoformat(str(raw))
        except ValueError:
            raise SourceError(f"malformed response: daily date {str(raw)[:20]!r}") from None
        if day < today:
            continue
        code = wmo_code(columns["weather_code"][i])
        out.append(Forecast(
            date=day,
            category=wmo_category(code),
            high=temperature(columns["temperature_2m_max"][i], fahrenheit=fahrenheit),
            low=temperature(columns["temperature_2m_min"][i], fahrenheit=fahrenheit),
            precip_chance=percent(columns["precipitation_probability_max"][i]),
            code=code,
        ))
    # Check the dates: a forecast that does
    # not start today is for the wrong zone or stale, and would shift every column.
    if not out or out[0].date != today:
        raise SourceError(f"forecast does not cover today ({today.isoformat()})")
    if not any(f.high is not None or f.low is not None or f.code is not None for f in out):
        raise SourceError("no usable forecast (every value null or implausible)")
    return tuple(out)


def _fahrenheit(body: dict[str, Any], default: bool) -> bool:
    """Whether the answer's temperatures are °F, by its own units blocks, else as asked."""
    for block, key in (("current_units", "temperature_2m"), ("daily_units", "temperature_2m_max")):
        units = body.get(block)
        unit = units.get(key) if isinstance(units, dict) else None
        if isinstance(unit, str) and unit.strip():
            return unit.strip().upper().endswith("F")
    return default


def parse_forecast(body: Any, *, tz: tzinfo, today: date, fahrenheit: bool = False) -> WeatherData:
    """A whole Open-Meteo response as WeatherData, or SourceError when it is malformed.

    An answer with nothing usable now or for the days (all null, or all implausible)
    is an error too: it must not replace the last good forecast.
    """
    if not isinstance(body, dict):
        raise SourceError("malformed response: not a JSON object")
    if body.get("error"):
        reason = body.get("reason")
        raise SourceError(f"error: {http.redact(str(reason))[:100]}" if reason else "error")
    fahrenheit = _fahrenheit(body, fahrenheit)
    current = parse_current(_block(body, "current"), tz, fahrenheit=fahrenheit)
    daily = parse_daily(_block(body, "daily"), today, fahrenheit=fahrenheit)
    if current.temperature is None and current.apparent is None and current.code is None:
        raise SourceError("no usable current conditions (every value null or implausible)")
    return WeatherData(current=current, daily=daily, attribution=ATTRIBUTION)


__all__ = [
    "ATTRIBUTION", "CUSTOMER_BASE_URL", "FREE_BASE_URL", "OpenMeteoSource", "parse_current",
    "parse_daily", "parse_forecast",
]
