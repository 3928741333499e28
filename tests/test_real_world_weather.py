"""Real Open-Meteo and NWS answers, served by a local HTTP server to the product's sources.

The payloads are those in ``../shared/real-world`` (see its SOURCES.md), read from
there, never copied. Each test serves them as the real API would answer and checks
that the values land on the days a person reading the raw JSON expects, in the
location's time zone.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sources_fixtures import session, write_config

from homeboard.model import WEATHER, compose
from homeboard.sources import build_sources, fetch_all
from homeboard.sources.nws import NWSSource, newest_observation
from homeboard.sources.open_meteo import OpenMeteoSource

__all__ = ["session"]

REAL_WORLD = Path(__file__).resolve().parent.parent.parent / "shared" / "real-world"
if not REAL_WORLD.is_dir():
    if os.environ.get("CI"):
        raise RuntimeError(f"{REAL_WORLD} is missing: CI checks out shared/ beside the repo")
    pytest.skip(f"no real-world payloads at {REAL_WORLD}", allow_module_level=True)

NEW_YORK = ZoneInfo("America/New_York")
SAMARA = ZoneInfo("Europe/Samara")
SHANGHAI = ZoneInfo("Asia/Shanghai")
NWS_HOST = "https://api.weather.gov"

# Every payload a test below serves; a new file must get a test too.
USED = {
    "om_samara_2026-09-15.json",
    "om_beijing_2026-09-29.json",
    "nws_anderson_points.json",
    "nws_anderson_forecast.json",
    "nws_rochester_forecast.json",
    "pynws_points.json",
    "pynws_gridpoints_stations.json",
    "pynws_stations_observations_missing_value.json",
    "pynws_stations_observations_multiple_unsorted.json",
}


def real(name: str) -> Any:
    """A real-world payload, parsed."""
    return json.loads((REAL_WORLD / name).read_text(encoding="utf-8"))


def test_every_weather_payload_parses_and_is_served_below() -> None:
    names = {
        p.name
        for pattern in ("om_*.json", "nws_*.json", "pynws_*.json")
        for p in REAL_WORLD.glob(pattern)
    }
    assert names == USED
    for name in sorted(names):
        assert isinstance(real(name), dict), name


# --------------------------------------------------------------------------- #
# Open-Meteo
# --------------------------------------------------------------------------- #


def open_meteo_config(tmp_path: Path, base: str, *, zone: str, lat: float, lon: float) -> Any:
    return write_config(
        tmp_path,
        f"""
        timezone: {zone}
        units: metric
        location: {{latitude: {lat}, longitude: {lon}}}
        layout: {{days: 7}}
        weather: {{provider: open-meteo, base_url: {base}, max_age: 3h}}
        """,
    )


def test_open_meteo_samara_lands_on_its_dates(tmp_path, httpserver, session) -> None:
    httpserver.expect_request("/v1/forecast").respond_with_json(real("om_samara_2026-09-15.json"))
    config = open_meteo_config(
        tmp_path, httpserver.url_for("/"), zone="Europe/Samara", lat=53.19, lon=50.13
    )
    now = datetime(2026, 9, 15, 12, 5, tzinfo=SAMARA)
    snaps = fetch_all(build_sources(config), {}, session=session, now=now)
    assert snaps[WEATHER].last_error is None
    (request,) = [r for r, _ in httpserver.log]
    assert request.args["timezone"] == "Europe/Samara"
    state = compose(config, snaps, now)

    cur = state.current
    assert cur is not None
    assert (cur.temperature, cur.apparent, cur.code, cur.category, cur.is_day) == (
        18.5,
        18.5,
        3,
        "overcast",
        True,
    )
    assert cur.observed_at == datetime(2026, 9, 15, 12, 0, tzinfo=SAMARA)
    assert cur.observed_at.utcoffset() == timedelta(hours=4)  # type: ignore[union-attr]
    shown = [
        (d.date, d.forecast.high, d.forecast.low, d.forecast.precip_chance, d.forecast.category)
        for d in state.days
        if d.forecast is not None
    ]
    assert shown == [
        (date(2026, 9, 15), 19.8, 13.3, 30, "overcast"),
        (date(2026, 9, 16), 21.4, 15.3, 53, "showers"),  # WMO 80: slight rain showers
        (date(2026, 9, 17), 16.6, 12.1, 10, "overcast"),
        (date(2026, 9, 18), 17.6, 10.3, 0, "fog"),  # WMO 45
        (date(2026, 9, 19), 18.8, 8.7, 0, "fog"),
        (date(2026, 9, 20), 21.0, 11.9, 5, "overcast"),
        (date(2026, 9, 21), 21.4, 13.7, 6, "overcast"),
    ]

    # The same answer read just after midnight (a cached response): the 15th is gone,
    # and the 16th is the first column, not shifted.
    after_midnight = datetime(2026, 9, 16, 0, 10, tzinfo=SAMARA)
    weather = build_sources(config)[0].fetch(session=session, now=after_midnight)
    assert [(f.date, f.high) for f in weather.daily[:2]] == [
        (date(2026, 9, 16), 21.4),
        (date(2026, 9, 17), 16.6),
    ]
    # and read on the 14th (a clock set back), it does not cover today: refused
    before = fetch_all(
        build_sources(config), snaps, session=session, now=datetime(2026, 9, 14, 23, tzinfo=SAMARA)
    )
    assert before[WEATHER].last_error == "Weather: forecast does not cover today (2026-09-14)"
    assert before[WEATHER].data == snaps[WEATHER].data


def test_open_meteo_beijing_one_day_after_midnight(tmp_path, httpserver, session) -> None:
    httpserver.expect_request("/v1/forecast").respond_with_json(real("om_beijing_2026-09-29.json"))
    config = open_meteo_config(
        tmp_path, httpserver.url_for("/"), zone="Asia/Shanghai", lat=39.9, lon=116.36
    )
    source = build_sources(config)[0]
    assert isinstance(source, OpenMeteoSource)
    now = datetime(2026, 9, 29, 0, 50, tzinfo=SHANGHAI)  # 16:50 UTC on the 28th
    snaps = fetch_all([source], {}, session=session, now=now)
    state = compose(config, snaps, now)
    assert state.date == date(2026, 9, 29)
    cur = state.current
    assert cur is not None and (cur.temperature, cur.apparent, cur.category) == (
        18.8,
        19.8,
        "overcast",
    )
    assert cur.observed_at == datetime(2026, 9, 29, 0, 45, tzinfo=SHANGHAI)
    today = state.days[0].forecast
    assert today is not None
    assert (today.high, today.low, today.precip_chance, today.code, today.category) == (
        26.2,
        17.2,
        47,
        51,
        "drizzle",
    )
    assert all(d.forecast is None for d in state.days[1:])  # forecast_days=1: nothing more


# --------------------------------------------------------------------------- #
# NWS
# --------------------------------------------------------------------------- #


def serve(httpserver, path: str, name: str) -> None:
    """Serve a real NWS payload, its api.weather.gov links pointing at the local server."""
    base = httpserver.url_for("/").rstrip("/")
    text = (REAL_WORLD / name).read_text(encoding="utf-8").replace(NWS_HOST, base)
    httpserver.expect_request(path).respond_with_data(text, content_type="application/geo+json")


def nws_config(tmp_path: Path, base: str, *, lat: float, lon: float, units: str) -> Any:
    return write_config(
        tmp_path,
        f"""
        timezone: America/New_York
        units: {units}
        location: {{latitude: {lat}, longitude: {lon}}}
        layout: {{days: 7}}
        weather: {{provider: nws, base_url: {base}, contact: family@example.com}}
        """,
    )


def test_nws_anderson_in_the_evening(tmp_path, httpserver, session) -> None:
    # Generated 2022-03-06T01:57Z: 20:57 on Saturday 5 March in South Carolina. The first
    # period is "Tonight", so today has a low and no high.
    serve(httpserver, "/points/34.5034,-82.6501", "nws_anderson_points.json")
    serve(httpserver, "/gridpoints/GSP/55,25/forecast", "nws_anderson_forecast.json")
    serve(httpserver, "/gridpoints/GSP/55,25/stations", "pynws_gridpoints_stations.json")
    serve(
        httpserver,
        "/stations/KCMH/observations",
        "pynws_stations_observations_multiple_unsorted.json",
    )
    config = nws_config(
        tmp_path, httpserver.url_for("/"), lat=34.5034, lon=-82.6501, units="imperial"
    )
    now = datetime(2022, 3, 5, 21, 0, tzinfo=NEW_YORK)
    snaps = fetch_all(build_sources(config), {}, session=session, now=now)
    assert snaps[WEATHER].last_error is None
    paths = [r.path for r, _ in httpserver.log]
    assert paths == [
        "/points/34.5034,-82.6501",
        "/gridpoints/GSP/55,25/forecast",
        "/gridpoints/GSP/55,25/stations",
        "/stations/KCMH/observations",
    ]
    state = compose(config, snaps, now)
    shown = [
        (d.date, d.forecast.high, d.forecast.low, d.forecast.category)
        for d in state.days
        if d.forecast is not None
    ]
    assert shown == [
        (date(2022, 3, 5), None, 54, "overcast"),  # Tonight: mostly cloudy (bkn)
        (date(2022, 3, 6), 78, 57, "overcast"),  # Sunday 78, Sunday Night 57
        (date(2022, 3, 7), 79, 56, "showers"),  # "Chance Rain Showers"
        (date(2022, 3, 8), 70, 50, "rain"),
        (date(2022, 3, 9), 60, 46, "rain"),
        (date(2022, 3, 10), 60, 46, "showers"),  # "Chance Light Rain then Chance Rain Showers"
        (date(2022, 3, 11), 68, 44, "rain"),
    ]
    # the 2022 format has no chance of precipitation: none is made up
    assert all(d.forecast.precip_chance is None for d in state.days if d.forecast)
    # the 2019 observations are far too old: "now" is the Tonight period
    cur = state.current
    assert cur is not None
    assert (cur.temperature, cur.category, cur.is_day, cur.observed_at) == (
        54,
        "overcast",
        False,
        None,
    )


def test_nws_rochester_snow_on_a_metric_board(tmp_path, httpserver, session) -> None:
    # pynws' points (30,-85 -> TAE 58,65) serve Rochester's forecast of 5 January 2025,
    # generated at 18:02 EST, in °F though the board asks for SI: converted to °C.
    serve(httpserver, "/points/30,-85", "pynws_points.json")
    serve(httpserver, "/gridpoints/TAE/58,65/forecast", "nws_rochester_forecast.json")
    serve(httpserver, "/gridpoints/TAE/58,65/stations", "pynws_gridpoints_stations.json")
    serve(
        httpserver,
        "/stations/KCMH/observations",
        "pynws_stations_observations_missing_value.json",
    )
    config = nws_config(tmp_path, httpserver.url_for("/"), lat=30.0, lon=-85.0, units="metric")
    source = build_sources(config)[0]
    assert isinstance(source, NWSSource)
    now = datetime(2025, 1, 5, 18, 30, tzinfo=NEW_YORK)
    weather = source.fetch(session=session, now=now)

    def c(f: float) -> float:
        return pytest.approx((f - 32) * 5 / 9)  # type: ignore[no-any-return]

    days = {f.date: f for f in weather.daily}
    assert sorted(days) == [date(2025, 1, 5) + timedelta(days=i) for i in range(8)]
    sunday5, monday, friday, sunday12 = (days[date(2025, 1, d)] for d in (5, 6, 10, 12))
    assert (sunday5.high, sunday5.low, sunday5.precip_chance, sunday5.category) == (
        None,
        c(19),
        60,
        "snow",
    )
    assert (monday.high, monday.low, monday.precip_chance, monday.category) == (
        c(23),
        c(18),
        50,
        "snow",
    )
    # Friday's own chance is null; Friday Night's 40 % is the day's
    assert (friday.high, friday.low, friday.precip_chance, friday.category) == (
        c(27),
        c(18),
        40,
        "overcast",
    )
    # the last period is Sunday's day: no night after it, no low, no chance given
    assert (sunday12.high, sunday12.low, sunday12.precip_chance) == (c(29), None, None)
    # every observation is null: "now" is the Tonight period
    cur = weather.current
    assert cur is not None
    assert (cur.temperature, cur.category, cur.is_day) == (c(19), "snow", False)


def test_nws_observations_skip_an_impossible_reading() -> None:
    # pynws' station sample: 10:50Z reads -100 °C (dewpoint -100, wind 1000 m/s), 10:53Z
    # reads 10 °C. No thermometer in Fort Lauderdale read -100 °C.
    features = real("pynws_stations_observations_multiple_unsorted.json")["features"]
    at_1055 = datetime(2019, 6, 27, 10, 55, tzinfo=UTC)
    cur = newest_observation(features, now=at_1055, tz=NEW_YORK, imperial=True)
    assert cur is not None
    assert cur.temperature == pytest.approx(50.0)
    assert cur.observed_at == datetime(2019, 6, 27, 6, 53, tzinfo=NEW_YORK)
    assert (cur.category, cur.is_day) == ("mostly_clear", True)
    # at 10:40Z only the -100 °C reading is in range (10:53Z lies 13 minutes ahead):
    # no observation, so the forecast stands in
    at_1040 = datetime(2019, 6, 27, 10, 40, tzinfo=UTC)
    assert newest_observation(features, now=at_1040, tz=NEW_YORK, imperial=False) is None
    # a station answer whose only observation has no values at all
    empty = real("pynws_stations_observations_missing_value.json")["features"]
    assert newest_observation(empty, now=at_1055, tz=NEW_YORK, imperial=True) is None
