"""compose(): events on the right days, staleness, banners, and JSON that round-trips."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from homeboard.config import Config, load_config
from homeboard.model import (
    SPECIAL,
    WEATHER,
    CalendarEvent,
    Current,
    Forecast,
    Snapshot,
    SpecialDay,
    WeatherData,
    calendar_source,
    compose,
    snapshot_from_json,
    snapshot_to_json,
    state_to_json,
)

LA = ZoneInfo("America/Los_Angeles")


@pytest.fixture
def config(tmp_path: Path) -> Config:
    path = tmp_path / "config.yaml"
    path.write_text(
        "timezone: America/Los_Angeles\n"
        "location: {latitude: 37.7, longitude: -121.8}\n"
        "weather: {max_age: 3h}\n"
        "calendars:\n"
        "  - {name: Family, color: red, ics_url: 'file:///dev/null', max_age: 6h}\n"
        "  - {name: Jess, label: J, ics_url: 'file:///dev/null'}\n"
    )
    return load_config(path)


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=LA)


def cal(name: str, *events: CalendarEvent, fetched: datetime | None = None) -> dict[str, Snapshot]:
    when = fetched or at(25, 9)
    return {
        calendar_source(name): Snapshot(
            name=calendar_source(name),
            kind="calendar",
            data=tuple(events),
            fetched_at=when,
            changed_at=when,
        )
    }


def titles(state, index: int) -> list[str]:  # type: ignore[no-untyped-def]
    return [e.title for e in state.days[index].events]


def test_all_day_event_is_on_its_local_date_only(config: Config) -> None:
    ev = CalendarEvent(
        title="Recycling",
        start=date(2026, 11, 26),
        end=date(2026, 11, 27),
        all_day=True,
        calendar="Family",
    )
    # 23:30 the evening before: it must not show up on "today" a day early.
    state = compose(config, cal("Family", ev), at(25, 23, 30))
    assert titles(state, 0) == []
    assert titles(state, 1) == ["Recycling"]
    assert titles(state, 2) == []


def test_multi_day_and_midnight_spanning_events_cover_every_day(config: Config) -> None:
    visit = CalendarEvent(
        title="Grandma",
        start=date(2026, 11, 25),
        end=date(2026, 11, 28),
        all_day=True,
        calendar="Family",
    )
    night = CalendarEvent(title="Night shift", start=at(26, 23), end=at(27, 3), calendar="Jess")
    state = compose(config, {**cal("Family", visit), **cal("Jess", night)}, at(25, 8))
    assert [titles(state, i) for i in range(4)] == [
        ["Grandma"],
        ["Grandma", "Night shift"],
        ["Grandma", "Night shift"],
        [],
    ]
    first, middle, last = (state.days[i].events[0] for i in range(3))
    assert (first.continues_from, first.continues_to) == (False, True)
    assert (middle.continues_from, middle.continues_to) == (True, True)
    assert (last.continues_from, last.continues_to) == (True, False)
    shift_day2 = state.days[2].events[1]
    assert shift_day2.continues_from and not shift_day2.continues_to


def test_sorted_all_day_first_then_by_start_and_untitled_is_busy(config: Config) -> None:
    evs = (
        CalendarEvent(title="Late", start=at(25, 18), end=at(25, 19), calendar="Jess"),
        CalendarEvent(title="", start=at(25, 8), end=at(25, 9), calendar="Jess"),
        CalendarEvent(
            title="Holiday",
            start=date(2026, 11, 25),
            end=date(2026, 11, 26),
            all_day=True,
            calendar="Jess",
        ),
    )
    state = compose(config, cal("Jess", *evs), at(25, 7))
    assert titles(state, 0) == ["Holiday", "Busy", "Late"]
    assert state.days[0].events[1].label == "J"


def test_underway_and_ended(config: Config) -> None:
    evs = (
        CalendarEvent(title="Past", start=at(25, 7), end=at(25, 8), calendar="Jess"),
        CalendarEvent(title="Now", start=at(25, 9), end=at(25, 10), calendar="Jess"),
        CalendarEvent(title="Later", start=at(25, 11), end=at(25, 12), calendar="Jess"),
    )
    state = compose(config, cal("Jess", *evs), at(25, 9, 30))
    flags = {e.title: (e.underway, e.ended) for e in state.days[0].events}
    assert flags == {"Past": (False, True), "Now": (True, False), "Later": (False, False)}


def test_under_way_at_its_start_instant_and_ended_at_its_end_instant(config: Config) -> None:
    ev = CalendarEvent(title="Dentist", start=at(25, 9), end=at(25, 10), calendar="Jess")
    zero = CalendarEvent(title="Reminder", start=at(25, 10), end=at(25, 10), calendar="Jess")

    def flags(now: datetime) -> dict[str, tuple[bool, bool]]:
        state = compose(config, cal("Jess", ev, zero), now)
        return {e.title: (e.underway, e.ended) for e in state.days[0].events}

    second = timedelta(seconds=1)
    assert flags(at(25, 9) - second)["Dentist"] == (False, False)
    assert flags(at(25, 9))["Dentist"] == (True, False)  # at the start: under way
    assert flags(at(25, 10) - second)["Dentist"] == (True, False)
    assert flags(at(25, 10))["Dentist"] == (False, True)  # at the end: ended
    # the same instant written in another zone is the same boundary
    assert flags(at(25, 9).astimezone(UTC))["Dentist"] == (True, False)
    assert flags(at(25, 10).astimezone(UTC))["Dentist"] == (False, True)
    # a reminder without duration is not over at its own moment, only after it
    assert flags(at(25, 10))["Reminder"] == (False, False)
    assert flags(at(25, 10) + second)["Reminder"] == (False, True)


def test_the_repeated_hour_is_compared_as_instants(config: Config) -> None:
    # Clocks go back at 02:00 on 1 November 2026 in Los Angeles: 01:00-02:00 happens
    # twice, first in PDT (fold=0), then in PST (fold=1).
    def wall(hour: int, minute: int, fold: int) -> datetime:
        return datetime(2026, 11, 1, hour, minute, tzinfo=LA, fold=fold)

    evs = (
        CalendarEvent(
            title="Feed the baby", start=wall(0, 45, 0), end=wall(1, 15, 0), calendar="Jess"
        ),
        CalendarEvent(
            title="Night shift", start=wall(1, 10, 0), end=wall(1, 20, 1), calendar="Jess"
        ),
        CalendarEvent(
            title="Call Tokyo", start=wall(1, 30, 1), end=wall(2, 30, 0), calendar="Jess"
        ),
    )
    now = wall(1, 0, 1)  # the second 01:00 (09:00 UTC)
    assert now.astimezone(UTC) == datetime(2026, 11, 1, 9, 0, tzinfo=UTC)
    state = compose(config, cal("Jess", *evs), now)
    flags = {e.title: (e.underway, e.ended) for e in state.days[0].events}
    assert flags == {
        "Feed the baby": (False, True),  # ended 45 minutes ago (08:15 UTC)
        "Night shift": (True, False),  # 08:10 to 09:20 UTC
        "Call Tokyo": (False, False),  # starts at 09:30 UTC
    }
    # the board lists them in the order they happen
    assert titles(state, 0) == ["Feed the baby", "Night shift", "Call Tokyo"]


def test_days_begin_when_the_clocks_jump_over_midnight(tmp_path: Path) -> None:
    # Santiago jumps from 2025-09-06 24:00 (-04) to 2025-09-07 01:00 (-03).
    path = tmp_path / "config.yaml"
    path.write_text(
        "timezone: America/Santiago\nweather: null\ncalendars:\n"
        "  - {name: Jess, ics_url: 'file:///dev/null'}\n"
    )
    santiago = load_config(path)
    tz = santiago.tz
    late = CalendarEvent(
        title="Late film",
        start=datetime(2025, 9, 6, 22, 30, tzinfo=tz),
        end=datetime(2025, 9, 7, 4, 0, tzinfo=UTC),
        calendar="Jess",
    )
    early = CalendarEvent(
        title="Early run",
        start=datetime(2025, 9, 7, 4, 0, tzinfo=UTC),
        end=datetime(2025, 9, 7, 4, 30, tzinfo=UTC),
        calendar="Jess",
    )
    state = compose(santiago, cal("Jess", late, early), datetime(2025, 9, 6, 20, tzinfo=tz))
    assert titles(state, 0) == ["Late film"] and titles(state, 1) == ["Early run"]
    assert not state.days[0].events[0].continues_to  # it ends as the day ends
    assert state.days[1].events[0].start.hour == 1  # type: ignore[union-attr]


def test_fetch_times_from_the_future_are_not_fresh(config: Config) -> None:
    # A Pi has no RTC: data written while the clock ran 3 days ahead is of unknown age.
    now = at(25, 12)
    weather = Snapshot(
        name=WEATHER,
        kind="weather",
        data=WeatherData(current=Current(temperature=10, category="clear")),
        fetched_at=now + timedelta(days=3),
        changed_at=now + timedelta(days=3),
    )
    snaps = {WEATHER: weather, **cal("Family", fetched=now + timedelta(minutes=2))}
    state = compose(config, snaps, now)
    assert state.source(WEATHER).status == "stale"  # type: ignore[union-attr]
    assert state.source("calendar:Family").status == "fresh"  # type: ignore[union-attr]
    assert state.current is not None and state.current.temperature == 10  # still shown
    data = state_to_json(state)
    assert data["sources"]["weather"]["status"] == "stale"
    # "Updated" never names a time that has not come yet
    assert state.updated_at == now + timedelta(minutes=2)
    just_past = {WEATHER: dataclasses.replace(weather, fetched_at=now + timedelta(minutes=6))}
    assert compose(config, just_past, now).source(WEATHER).status == "stale"  # type: ignore[union-attr]
    within = {WEATHER: dataclasses.replace(weather, fetched_at=now + timedelta(minutes=4))}
    assert compose(config, within, now).source(WEATHER).status == "fresh"  # type: ignore[union-attr]


def test_dst_day_event_keeps_its_times(config: Config) -> None:
    # Clocks go back at 02:00 on 1 November 2026 in Los Angeles.
    start = datetime(2026, 11, 1, 0, 30, tzinfo=UTC).astimezone(LA)  # 17:30 PDT on Oct 31
    ev = CalendarEvent(
        title="Across", start=at(1, 1, 30, month=11), end=at(1, 3, month=11), calendar="Jess"
    )
    state = compose(config, cal("Jess", ev, fetched=start), at(31, 20, month=10))
    assert titles(state, 1) == ["Across"]
    shown = state.days[1].events[0]
    assert shown.start.hour == 1 and shown.end.hour == 3  # type: ignore[union-attr]


def test_staleness_per_source_max_age(config: Config) -> None:
    now = at(25, 12)
    weather = Snapshot(
        name=WEATHER,
        kind="weather",
        data=WeatherData(current=Current(temperature=10, category="clear")),
        fetched_at=now - timedelta(hours=4),
    )  # max_age 3h
    snaps = {WEATHER: weather, **cal("Family", fetched=now - timedelta(hours=5))}  # max_age 6h
    state = compose(config, snaps, now)
    status = {s.name: s.status for s in state.sources}
    assert status == {
        "weather": "stale",
        "calendar:Family": "fresh",
        "calendar:Jess": "unavailable",
    }
    # Stale data is still shown (marked), never dropped.
    assert state.current is not None and state.current.temperature == 10


def test_failed_source_keeps_last_good_data_and_error(config: Config) -> None:
    ev = CalendarEvent(title="Dentist", start=at(25, 14), end=at(25, 15), calendar="Family")
    snap = dataclasses.replace(
        cal("Family", ev)[calendar_source("Family")], last_error="timed out", fetched_at=at(25, 1)
    )
    state = compose(config, {calendar_source("Family"): snap}, at(25, 9))
    assert titles(state, 0) == ["Dentist"]
    family = state.source("calendar:Family")
    assert family is not None and family.status == "stale" and family.last_error == "timed out"


def test_updated_at_is_when_the_newest_data_changed_not_fetched(config: Config) -> None:
    snap = Snapshot(
        name=calendar_source("Family"),
        kind="calendar",
        data=(),
        fetched_at=at(25, 9, 1),
        changed_at=at(25, 6, 15),
    )
    state = compose(config, {calendar_source("Family"): snap}, at(25, 9, 2))
    assert state.updated_at == at(25, 6, 15)


def test_banner_is_the_most_important_special_and_the_rest_are_listed(config: Config) -> None:
    day = date(2026, 11, 26)
    specials = (
        SpecialDay(
            date=day,
            kind="holiday",
            title="Thanksgiving",
            message="Happy Thanksgiving!",
            icon="holiday",
        ),
        SpecialDay(
            date=day,
            kind="birthday",
            title="Corinne turns 8",
            message="Happy Birthday, Corinne!",
            icon="birthday",
        ),
    )
    snaps = {SPECIAL: Snapshot(name=SPECIAL, kind="special", data=specials, fetched_at=at(25, 9))}
    state = compose(config, snaps, at(26, 9))
    assert state.today.special is not None
    assert state.today.special.message == "Happy Birthday, Corinne!"
    listed = [(e.title, e.special, e.icon) for e in state.today.events]
    assert listed == [("Corinne turns 8", True, "birthday"), ("Thanksgiving", True, "holiday")]


def test_forecast_by_date_and_day_count(config: Config) -> None:
    daily = tuple(
        Forecast(date=date(2026, 11, 25) + timedelta(days=i), category="rain", high=10 + i, low=i)
        for i in range(7)
    )
    snaps = {
        WEATHER: Snapshot(
            name=WEATHER,
            kind="weather",
            data=WeatherData(current=None, daily=daily),
            fetched_at=at(26, 8),
        )
    }
    state = compose(config, snaps, at(26, 9))
    assert [d.date.day for d in state.days] == [26, 27, 28, 29]
    assert [d.forecast.high for d in state.days] == [11, 12, 13, 14]  # type: ignore[union-attr]


def test_state_json_keys_are_stable(config: Config) -> None:
    ev = CalendarEvent(title="Zumba", start=at(25, 9), end=at(25, 10), calendar="Jess")
    data = state_to_json(compose(config, cal("Jess", ev), at(25, 9, 30)))
    json.dumps(data)
    assert data["days"][0]["events"][0]["start"] == "2026-11-25T09:00:00-08:00"
    assert data["days"][0]["events"][0]["calendar"] == "Jess"
    # Calendars go by their own names in JSON, as the config names them.
    assert data["sources"]["Jess"]["status"] == "fresh"
    assert set(data["sources"]["Jess"]) >= {"fetched_at", "status", "last_error"}
    assert data["sources"]["weather"]["status"] == "unavailable"


when = st.datetimes(
    min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(LA)
)


@given(title=st.text(), start=when, minutes=st.integers(0, 10_000), fetched=when)
def test_snapshot_json_round_trip(
    title: str, start: datetime, minutes: int, fetched: datetime
) -> None:
    events = (
        CalendarEvent(
            title=title, start=start, end=start + timedelta(minutes=minutes), calendar="c", uid="u"
        ),
        CalendarEvent(
            title=title,
            start=start.date(),
            end=start.date() + timedelta(days=1),
            all_day=True,
            calendar="c",
        ),
    )
    snap = Snapshot(
        name="calendar:c",
        kind="calendar",
        data=events,
        fetched_at=fetched,
        changed_at=fetched,
        last_error=None,
        attempted_at=fetched,
    )
    back = snapshot_from_json(json.loads(json.dumps(snapshot_to_json(snap))))
    # Compare instants and the JSON form: an aware datetime in a DST fold never
    # compares equal across zones (PEP 495), though it is the same moment.
    assert snapshot_to_json(back) == snapshot_to_json(snap)
    assert back.fetched_at is not None and back.fetched_at.timestamp() == fetched.timestamp()
    timed = back.data[0]  # type: ignore[index]
    assert timed.start.timestamp() == start.timestamp()  # type: ignore[union-attr]
    assert back.data[1].start == start.date()  # type: ignore[index]
    assert back.data[1].title == title  # type: ignore[index]


def test_weather_snapshot_round_trip() -> None:
    snap = Snapshot(
        name=WEATHER,
        kind="weather",
        data=WeatherData(
            current=Current(temperature=3.5, category="snow", is_day=False, apparent=1.0, code=73),
            daily=(
                Forecast(
                    date=date(2026, 1, 2),
                    category="snow",
                    high=1,
                    low=-4,
                    precip_chance=90,
                    code=73,
                ),
            ),
            attribution="Weather: Open-Meteo.com (CC BY 4.0)",
        ),
        fetched_at=at(25, 9),
    )
    assert snapshot_from_json(json.loads(json.dumps(snapshot_to_json(snap)))) == snap


@pytest.mark.parametrize(
    "raw",
    [
        {},
        {"kind": "weather"},
        {"name": "x", "kind": "nope"},
        {"name": "x", "kind": "calendar", "data": [{"title": 1}]},
    ],
)
def test_malformed_snapshot_is_a_value_error(raw: dict) -> None:  # type: ignore[type-arg]
    with pytest.raises(ValueError):
        snapshot_from_json(raw)
