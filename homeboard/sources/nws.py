"""Weather from the US National Weather Service (api.weather.gov): no key, US only.

The flow the API documents: ``/points/{lat},{lon}`` names the forecast gridpoint and
the observation stations; the gridpoint's ``/forecast`` gives day/night periods;
a station's ``/observations`` gives current conditions. NWS moves gridpoints without
notice (the original build hard-coded one and broke), so the points lookup is
cached and redone when the gridpoint answers 404. A steady refresh costs two
requests: the forecast and the observations.

Observations are often null or hours old, so current conditions come from the
newest recent observation with a temperature, else from the forecast's first
period. Icon URLs (absolute or relative, with unknown tokens) and short forecasts
are mapped onto the renderer's icon categories; anything unrecognised is "unknown".
NWS requires a User-Agent with a contact; it comes from ``weather.contact``.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

import requests

from homeboard.errors import SourceError
from homeboard.model import WEATHER, Current, Forecast, SourceKind, WeatherData
from homeboard.sources import http
from homeboard.sources.weather_common import (
    UNKNOWN,
    c_to_f,
    f_to_c,
    percent,
    temperature,
)

if TYPE_CHECKING:
    from homeboard.config import Config

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.weather.gov"
OFFICIAL_HOST = "api.weather.gov"
ATTRIBUTION = "Weather: US National Weather Service"
POINTS_TTL = timedelta(days=1)
OBSERVATION_MAX_AGE = timedelta(hours=2)
OBSERVATIONS_LIMIT = 6
ACCEPT = "application/geo+json, application/problem+json;q=0.9, application/json;q=0.8"

# NWS icon tokens (the path segment after /day/ or /night/) → icon categories.
ICON_TOKENS: dict[str, str] = {
    "skc": "clear",
    "few": "mostly_clear",
    "sct": "partly_cloudy",
    "bkn": "overcast",  # mostly cloudy: more cloud than sun
    "ovc": "overcast",
    "wind_skc": "clear",
    "wind_few": "mostly_clear",
    "wind_sct": "partly_cloudy",
    "wind_bkn": "overcast",
    "wind_ovc": "overcast",
    "snow": "snow",
    "rain_snow": "sleet",
    "rain_sleet": "sleet",
    "snow_sleet": "sleet",
    "sleet": "sleet",
    "fzra": "freezing_rain",
    "rain_fzra": "freezing_rain",
    "snow_fzra": "freezing_rain",
    "rain": "rain",
    "rain_showers": "showers",
    "rain_showers_hi": "showers",
    "tsra": "thunderstorm",
    "tsra_sct": "thunderstorm",
    "tsra_hi": "thunderstorm",
    "tornado": "thunderstorm",
    "hurricane": "heavy_rain",
    "tropical_storm": "heavy_rain",
    "blizzard": "heavy_snow",
    "fog": "fog",
    "dust": "fog",
    "smoke": "fog",
    "haze": "fog",
    "hot": "clear",
    "cold": "clear",
}

# Short-forecast phrases, most severe first: "Chance Showers then Mostly Sunny" is showers.
TEXT_PATTERNS: tuple[tuple[str, str], ...] = (
    (r"thunder.*hail|hail.*thunder", "thunderstorm_hail"),
    (r"thunder|t-storm|tstorm", "thunderstorm"),
    (r"freezing drizzle", "freezing_drizzle"),
    (r"freezing rain|ice storm", "freezing_rain"),
    (r"sleet|wintry mix|rain and snow|snow and rain|ice pellets|rain/snow", "sleet"),
    (r"blizzard|heavy snow", "heavy_snow"),
    (r"snow showers", "snow_showers"),
    (r"snow|flurries", "snow"),
    (r"heavy rain", "heavy_rain"),
    (r"drizzle", "drizzle"),
    (r"showers", "showers"),
    (r"rain", "rain"),
    (r"fog|haze|smoke|dust|mist", "fog"),
    (r"partly cloudy|partly sunny", "partly_cloudy"),
    (r"mostly cloudy|cloudy|overcast", "overcast"),
    (r"mostly sunny|mostly clear", "mostly_clear"),
    (r"sunny|clear|fair", "clear"),
)
_SEVERITY = {cat: i for i, (_, cat) in enumerate(TEXT_PATTERNS)}
_ICON_PATH_RE = re.compile(r"/icons/[^/]+/(day|night)/([^?#]+)")


def icon_category(icon: Any) -> tuple[str, bool | None]:
    """(category, is_day) from an NWS icon URL, absolute or relative; ("unknown", None) if not.

    A URL may carry two tokens (``/day/rain_showers,30/sct,20``); the more severe wins.
    """
    if not isinstance(icon, str) or not icon:
        return UNKNOWN, None
    match = _ICON_PATH_RE.search(urlsplit(icon).path or icon)
    if match is None:
        return UNKNOWN, None
    is_day = match.group(1) == "day"
    found = [ICON_TOKENS.get(part.split(",")[0].strip()) for part in match.group(2).split("/")]
    known = [c for c in found if c is not None]
    if not known:
        return UNKNOWN, is_day
    return min(known, key=lambda c: _SEVERITY.get(c, 99)), is_day


def text_category(text: Any) -> str:
    """The category of a short forecast or observation text; "unknown" if nothing matches."""
    if not isinstance(text, str):
        return UNKNOWN
    lowered = text.lower()
    for pattern, category in TEXT_PATTERNS:
        if re.search(pattern, lowered):
            return category
    return UNKNOWN


def category_of(icon: Any, text: Any) -> str:
    """The icon token if it is known, else the text, else "unknown"."""
    category, _ = icon_category(icon)
    return category if category != UNKNOWN else text_category(text)


@dataclass(frozen=True)
class _Point:
    forecast_url: str
    stations_url: str | None
    resolved_at: datetime


def _temperature(value: Any, unit: str | None, *, imperial: bool,
                 apparent: bool = False) -> float | None:
    """A temperature in the board's units from a value in ``unit`` (F, C or wmoUnit:degC).

    None when missing or implausible (checked before converting: 1e308 °F would
    become inf in °C).
    """
    fahrenheit_in = (unit or "").upper().endswith("F")
    t = temperature(value, fahrenheit=fahrenheit_in, apparent=apparent)
    if t is None:
        return None
    if imperial:
        return t if fahrenheit_in else c_to_f(t)
    return f_to_c(t) if fahrenheit_in else t


def _coordinate(value: float) -> str:
    return f"{value:.4f}".rstrip("0").rstrip(".")


def _parse_time(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _night_date(start: datetime, tz: tzinfo) -> date:
    # A night belongs to the day it follows: "Tonight" (18:00) and an "Overnight"
    # period issued after midnight (02:00) are both the previous evening's low.
    local = start.astimezone(tz)
    return local.date() if local.hour >= 12 else local.date() - timedelta(days=1)


def merge_periods(
    periods: list[Any], *, tz: tzinfo, today: date, imperial: bool
) -> tuple[Forecast, ...]:
    """Day and night periods merged into one Forecast per local date, from today on.

    The day period gives the high and the icon, the night after it the low; the
    precipitation chance is the larger of the two.
    """
    days: dict[date, dict[str, Any]] = {}
    for period in periods:
        if not isinstance(period, dict):
            continue
        start = _parse_time(period.get("startTime"))
        if start is None:
            continue
        is_daytime = bool(period.get("isDaytime"))
        day = start.astimezone(tz).date() if is_daytime else _night_date(start, tz)
        entry = days.setdefault(day, {})
        temp = _temperature(period.get("temperature"), period.get("temperatureUnit"),
                            imperial=imperial)
        pop_raw = period.get("probabilityOfPrecipitation")
        pop = percent(pop_raw.get("value") if isinstance(pop_raw, dict) else pop_raw)
        category = category_of(period.get("icon"), period.get("shortForecast"))
        slot = "day" if is_daytime else "night"
        if slot in entry:
            continue  # the first period of a kind for a date wins
        entry[slot] = (temp, pop, category)
    out: list[Forecast] = []
    for day in sorted(days):
        if day < today:
            continue
        entry = days[day]
        day_slot, night_slot = entry.get("day"), entry.get("night")
        pops = [s[1] for s in (day_slot, night_slot) if s is not None and s[1] is not None]
        shown = day_slot if day_slot is not None else night_slot
        category = shown[2] if shown is not None else UNKNOWN
        out.append(Forecast(
            date=day,
            category=category,
            high=day_slot[0] if day_slot is not None else None,
            low=night_slot[0] if night_slot is not None else None,
            precip_chance=max(pops) if pops else None,
            code=None,
        ))
    return tuple(out)


class NWSSource:
    """Current conditions and daily forecasts from api.weather.gov."""

    name = WEATHER
    kind: SourceKind = "weather"
    label = "Weather"

    def __init__(
        self,
        *,
        latitude: float,
        longitude: float,
        tz: tzinfo,
        days: int,
        contact: str,
        units: str = "metric",
        base_url: str | None = None,
        timeout: timedelta | float | None = None,
        refresh: timedelta | None = None,
    ) -> None:
        self.latitude = latitude
        self.longitude = longitude
        self.tz = tz
        self.days = days
        self.contact = contact
        self.units = units
        self.base_url = (base_url or DEFAULT_BASE_URL).rstrip("/")
        self.timeout = http.timeouts(timeout, default=10.0)
        self.refresh = refresh
        # Cached for the life of the process (the service builds its sources once).
        self._point: _Point | None = None
        self._station_url: str | None = None

    @classmethod
    def from_config(cls, config: Config) -> NWSSource:
        """The source for ``config`` (which has weather, a location and a contact)."""
        weather, location = config.weather, config.location
        assert weather is not None
        if location is None:
            raise SourceError("no location configured")
        return cls(
            latitude=location.latitude, longitude=location.longitude, tz=config.tz,
            days=config.layout.days, contact=weather.contact or "", units=config.units,
            base_url=weather.base_url, timeout=weather.timeout, refresh=weather.refresh,
        )

    @property
    def headers(self) -> dict[str, str]:
        """NWS asks for a User-Agent naming the application and a contact (403 without)."""
        contact = f", {self.contact}" if self.contact else ""
        return {"User-Agent": f"({http.USER_AGENT}{contact})", "Accept": ACCEPT}

    def _url(self, link: str) -> str:
        # Links in responses point at the official host; a configured base URL (a
        # proxy, a mirror, a test server) serves the same paths.
        url = urljoin(self.base_url + "/", link)
        parts = urlsplit(url)
        if self.base_url != DEFAULT_BASE_URL and parts.hostname == OFFICIAL_HOST:
            url = self.base_url + parts.path + (f"?{parts.query}" if parts.query else "")
        return url

    def _get(self, session: requests.Session, url: str, *, ok: tuple[int, ...] = (),
             params: dict[str, Any] | None = None) -> requests.Response:
        return http.get(session, url, timeout=self.timeout, headers=self.headers, ok=ok,
                        params=params)

    def _resolve(self, session: requests.Session, now: datetime) -> _Point:
        if self._point is not None and now - self._point.resolved_at < POINTS_TTL:
            return self._point
        # The API accepts at most four decimals and redirects anything else (trailing
        # zeros included) to its own spelling: write it that way, saving a request.
        url = f"{self.base_url}/points/{_coordinate(self.latitude)},{_coordinate(self.longitude)}"
        body = http.json_body(self._get(session, url))
        props = body.get("properties") if isinstance(body, dict) else None
        if not isinstance(props, dict) or not isinstance(props.get("forecast"), str):
            raise SourceError("malformed points response: no forecast link")
        stations = props.get("observationStations")
        self._point = _Point(
            forecast_url=self._url(props["forecast"]),
            stations_url=self._url(stations) if isinstance(stations, str) else None,
            resolved_at=now,
        )
        self._station_url = None
        return self._point

    def _forecast(self, session: requests.Session, now: datetime) -> list[Any]:
        point = self._resolve(session, now)
        params = {"units": "us" if self.units == "imperial" else "si"}
        resp = self._get(session, point.forecast_url, ok=(404,), params=params)
        if resp.status_code == 404:
            # The gridpoint moved (or drifted into a marine cell): look it up again, once.
            log.info("weather: forecast gridpoint answered 404; looking up the point again")
            self._point = None
            point = self._resolve(session, now)
            resp = self._get(session, point.forecast_url, params=params)
        body = http.json_body(resp)
        props = body.get("properties") if isinstance(body, dict) else None
        periods = props.get("periods") if isinstance(props, dict) else None
        if not isinstance(periods, list) or not periods:
            raise SourceError("malformed forecast response: no periods")
        return periods

    def _observation(self, session: requests.Session, now: datetime) -> Current | None:
        point = self._point
        if point is None or point.stations_url is None:
            return None
        if self._station_url is None:
            body = http.json_body(self._get(session, point.stations_url))
            features = body.get("features") if isinstance(body, dict) else None
            if not isinstance(features, list) or not features:
                raise SourceError("no observation stations")
            first = features[0] if isinstance(features[0], dict) else {}
            station = first.get("id")
            if not isinstance(station, str):
                ident = (first.get("properties") or {}).get("stationIdentifier")
                if not isinstance(ident, str):
                    raise SourceError("malformed stations response")
                station = f"/stations/{ident}"
            self._station_url = self._url(station)
        resp = self._get(session, f"{self._station_url}/observations", ok=(404,),
                         params={"limit": OBSERVATIONS_LIMIT})
        if resp.status_code == 404:
            self._station_url = None  # the station is gone; pick again next time
            raise SourceError("observation station not found")
        body = http.json_body(resp)
        features = body.get("features") if isinstance(body, dict) else None
        if not isinstance(features, list):
            raise SourceError("malformed observations response")
        return newest_observation(features, now=now, tz=self.tz,
                                  imperial=self.units == "imperial")

    def fetch(self, *, session: requests.Session, now: datetime) -> WeatherData:
        """The forecast (required) and current conditions (observation, else forecast)."""
        today = now.astimezone(self.tz).date()
        imperial = self.units == "imperial"
        periods = self._forecast(session, now)
        daily = merge_periods(periods, tz=self.tz, today=today, imperial=imperial)
        if not daily or daily[0].date != today:
            raise SourceError(f"forecast does not cover today ({today.isoformat()})")
        if not any(f.high is not None or f.low is not None for f in daily):
            # Icons alone are no forecast: every temperature null or implausible.
            raise SourceError("no usable forecast (every temperature null or implausible)")
        try:
            current = self._observation(session, now)
        except SourceError as exc:
            # Current and forecast fail independently (the original build learned this
            # the hard way); the forecast's first period stands in for a missing observation.
            log.info("weather: observations unavailable (%s); using the forecast", exc)
            current = None
        if current is None:
            current = current_from_period(periods[0], imperial=imperial)
        if current.temperature is None and current.category == UNKNOWN:
            raise SourceError("no usable current conditions (every value null or implausible)")
        return WeatherData(current=current, daily=daily, attribution=ATTRIBUTION)


def newest_observation(features: list[Any], *, now: datetime, tz: tzinfo,
                       imperial: bool) -> Current | None:
    """The newest observation younger than two hours with a non-null temperature."""
    candidates: list[tuple[datetime, dict[str, Any]]] = []
    for feature in features:
        props = feature.get("properties") if isinstance(feature, dict) else None
        if not isinstance(props, dict):
            continue
        when = _parse_time(props.get("timestamp"))
        temp = props.get("temperature")
        value = temp.get("value") if isinstance(temp, dict) else None
        unit = temp.get("unitCode") if isinstance(temp, dict) else None
        if when is None or _temperature(value, unit, imperial=False) is None:
            continue  # null, or a reading no thermometer gave (-100 °C)
        if now - when > OBSERVATION_MAX_AGE or when - now > timedelta(minutes=10):
            continue
        candidates.append((when, props))
    if not candidates:
        return None
    when, props = max(candidates, key=lambda c: c[0])
    temp = props["temperature"]
    apparent = None
    for key in ("heatIndex", "windChill"):
        extra = props.get(key)
        if isinstance(extra, dict):
            apparent = _temperature(extra.get("value"), extra.get("unitCode"), imperial=imperial,
                                    apparent=True)
            if apparent is not None:
                break
    category, is_day = icon_category(props.get("icon"))
    if category == UNKNOWN:
        category = text_category(props.get("textDescription"))
    return Current(
        temperature=_temperature(temp.get("value"), temp.get("unitCode"), imperial=imperial),
        category=category,
        is_day=True if is_day is None else is_day,
        apparent=apparent,
        code=None,
        observed_at=when.astimezone(tz),
    )


def current_from_period(period: Any, *, imperial: bool) -> Current:
    """Current conditions from a forecast period (when no observation will do)."""
    if not isinstance(period, dict):
        return Current(temperature=None, category=UNKNOWN)
    category, is_day = icon_category(period.get("icon"))
    if category == UNKNOWN:
        category = text_category(period.get("shortForecast"))
    if is_day is None:
        is_day = bool(period.get("isDaytime", True))
    return Current(
        temperature=_temperature(period.get("temperature"), period.get("temperatureUnit"),
                                 imperial=imperial),
        category=category,
        is_day=is_day,
        observed_at=None,
    )


__all__ = [
    "ATTRIBUTION", "DEFAULT_BASE_URL", "ICON_TOKENS", "NWSSource", "category_of",
    "current_from_period", "icon_category", "merge_periods", "newest_observation",
    "text_category",
]
