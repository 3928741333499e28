"""NWS: points → forecast + observations, cached points redone on 404, day/night merged, nulls."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sources_fixtures import LA, NOW, read_json, requests_to, session, silent_server, write_config

from homeboard.model import WEATHER, compose
from homeboard.sources import build_sources, fetch_all
from homeboard.sources.nws import ATTRIBUTION, NWSSource, icon_category, text_category

__all__ = ["session", "silent_server"]

GRID = "/gridpoints/MTR/106,97"
MOVED = "/gridpoints/MTR/107,98"
POINTS = "/points/37.6819,-121.768"
OBS = "/stations/KLVK/observations"


def make_config(tmp_path, base: str):
    return write_config(tmp_path, f"""
        timezone: America/Los_Angeles
        units: imperial
        location: {{latitude: 37.6819, longitude: -121.768}}
        weather:
          provider: nws
          base_url: {base}
          contact: family@example.com
        calendars:
          - name: Family
            ics_url: {tmp_path / 'family.ics'}
    """)


def serve_nws(httpserver, *, observations: str = "nws/observations.json") -> str:
    base = httpserver.url_for("/").rstrip("/")
    httpserver.expect_request(POINTS).respond_with_json(read_json("nws/points.json", nws_base=base))
    httpserver.expect_request(f"{GRID}/forecast").respond_with_json(
        read_json("nws/forecast.json", nws_base=base))
    httpserver.expect_request(f"{GRID}/stations").respond_with_json(
        read_json("nws/stations.json", nws_base=base))
    httpserver.expect_request(OBS).respond_with_json(read_json(observations, nws_base=base))
    return base


def make_source(base: str, **kw) -> NWSSource:
    return NWSSource(latitude=37.6819, longitude=-121.768, tz=LA, days=4,
                     contact="family@example.com", units=kw.pop("units", "imperial"),
                     base_url=base, **kw)


def test_flow_and_request_count(httpserver, session) -> None:
    base = serve_nws(httpserver)
    source = make_source(base)
    weather = source.fetch(session=session, now=NOW)
    paths = [r.path for r in requests_to(httpserver)]
    assert paths == [POINTS, f"{GRID}/forecast", f"{GRID}/stations", OBS]
    forecast_req = requests_to(httpserver, f"{GRID}/forecast")[0]
    assert forecast_req.args["units"] == "us"
    assert requests_to(httpserver, OBS)[0].args["limit"] == "6"
    ua = forecast_req.headers["User-Agent"]
    assert "homeboard/" in ua and "family@example.com" in ua  # NWS asks for a contact

    # Steady state: the points and the station are cached, two requests per refresh.
    httpserver.clear_log()
    source.fetch(session=session, now=NOW + timedelta(minutes=15))
    assert [r.path for r in requests_to(httpserver)] == [f"{GRID}/forecast", OBS]
    assert weather.attribution == ATTRIBUTION


def test_day_and_night_merge_into_daily_high_low(httpserver, session) -> None:
    weather = make_source(serve_nws(httpserver)).fetch(session=session, now=NOW)
    days = {f.date: f for f in weather.daily}
    assert sorted(days) == [date(2025, 1, 20) + timedelta(days=i) for i in range(5)]
    mon, tue, wed, thu, fri = (days[date(2025, 1, d)] for d in (20, 21, 22, 23, 24))
    assert (mon.high, mon.low, mon.precip_chance, mon.category) == (58, 40, 20, "partly_cloudy")
    assert (tue.high, tue.low, tue.precip_chance, tue.category) == (55, 44, 80, "rain")
    # "tsra,40/sct": the more severe token wins
    assert wed.category == "thunderstorm" and wed.low == 42
    # unknown icon token "clr": the short forecast ("Sunny") decides; a string temperature
    assert thu.category == "clear" and thu.high == 61.0
    # no icon at all, "Patchy Smoke"; a null night temperature
    assert fri.category == "fog" and fri.low is None


def test_newest_observation_with_a_temperature(httpserver, session) -> None:
    weather = make_source(serve_nws(httpserver)).fetch(session=session, now=NOW)
    cur = weather.current
    assert cur is not None
    # the newest (16:53Z) has a null temperature; the 15:53Z one is used, in °F
    assert cur.observed_at == datetime(2025, 1, 20, 7, 53, tzinfo=LA)
    assert cur.temperature == pytest.approx(48.02)
    assert cur.apparent == pytest.approx(44.96)  # wind chill
    assert (cur.category, cur.is_day) == ("mostly_clear", True)


def test_metric_board_converts(httpserver, session) -> None:
    base = serve_nws(httpserver)
    weather = make_source(base, units="metric").fetch(session=session, now=NOW)
    assert requests_to(httpserver, f"{GRID}/forecast")[0].args["units"] == "si"
    assert weather.current is not None and weather.current.temperature == pytest.approx(8.9)
    # the fixture answers in °F anyway (as a cached response might): converted
    assert weather.daily[0].high == pytest.approx((58 - 32) * 5 / 9)


def test_stale_observations_fall_back_to_the_forecast(httpserver, session) -> None:
    base = serve_nws(httpserver, observations="nws/observations_stale.json")
    weather = make_source(base).fetch(session=session, now=NOW)
    cur = weather.current
    assert cur is not None
    assert (cur.temperature, cur.category, cur.observed_at) == (58, "partly_cloudy", None)


def test_failed_observations_fall_back_to_the_forecast(httpserver, session) -> None:
    base = httpserver.url_for("/").rstrip("/")
    httpserver.expect_request(POINTS).respond_with_json(read_json("nws/points.json", nws_base=base))
    httpserver.expect_request(f"{GRID}/forecast").respond_with_json(
        read_json("nws/forecast.json", nws_base=base))
    httpserver.expect_request(f"{GRID}/stations").respond_with_json(
        read_json("nws/stations.json", nws_base=base))
    httpserver.expect_request(OBS).respond_with_data("gone", status=404)
    weather = make_source(base).fetch(session=session, now=NOW)
    assert weather.current is not None and weather.current.temperature == 58
    assert len(weather.daily) == 5


def test_gridpoint_404_redoes_the_points_lookup(httpserver, session) -> None:
    base = serve_nws(httpserver)
    source = make_source(base)
    source.fetch(session=session, now=NOW)

    # NWS moved the grid: the old gridpoint answers 404, the point now names another.
    httpserver.clear()
    httpserver.expect_request(f"{GRID}/forecast").respond_with_json(
        read_json("nws/problem_marine_404.json"), status=404,
        content_type="application/problem+json")
    httpserver.expect_request(POINTS).respond_with_json(
        read_json("nws/points_moved.json", nws_base=base))
    httpserver.expect_request(f"{MOVED}/forecast").respond_with_json(
        read_json("nws/forecast.json", nws_base=base))
    httpserver.expect_request(f"{MOVED}/stations").respond_with_json(
        read_json("nws/stations.json", nws_base=base))
    httpserver.expect_request(OBS).respond_with_json(read_json("nws/observations.json",
                                                               nws_base=base))
    weather = source.fetch(session=session, now=NOW + timedelta(minutes=15))
    assert [r.path for r in requests_to(httpserver)] == [
        f"{GRID}/forecast", POINTS, f"{MOVED}/forecast", f"{MOVED}/stations", OBS]
    assert len(weather.daily) == 5


def test_grid_expired_503_keeps_the_last_forecast(tmp_path, httpserver, session, caplog) -> None:
    (tmp_path / "family.ics").write_text("BEGIN:VCALENDAR\nVERSION:2.0\nEND:VCALENDAR\n")
    base = serve_nws(httpserver)
    config = make_config(tmp_path, base)
    sources = build_sources(config)
    earlier = NOW - timedelta(hours=4)
    good = fetch_all(sources, {}, session=session, now=earlier)
    assert good[WEATHER].last_error is None

    httpserver.clear()
    httpserver.expect_request(f"{GRID}/forecast").respond_with_json(
        read_json("nws/problem_grid_expired.json"), status=503,
        content_type="application/problem+json")
    caplog.clear()
    after = fetch_all(sources, good, session=session, now=NOW)
    assert len(requests_to(httpserver, f"{GRID}/forecast")) == 3  # two bounded retries
    snap = after[WEATHER]
    assert snap.last_error == "Weather: HTTP 503 service unavailable: Forecast Grid Expired"
    assert snap.data == good[WEATHER].data and snap.fetched_at == earlier
    state = compose(config, after, NOW)
    assert state.source(WEATHER).status == "stale"  # type: ignore[union-attr]
    assert state.days[0].forecast is not None and state.days[0].forecast.high == 58
    assert state.source("calendar:Family").status == "fresh"  # type: ignore[union-attr]


def test_forecast_in_the_evening_has_only_a_night_for_today(httpserver, session) -> None:
    base = serve_nws(httpserver)
    evening = datetime(2025, 1, 20, 19, 0, tzinfo=LA)
    payload = read_json("nws/forecast.json", nws_base=base)
    payload["properties"]["periods"] = payload["properties"]["periods"][1:]
    httpserver.clear()
    httpserver.expect_request(POINTS).respond_with_json(read_json("nws/points.json", nws_base=base))
    httpserver.expect_request(f"{GRID}/forecast").respond_with_json(payload)
    httpserver.expect_request(f"{GRID}/stations").respond_with_data("x", status=500)
    weather = make_source(base).fetch(session=session, now=evening)
    today = weather.daily[0]
    assert (today.date, today.high, today.low, today.category) == (date(2025, 1, 20), None, 40,
                                                                   "rain")
    assert weather.current is not None and weather.current.is_day is False


def serve_periods(httpserver, periods: list) -> str:  # type: ignore[type-arg]
    """The recorded points and stations, a forecast with ``periods``, no observations."""
    base = httpserver.url_for("/").rstrip("/")
    payload = read_json("nws/forecast.json", nws_base=base)
    payload["properties"]["periods"] = periods
    httpserver.expect_request(POINTS).respond_with_json(read_json("nws/points.json", nws_base=base))
    httpserver.expect_request(f"{GRID}/forecast").respond_with_json(payload)
    httpserver.expect_request(f"{GRID}/stations").respond_with_data("x", status=500)
    return base


def period(name: str, start: str, end: str, day: bool, temp: object, pop: object = None,
           icon: str = "/icons/land/night/sct?size=medium") -> dict:  # type: ignore[type-arg]
    return {"name": name, "startTime": start, "endTime": end, "isDaytime": day,
            "temperature": temp, "temperatureUnit": "F", "icon": icon,
            "probabilityOfPrecipitation": {"unitCode": "wmoUnit:percent", "value": pop},
            "shortForecast": "Partly Cloudy"}


def test_overnight_fetched_after_midnight_is_last_night_not_todays_low(
    httpserver, session
) -> None:
    # At 02:00 NWS starts with "Overnight" (until 06:00): the end of the night that began
    # yesterday evening. Today's low is the coming night's, "Tuesday Night".
    base = serve_periods(httpserver, [
        period("Overnight", "2025-01-21T02:00:00-08:00", "2025-01-21T06:00:00-08:00", False, 31,
               pop=70),
        period("Tuesday", "2025-01-21T06:00:00-08:00", "2025-01-21T18:00:00-08:00", True, 55,
               pop=10, icon="/icons/land/day/sct?size=medium"),
        period("Tuesday Night", "2025-01-21T18:00:00-08:00", "2025-01-22T06:00:00-08:00", False,
               44, pop=20),
        period("Wednesday", "2025-01-22T06:00:00-08:00", "2025-01-22T18:00:00-08:00", True, 54,
               icon="/icons/land/day/rain?size=medium"),
    ])
    two_am = datetime(2025, 1, 21, 2, 5, tzinfo=LA)
    weather = make_source(base).fetch(session=session, now=two_am)
    tue = weather.daily[0]
    assert (tue.date, tue.high, tue.low, tue.precip_chance, tue.category) == (
        date(2025, 1, 21), 55, 44, 20, "partly_cloudy")
    assert [f.date for f in weather.daily] == [date(2025, 1, 21), date(2025, 1, 22)]
    # "now" comes from the period we are in: the overnight one
    assert weather.current is not None
    assert (weather.current.temperature, weather.current.is_day) == (31, False)


def test_implausible_values_become_unknown(httpserver, session) -> None:
    base = serve_periods(httpserver, [
        period("Today", "2025-01-20T06:00:00-08:00", "2025-01-20T18:00:00-08:00", True, 99999,
               pop=140, icon="/icons/land/day/sct?size=medium"),
        period("Tonight", "2025-01-20T18:00:00-08:00", "2025-01-21T06:00:00-08:00", False, 1e308,
               pop=-3),
        period("Tuesday", "2025-01-21T06:00:00-08:00", "2025-01-21T18:00:00-08:00", True, 55,
               pop=30, icon="/icons/land/day/rain?size=medium"),
        period("Tuesday Night", "2025-01-21T18:00:00-08:00", "2025-01-22T06:00:00-08:00", False,
               -1e308),
    ])
    for units in ("imperial", "metric"):  # 1e308 °F in °C was inf, and inf crashed the frame
        weather = make_source(base, units=units).fetch(session=session, now=NOW)
        mon, tue = weather.daily
        assert (mon.high, mon.low, mon.precip_chance) == (None, None, None)
        assert tue.low is None and tue.precip_chance == 30
        assert tue.high == (55 if units == "imperial" else pytest.approx((55 - 32) * 5 / 9))
        assert weather.current is not None and weather.current.temperature is None
        assert weather.current.category == "partly_cloudy"  # the icon is still good


def test_a_forecast_with_no_usable_temperature_keeps_the_last_good_one(
    tmp_path, httpserver, session
) -> None:
    (tmp_path / "family.ics").write_text("BEGIN:VCALENDAR\nVERSION:2.0\nEND:VCALENDAR\n")
    base = serve_nws(httpserver)
    config = make_config(tmp_path, base)
    earlier = NOW - timedelta(hours=4)
    good = fetch_all(build_sources(config), {}, session=session, now=earlier)
    assert good[WEATHER].last_error is None
    httpserver.clear()
    payload = read_json("nws/forecast.json", nws_base=base)
    for p in payload["properties"]["periods"]:
        p["temperature"] = None
    httpserver.expect_request(POINTS).respond_with_json(read_json("nws/points.json", nws_base=base))
    httpserver.expect_request(f"{GRID}/forecast").respond_with_json(payload)
    httpserver.expect_request(f"{GRID}/stations").respond_with_data("x", status=500)
    after = fetch_all(build_sources(config), good, session=session, now=NOW)
    snap = after[WEATHER]
    assert snap.data == good[WEATHER].data and snap.fetched_at == earlier
    assert snap.last_error == (
        "Weather: no usable forecast (every temperature null or implausible)")
    assert compose(config, after, NOW).source(WEATHER).status == "stale"  # type: ignore[union-attr]


@pytest.mark.parametrize(("icon", "expected"), [
    ("https://api.weather.gov/icons/land/day/skc?size=medium", ("clear", True)),
    ("/icons/land/night/sct?size=small", ("partly_cloudy", False)),
    ("/icons/land/day/rain_showers,30/tsra_hi,40?size=medium", ("thunderstorm", True)),
    ("/icons/land/day/snow,50?size=medium", ("snow", True)),
    ("/icons/land/night/fzra,70", ("freezing_rain", False)),
    ("/icons/land/day/wind_bkn", ("overcast", True)),
    ("/icons/land/day/clr?size=medium", ("unknown", True)),  # a token NWS once sent by mistake
    ("not a url", ("unknown", None)),
    (None, ("unknown", None)),
])
def test_icon_urls(icon, expected) -> None:
    assert icon_category(icon) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("Chance Showers And Thunderstorms then Mostly Sunny", "thunderstorm"),
    ("Rain And Snow Likely", "sleet"),
    ("Freezing Drizzle", "freezing_drizzle"),
    ("Snow Showers", "snow_showers"),
    ("Heavy Snow", "heavy_snow"),
    ("Areas Of Fog", "fog"),
    ("Mostly Cloudy", "overcast"),
    ("Partly Sunny", "partly_cloudy"),
    ("Mostly Clear", "mostly_clear"),
    ("Sunny", "clear"),
    ("", "unknown"),
    (None, "unknown"),
])
def test_short_forecast_texts(text, expected) -> None:
    assert text_category(text) == expected


@pytest.mark.parametrize(("kind", "reason"), [
    ("timeout", "timed out waiting for the server"),
    ("refused", "connection refused"),
    ("500", "HTTP 500 server error: Unexpected Problem"),
    ("html", "malformed JSON (text/html)"),
    ("no-periods", "malformed forecast response: no periods"),
    ("old-forecast", "forecast does not cover today (2025-01-20)"),
    ("outside-us", "HTTP 404 not found: Data Unavailable For Requested Point"),
    ("no-user-agent", "HTTP 403 access denied: Forbidden"),
])
def test_each_failure_keeps_the_last_forecast(kind: str, reason: str, tmp_path, httpserver,
                                              session, silent_server) -> None:
    from sources_fixtures import closed_port

    (tmp_path / "family.ics").write_text("BEGIN:VCALENDAR\nVERSION:2.0\nEND:VCALENDAR\n")
    base = serve_nws(httpserver)
    config = make_config(tmp_path, base)
    earlier = NOW - timedelta(hours=4)
    good = fetch_all(build_sources(config), {}, session=session, now=earlier)
    assert good[WEATHER].last_error is None

    httpserver.clear()
    sources = build_sources(config)  # a new process: the points lookup is not cached
    weather = sources[0]
    weather.timeout = (0.5, 0.3)  # type: ignore[attr-defined]
    forecast = read_json("nws/forecast.json", nws_base=base)
    if kind == "timeout":
        weather.base_url = silent_server  # type: ignore[attr-defined]
    elif kind == "refused":
        weather.base_url = f"http://127.0.0.1:{closed_port()}"  # type: ignore[attr-defined]
    elif kind == "outside-us":
        httpserver.expect_request(POINTS).respond_with_json(
            {"title": "Data Unavailable For Requested Point", "status": 404,
             "type": "https://api.weather.gov/problems/InvalidPoint"}, status=404)
    elif kind == "no-user-agent":
        httpserver.expect_request(POINTS).respond_with_json(
            {"title": "Forbidden", "status": 403, "detail": "Missing User-Agent header"},
            status=403)
    else:
        httpserver.expect_request(POINTS).respond_with_json(
            read_json("nws/points.json", nws_base=base))
        route = httpserver.expect_request(f"{GRID}/forecast")
        if kind == "500":
            route.respond_with_json({"title": "Unexpected Problem", "status": 500}, status=500)
        elif kind == "html":
            route.respond_with_data("<html>maintenance</html>", content_type="text/html")
        elif kind == "no-periods":
            forecast["properties"]["periods"] = None
            route.respond_with_json(forecast)
        elif kind == "old-forecast":
            # a forecast issued ten days ago (a stale cache upstream)
            forecast["properties"]["periods"] = [
                dict(p, startTime=p["startTime"].replace("2025-01-2", "2025-01-1"))
                for p in forecast["properties"]["periods"][:2]]
            route.respond_with_json(forecast)
    after = fetch_all(sources, good, session=session, now=NOW)
    snap = after[WEATHER]
    assert snap.last_error == f"Weather: {reason}"
    assert snap.data == good[WEATHER].data and snap.fetched_at == earlier
    state = compose(config, after, NOW)
    assert state.source(WEATHER).status == "stale"  # type: ignore[union-attr]
    assert state.current is not None and state.days[0].forecast is not None
    assert state.source("calendar:Family").status == "fresh"  # type: ignore[union-attr]
