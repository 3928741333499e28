"""Open-Meteo: one request in the board's units and zone, nulls as placeholders, failures alone."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sources_fixtures import (
    BERLIN,
    LA,
    NOW,
    closed_port,
    data,
    read_json,
    requests_to,
    session,
    silent_server,
    write_config,
)
from werkzeug import Response

from homeboard.model import WEATHER, Snapshot, WeatherData, calendar_source, compose
from homeboard.sources import build_sources, fetch_all
from homeboard.sources.open_meteo import ATTRIBUTION, OpenMeteoSource

__all__ = ["session", "silent_server"]


def make_config(tmp_path: Path, base_url: str, *, extra: str = "") -> object:
    return write_config(tmp_path, f"""
        timezone: America/Los_Angeles
        units: imperial
        location: {{latitude: 37.6819, longitude: -121.768, name: Livermore}}
        weather:
          provider: open-meteo
          base_url: {base_url}
          max_age: 3h
          {extra}
        calendars:
          - name: Family
            color: red
            ics_url: {data('ics/family.ics')}
        special_events:
          - {{name: Corinne, kind: birthday, date: "2017-01-20"}}
    """)


def serve_forecast(httpserver, payload: str = "open_meteo/forecast_imperial.json") -> None:
    httpserver.expect_request("/v1/forecast").respond_with_json(read_json(payload))


def weather_source(config) -> OpenMeteoSource:
    source = build_sources(config)[0]
    assert isinstance(source, OpenMeteoSource)
    return source


def test_one_request_in_the_boards_units_and_zone(tmp_path, httpserver, session) -> None:
    serve_forecast(httpserver)
    config = make_config(tmp_path, httpserver.url_for("/").rstrip("/"))
    weather = weather_source(config).fetch(session=session, now=NOW)

    (req,) = requests_to(httpserver)
    assert req.path == "/v1/forecast"
    q = req.args
    assert (q["latitude"], q["longitude"]) == ("37.6819", "-121.7680")
    assert q["timezone"] == "America/Los_Angeles"
    assert q["temperature_unit"] == "fahrenheit" and q["precipitation_unit"] == "inch"
    assert q["forecast_days"] == "5"  # four columns, plus one for the frame after midnight
    assert q["current"].split(",") == [
        "temperature_2m", "apparent_temperature", "weather_code", "is_day"]
    assert set(q["daily"].split(",")) == {
        "weather_code", "temperature_2m_max", "temperature_2m_min",
        "precipitation_probability_max"}
    assert "apikey" not in q

    assert weather.attribution == ATTRIBUTION == "Weather: Open-Meteo.com (CC BY 4.0)"
    cur = weather.current
    assert cur is not None
    assert (cur.temperature, cur.apparent, cur.code, cur.category, cur.is_day) == (
        48.3, 45.1, 2, "partly_cloudy", True)
    assert cur.observed_at == datetime(2025, 1, 20, 9, 0, tzinfo=LA)
    assert [f.date for f in weather.daily] == [date(2025, 1, 20) + timedelta(days=i)
                                               for i in range(5)]
    assert [f.category for f in weather.daily] == [
        "partly_cloudy", "rain", "showers", "clear", "overcast"]
    tue = weather.daily[1]
    assert (tue.high, tue.low, tue.precip_chance, tue.code) == (55.2, 44.1, 85, 61)


def test_nulls_and_unknown_codes_become_placeholders(tmp_path, httpserver, session) -> None:
    serve_forecast(httpserver, "open_meteo/forecast_nulls.json")
    config = make_config(tmp_path, httpserver.url_for("/").rstrip("/"))
    weather = weather_source(config).fetch(session=session, now=NOW)
    cur = weather.current
    assert cur is not None
    assert (cur.temperature, cur.category, cur.code, cur.is_day) == (None, "unknown", None, True)
    assert [f.category for f in weather.daily] == [
        "partly_cloudy", "unknown", "unknown", "clear", "overcast"]
    assert weather.daily[1].high is None
    assert weather.daily[3].high == 61.0  # a number sent as a string
    assert [f.precip_chance for f in weather.daily] == [5, 85, None, None, None]
    # and the board draws it
    state = compose(config, {WEATHER: Snapshot(WEATHER, "weather", weather, NOW, NOW)}, NOW)
    assert state.current == cur and state.days[1].forecast is not None


def test_metric_and_a_dst_night(tmp_path, httpserver, session) -> None:
    # Europe/Berlin, the night the clocks go forward: daily dates stay dates, the
    # current time is local wall time in the board's zone.
    httpserver.expect_request("/v1/forecast").respond_with_json(
        read_json("open_meteo/forecast_metric_dst.json"))
    source = OpenMeteoSource(latitude=52.52, longitude=13.405, tz=BERLIN,
                             timezone="Europe/Berlin", days=2, units="metric",
                             base_url=httpserver.url_for("/"))
    now = datetime(2025, 3, 29, 23, 50, tzinfo=BERLIN)
    weather = source.fetch(session=session, now=now)
    q = requests_to(httpserver)[0].args
    assert q["temperature_unit"] == "celsius" and q["wind_speed_unit"] == "kmh"
    assert weather.current is not None
    assert weather.current.observed_at == datetime(2025, 3, 29, 23, 45, tzinfo=BERLIN)
    assert weather.current.is_day is False and weather.current.category == "fog"
    assert [f.date for f in weather.daily] == [date(2025, 3, 29), date(2025, 3, 30),
                                               date(2025, 3, 31)]
    assert [f.category for f in weather.daily] == ["overcast", "thunderstorm", "snow"]
    assert weather.daily[2].low == -1.6


def test_commercial_key_is_sent_and_never_shown(tmp_path, httpserver, session, caplog) -> None:
    key = tmp_path / "om.key"
    key.write_text("0pen-Me7eo-KEY\n")
    httpserver.expect_request("/v1/forecast").respond_with_json(
        {"error": True, "reason": "API key 0pen-Me7eo-KEY is not valid"}, status=400)
    config = make_config(tmp_path, httpserver.url_for("/").rstrip("/"),
                         extra=f"api_key_file: {key}")
    snaps = fetch_all(build_sources(config), {}, session=session, now=NOW)
    assert requests_to(httpserver)[0].args["apikey"] == "0pen-Me7eo-KEY"
    error = snaps[WEATHER].last_error or ""
    assert error.startswith("Weather: HTTP 400 bad request")
    assert "0pen-Me7eo-KEY" not in error
    assert "0pen-Me7eo-KEY" not in "".join(
        r.getMessage() for r in caplog.records if not r.name.startswith("werkzeug"))


def test_commercial_host_is_the_default_with_a_key(tmp_path) -> None:
    key = tmp_path / "om.key"
    key.write_text("k")
    config = write_config(tmp_path, f"""
        location: {{latitude: 1, longitude: 2}}
        weather: {{api_key_file: {key}}}
    """)
    assert weather_source(config).base_url == "https://customer-api.open-meteo.com"
    config = write_config(tmp_path, "location: {latitude: 1, longitude: 2}\n")
    assert weather_source(config).base_url == "https://api.open-meteo.com"


# --------------------------------------------------------------------------- #
# Each failure kind: the weather keeps its last good data, marked stale; the
# calendars and special days are untouched.
# --------------------------------------------------------------------------- #


def _fail_with(kind: str, httpserver, silent: str) -> tuple[str | None, str]:
    """Arrange the failure; return (base_url override or None, expected reason)."""
    route = httpserver.expect_request("/v1/forecast")
    if kind == "timeout":
        return silent, "timed out waiting for the server"
    if kind == "refused":
        return f"http://127.0.0.1:{closed_port()}", "connection refused"
    if kind == "503":
        route.respond_with_data("Service Unavailable", status=503)
        return None, "HTTP 503 service unavailable"
    if kind == "404":
        route.respond_with_data("Not Found", status=404)
        return None, "HTTP 404 not found"
    if kind == "400":
        route.respond_with_json(read_json("open_meteo/error_400.json"), status=400)
        return None, "HTTP 400 bad request: Cannot initialize WeatherVariable"
    if kind == "429":
        route.respond_with_json(read_json("open_meteo/error_429_daily.json"), status=429,
                                headers={"Retry-After": "3600"})
        return None, "HTTP 429 rate limited: Daily API request limit exceeded"
    if kind == "html":
        route.respond_with_data("<html><body>502 Bad Gateway</body></html>",
                                content_type="text/html")
        return None, "malformed JSON (text/html)"
    if kind == "truncated":
        route.respond_with_response(Response('{"latitude": 37.69, "current": {"time": "20',
                                             content_type="application/json"))
        return None, "malformed JSON (application/json)"
    if kind == "null-current":
        route.respond_with_json(read_json("open_meteo/forecast_null_current.json"))
        return None, "malformed response: 'current' is missing"
    if kind == "missing-daily":
        route.respond_with_json(read_json("open_meteo/forecast_missing_daily.json"))
        return None, "malformed response: 'daily' is missing"
    if kind == "wrong-days":
        payload = read_json("open_meteo/forecast_imperial.json")
        payload["daily"]["time"] = ["2025-01-19", "2025-01-20x", "2025-01-21", "2025-01-22",
                                    "2025-01-23"]
        route.respond_with_json(payload)
        return None, "malformed response: daily date"
    raise AssertionError(kind)


FAILURES = ["timeout", "refused", "503", "404", "400", "429", "html", "truncated",
            "null-current", "missing-daily", "wrong-days"]


@pytest.mark.parametrize("kind", FAILURES)
def test_failure_keeps_last_good_weather_and_leaves_the_rest(
    kind: str, tmp_path, httpserver, session, silent_server: str, caplog,
) -> None:
    base = httpserver.url_for("/").rstrip("/")
    config = make_config(tmp_path, base)
    earlier = NOW - timedelta(hours=4)  # older than weather.max_age (3h)

    serve_forecast(httpserver)
    good = fetch_all(build_sources(config), {}, session=session, now=earlier)
    assert good[WEATHER].last_error is None
    httpserver.clear()

    override, reason = _fail_with(kind, httpserver, silent_server)
    sources = build_sources(make_config(tmp_path, override) if override else config)
    sources[0].timeout = (0.5, 0.3)  # type: ignore[attr-defined]
    caplog.clear()
    after = fetch_all(sources, good, session=session, now=NOW)

    snap = after[WEATHER]
    assert snap.data == good[WEATHER].data  # last good data kept
    assert snap.fetched_at == earlier and snap.changed_at == earlier
    assert snap.attempted_at == NOW
    assert snap.last_error is not None and snap.last_error.startswith(f"Weather: {reason}")
    warnings = [r for r in caplog.records if r.name == "homeboard.sources"
                and r.levelname == "WARNING"]
    assert len(warnings) == 1 and reason in warnings[0].getMessage()

    family = after[calendar_source("Family")]
    assert family.last_error is None and family.fetched_at == NOW  # untouched by the failure

    state = compose(config, after, NOW)
    weather_state = state.source(WEATHER)
    assert weather_state is not None and weather_state.status == "stale"
    assert weather_state.last_error == snap.last_error
    assert state.current is not None and state.current.temperature == 48.3  # still shown
    assert state.days[1].forecast is not None and state.days[1].forecast.high == 55.2
    assert state.source(calendar_source("Family")).status == "fresh"  # type: ignore[union-attr]
    assert any(e.title == "Swim class (late)" for e in state.days[0].events)
    assert state.days[0].special is not None and state.days[0].special.kind == "birthday"


def test_failure_without_earlier_data_is_unavailable(tmp_path, httpserver, session) -> None:
    httpserver.expect_request("/v1/forecast").respond_with_data("down", status=503)
    config = make_config(tmp_path, httpserver.url_for("/").rstrip("/"))
    snaps = fetch_all(build_sources(config), {}, session=session, now=NOW)
    assert snaps[WEATHER].data is None and snaps[WEATHER].fetched_at is None
    state = compose(config, snaps, NOW)
    assert state.source(WEATHER).status == "unavailable"  # type: ignore[union-attr]
    assert state.current is None and all(d.forecast is None for d in state.days)
    assert state.source(calendar_source("Family")).status == "fresh"  # type: ignore[union-attr]


def test_parse_errors_never_crash_on_odd_shapes() -> None:
    from homeboard.errors import SourceError
    from homeboard.sources.open_meteo import parse_forecast

    for body in (None, [], "x", {"current": [], "daily": {}}, {"current": {}, "daily": {"time": 3}},
                 {"current": {}, "daily": {"time": ["2025-01-20"], "weather_code": [1]}}):
        with pytest.raises(SourceError):
            parse_forecast(body, tz=LA, today=date(2025, 1, 20))
    odd = parse_forecast(
        {"current": {"temperature_2m": "warm", "weather_code": True, "is_day": "1", "time": 5,
                     "apparent_temperature": "-4.5"},
         "daily": {"time": ["2025-01-20"], "weather_code": [3.0],
                   "temperature_2m_max": [float("nan")], "temperature_2m_min": [-3],
                   "precipitation_probability_max": [140]}},
        tz=LA, today=date(2025, 1, 20))
    assert isinstance(odd, WeatherData) and odd.current is not None
    assert (odd.current.temperature, odd.current.category, odd.current.observed_at) == (
        None, "unknown", None)
    assert (odd.current.apparent, odd.current.is_day) == (-4.5, True)
    assert (odd.daily[0].category, odd.daily[0].high, odd.daily[0].precip_chance) == (
        "overcast", None, None)  # a 140 % chance is no chance anyone can draw


def _payload_with(**changes: object) -> dict:  # type: ignore[type-arg]
    payload = read_json("open_meteo/forecast_imperial.json")
    for key, value in changes.items():
        block, name = key.split("__")
        payload[block][name] = value
    return payload


def test_absurd_values_become_unknown_and_never_reach_the_frame(tmp_path) -> None:
    from homeboard.render import render
    from homeboard.sources.open_meteo import parse_forecast

    body = _payload_with(
        current__temperature_2m=99999, current__apparent_temperature=45.1,
        current__weather_code=12345, current__is_day=7,
        daily__temperature_2m_max=[1e308, -1e308, 55.0, 180.0, 60.0],
        daily__temperature_2m_min=[-200.0, 40.0, "1e999", 41.0, 42.0],
        daily__precipitation_probability_max=[140, -5, 50.4, None, 100],
        daily__weather_code=[2.5, -1, 100, 61, 3],
    )
    weather = parse_forecast(body, tz=LA, today=date(2025, 1, 20), fahrenheit=True)
    cur = weather.current
    assert cur is not None
    assert (cur.temperature, cur.apparent, cur.code, cur.category, cur.is_day) == (
        None, 45.1, None, "unknown", True)
    assert [(f.high, f.low) for f in weather.daily] == [
        (None, None), (None, 40.0), (55.0, None), (None, 41.0), (60.0, 42.0)]
    assert [f.precip_chance for f in weather.daily] == [None, None, 50, None, 100]
    assert [f.code for f in weather.daily] == [None, None, None, 61, 3]
    assert [f.category for f in weather.daily][:3] == ["unknown"] * 3
    # 130 °F is a record heat, not an error; -130 °F is past any air ever measured
    hot = _payload_with(current__temperature_2m=130.0, current__apparent_temperature=-130.0)
    hot_now = parse_forecast(hot, tz=LA, today=date(2025, 1, 20), fahrenheit=True).current
    assert hot_now is not None and (hot_now.temperature, hot_now.apparent) == (130.0, -130.0)
    cold = parse_forecast(_payload_with(current__temperature_2m=-140.0,
                                        current__apparent_temperature=1e308),
                          tz=LA, today=date(2025, 1, 20), fahrenheit=True).current
    assert cold is not None and (cold.temperature, cold.apparent, cold.code) == (None, None, 2)
    # the same number means another temperature in °C: the answer's own units decide
    celsius = _payload_with(current__temperature_2m=70.0)
    celsius["current_units"]["temperature_2m"] = "°C"
    assert parse_forecast(celsius, tz=LA, today=date(2025, 1, 20),
                          fahrenheit=True).current.temperature is None  # type: ignore[union-attr]
    # and the frame is drawn from it without a crash
    config = make_config(tmp_path, "http://127.0.0.1:9")
    state = compose(config, {WEATHER: Snapshot(WEATHER, "weather", weather, NOW, NOW)}, NOW)
    assert render(state, (800, 480)).size == (800, 480)


@pytest.mark.parametrize("which", ["all-null", "all-absurd"])
def test_an_answer_with_nothing_usable_keeps_the_last_good_forecast(
    which: str, tmp_path, httpserver, session,
) -> None:
    base = httpserver.url_for("/").rstrip("/")
    config = make_config(tmp_path, base)
    earlier = NOW - timedelta(hours=4)  # older than weather.max_age (3h)
    serve_forecast(httpserver)
    good = fetch_all(build_sources(config), {}, session=session, now=earlier)
    httpserver.clear()

    bad = None if which == "all-null" else 99999
    payload = _payload_with(
        current__temperature_2m=bad, current__apparent_temperature=bad,
        current__weather_code=bad, current__is_day=bad,
        daily__temperature_2m_max=[bad] * 5, daily__temperature_2m_min=[bad] * 5,
        daily__precipitation_probability_max=[bad] * 5, daily__weather_code=[bad] * 5,
    )
    httpserver.expect_request("/v1/forecast").respond_with_json(payload)
    after = fetch_all(build_sources(config), good, session=session, now=NOW)
    snap = after[WEATHER]
    assert snap.data == good[WEATHER].data and snap.fetched_at == earlier
    assert snap.last_error is not None and "no usable" in snap.last_error
    state = compose(config, after, NOW)
    assert state.source(WEATHER).status == "stale"  # type: ignore[union-attr]
    assert state.current is not None and state.current.temperature == 48.3
    # half an answer is no answer either: good days but nothing for now
    httpserver.clear()
    half = _payload_with(current__temperature_2m=None, current__apparent_temperature=None,
                         current__weather_code=None)
    httpserver.expect_request("/v1/forecast").respond_with_json(half)
    again = fetch_all(build_sources(config), good, session=session, now=NOW)
    assert again[WEATHER].data == good[WEATHER].data
    assert "no usable current" in again[WEATHER].last_error  # type: ignore[operator]


def test_the_forecast_must_start_today(tmp_path, httpserver, session) -> None:
    # Daily dates for another zone (or a cached answer from yesterday's server) would
    # shift every column by a day: better the last good forecast, marked stale.
    from homeboard.errors import SourceError
    from homeboard.sources.open_meteo import parse_forecast

    tomorrow_on = _payload_with(daily__time=["2025-01-21", "2025-01-22", "2025-01-23",
                                             "2025-01-24", "2025-01-25"])
    with pytest.raises(SourceError, match=r"forecast does not cover today \(2025-01-20\)"):
        parse_forecast(tomorrow_on, tz=LA, today=date(2025, 1, 20))
    gap = _payload_with(daily__time=["2025-01-19", "2025-01-21", "2025-01-22",
                                     "2025-01-23", "2025-01-24"])
    with pytest.raises(SourceError, match="forecast does not cover today"):
        parse_forecast(gap, tz=LA, today=date(2025, 1, 20))
    # yesterday's first day is dropped: today is the first column
    from_yesterday = _payload_with(daily__time=["2025-01-19", "2025-01-20", "2025-01-21",
                                                "2025-01-22", "2025-01-23"])
    shifted = parse_forecast(from_yesterday, tz=LA, today=date(2025, 1, 20))
    assert [f.date for f in shifted.daily][0] == date(2025, 1, 20)
    assert shifted.daily[0].high == 55.2  # the second value: Tuesday's in the recording
    # and through the source: the answer fetched on the 20th, read on the 21st
    serve_forecast(httpserver)
    config = make_config(tmp_path, httpserver.url_for("/").rstrip("/"))
    with pytest.raises(SourceError, match=r"forecast does not cover today \(2025-01-19\)"):
        weather_source(config).fetch(session=session, now=NOW - timedelta(days=1))
