"""Wall time of one full fetch of every source against a local HTTP server, and per source.

Run: .venv/bin/python benchmarks/bench_fetch.py
The household: Open-Meteo, two ICS feeds over HTTP (one a five-year history of 2,600
events, as a school district publishes), one ICS file, a Google calendar (if the
google extra is installed), NWS as the alternative weather provider, and the special
days (birthdays, US holidays, seasons, clock changes). Requests are counted on the
server: one per weather call and one per calendar. A Pi Zero is roughly 20x slower
than a desktop core; the network is not part of these numbers.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from pytest_httpserver import HTTPServer

from homeboard.config import load_config
from homeboard.sources import build_sources, fetch_all, make_session

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "sources"
LA = ZoneInfo("America/Los_Angeles")
NOW = datetime(2025, 1, 20, 9, 0, tzinfo=LA)
RUNS = 20


def big_ics(events: int = 2600) -> bytes:
    """A district calendar: five years of weekday events, some weekly series."""
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//bench//EN",
             "X-WR-TIMEZONE:America/Los_Angeles"]
    start = datetime(2021, 1, 4, 8, 0)
    for i in range(events):
        day = start + timedelta(days=i * 5 // 7 + i // 5 * 2 % 7)
        lines += ["BEGIN:VEVENT", f"UID:district-{i}@bench", "DTSTAMP:20210101T000000Z",
                  f"DTSTART:{day:%Y%m%dT%H%M%S}", f"DTEND:{day + timedelta(hours=1):%Y%m%dT%H%M%S}",
                  f"SUMMARY:District event {i}"]
        if i % 100 == 0:
            lines.append("RRULE:FREQ=WEEKLY;COUNT=40")
        lines.append("END:VEVENT")
    lines.append("END:VCALENDAR")
    return ("\r\n".join(lines) + "\r\n").encode()


def serve(server: HTTPServer, district: bytes) -> None:
    """The household's endpoints on the local server."""
    read = (DATA / "open_meteo" / "forecast_imperial.json").read_text()
    server.expect_request("/v1/forecast").respond_with_data(read, content_type="application/json")
    server.expect_request("/family.ics").respond_with_data(
        (DATA / "ics" / "family.ics").read_bytes(), content_type="text/calendar")
    server.expect_request("/district.ics").respond_with_data(district, content_type="text/calendar")
    server.expect_request("/calendar/v3/calendars/jess@example.com/events").respond_with_data(
        (DATA / "google" / "events.json").read_text(), content_type="application/json")
    base = server.url_for("").rstrip("/")
    for name, path in (("points", "/points/37.6819,-121.768"),
                       ("forecast", "/gridpoints/MTR/106,97/forecast"),
                       ("stations", "/gridpoints/MTR/106,97/stations"),
                       ("observations", "/stations/KLVK/observations")):
        text = (DATA / "nws" / f"{name}.json").read_text().replace("https://api.weather.gov", base)
        server.expect_request(path).respond_with_data(text, content_type="application/geo+json")


def config_text(base: str, tmp: Path, *, google: bool, provider: str) -> str:
    """The household's config.yaml."""
    text = f"""
timezone: America/Los_Angeles
units: imperial
location: {{latitude: 37.6819, longitude: -121.768, name: Livermore}}
weather: {{provider: {provider}, base_url: "{base}", contact: bench@example.com}}
calendars:
  - {{name: Family, color: red, ics_url: "{base}/family.ics"}}
  - {{name: School, ics_url: "{base}/district.ics", refresh: 1h}}
  - {{name: Work, ics_url: "{DATA / 'ics' / 'outlook.ics'}"}}
"""
    if google:
        (tmp / "client.json").write_text(json.dumps({"installed": {
            "client_id": "1.apps.googleusercontent.com", "client_secret": "x",
            "auth_uri": base + "/auth", "token_uri": base + "/token"}}))
        (tmp / "token.json").write_text(json.dumps({
            "token": "ya29.bench", "refresh_token": "1//r",
            "client_id": "1.apps.googleusercontent.com", "client_secret": "x",
            "expiry": "2099-01-01T00:00:00Z"}))
        text += ("  - {name: Jess, google: {calendar_id: jess@example.com,"
                 " credentials: client.json, token: token.json}}\n")
    text += """
special_events:
  - {name: Corinne, kind: birthday, date: "2017-01-20"}
  - {name: Thanksgiving, kind: holiday, rule: 4th thursday of november}
holidays: {country: US, subdivision: CA, categories: [public, unofficial]}
seasons: true
"""
    return text


def measure(provider: str, server: HTTPServer, tmp: Path, google: bool) -> None:
    """Print the timings and request counts for one weather provider."""
    base = server.url_for("").rstrip("/")
    path = tmp / f"config-{provider}.yaml"
    path.write_text(config_text(base, tmp, google=google, provider=provider))
    config = load_config(path, env={})

    start = time.perf_counter()
    sources = build_sources(config)
    for source in sources:
        if source.name == "calendar:Jess":
            source.api_endpoint = server.url_for("/calendar/v3/")  # type: ignore[attr-defined]
    server.clear_log()
    with make_session(config) as session:
        snaps = fetch_all(sources, {}, session=session, now=NOW, force=True)
    cold_ms = (time.perf_counter() - start) * 1000
    failed = {name: s.last_error for name, s in snaps.items() if s.last_error}
    assert not failed, failed
    cold_requests = len(server.log)

    totals, per_source = [], {s.name: [] for s in sources}
    with make_session(config) as session:
        server.clear_log()
        for i in range(RUNS):
            t0 = time.perf_counter()
            for source in sources:
                s0 = time.perf_counter()
                source.fetch(session=session, now=NOW + timedelta(minutes=i))
                per_source[source.name].append((time.perf_counter() - s0) * 1000)
            totals.append((time.perf_counter() - t0) * 1000)
    steady_requests = len(server.log) / RUNS
    # a regular refresh: the hourly district feed is skipped when not due
    with make_session(config) as session:
        server.clear_log()
        t0 = time.perf_counter()
        fetch_all(sources, snaps, session=session, now=NOW + timedelta(minutes=15))
        due_ms = (time.perf_counter() - t0) * 1000
        due_requests = len(server.log)

    print(f"\nweather provider: {provider}")
    print(f"  first fetch of all sources (imports, discovery, points lookup): {cold_ms:7.1f} ms,"
          f" {cold_requests} requests")
    print(f"  full fetch, steady state (median of {RUNS}):  {statistics.median(totals):7.1f} ms,"
          f" {steady_requests:.0f} requests")
    print(f"  regular refresh (district feed not due):   {due_ms:7.1f} ms, {due_requests} requests")
    for name, times in per_source.items():
        print(f"    {name:24} {statistics.median(times):7.1f} ms")


def main() -> None:
    """Print the tables."""
    try:
        import googleapiclient  # noqa: F401
        google = True
    except ImportError:
        google = False
    district = big_ics()
    print(f"python {sys.version.split()[0]}; district feed {len(district) / 1024:.0f} KiB;"
          f" google calendar {'included' if google else 'skipped (no google extra)'}")
    server = HTTPServer(host="127.0.0.1", threaded=True)
    server.start()
    try:
        serve(server, district)
        with tempfile.TemporaryDirectory() as tmp:
            for provider in ("open-meteo", "nws"):
                measure(provider, server, Path(tmp), google)
    finally:
        server.clear()
        server.stop()


if __name__ == "__main__":
    main()
