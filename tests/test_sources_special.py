"""Special days against known dates: rules, Feb 29, holidays, equinoxes, clock changes, banners."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sources_fixtures import BERLIN, LA, write_config

from homeboard.model import HOLIDAYS, SPECIAL, Snapshot, SpecialDay, compose, state_to_json
from homeboard.sources import build_sources, fetch_all
from homeboard.sources.special import (
    HolidaysSource,
    SpecialDaysSource,
    check_holidays,
    clock_change,
    clock_changes_between,
    holiday_icon,
    seasons_between,
    solstice_or_equinox,
    yearly_date,
)


def specials(tmp_path, yaml: str, first: date, after: date) -> tuple[SpecialDay, ...]:
    config = write_config(tmp_path, yaml)
    found = SpecialDaysSource.from_config(config).between(first, after)
    if config.holidays is not None:
        found += HolidaysSource.from_config(config).between(first, after)
    return found


def year_of(tmp_path, yaml: str, year: int) -> tuple[SpecialDay, ...]:
    return specials(tmp_path, yaml, date(year, 1, 1), date(year + 1, 1, 1))


# Thanksgiving: the original build typed these in by hand each year.
THANKSGIVING = {2024: 28, 2025: 27, 2026: 26, 2027: 25, 2028: 23, 2029: 22, 2030: 28}


def test_fourth_thursday_of_november(tmp_path) -> None:
    yaml = """
        timezone: America/Los_Angeles
        weather: null
        dst: false
        special_events:
          - {name: Thanksgiving, kind: holiday, rule: 4th thursday of november,
             message: "Happy Thanksgiving!"}
          - {name: Memorial Day, kind: holiday, rule: last monday of may}
    """
    for year, day in THANKSGIVING.items():
        found = year_of(tmp_path, yaml, year)
        assert [(s.date, s.message) for s in found if s.title == "Happy Thanksgiving!"] == [
            (date(year, 11, day), "Happy Thanksgiving!")]
    memorial = [s.date for s in year_of(tmp_path, yaml, 2025) if s.title == "Memorial Day"]
    assert memorial == [date(2025, 5, 26)]
    assert [s.date for s in year_of(tmp_path, yaml, 2026) if s.title == "Memorial Day"] == [
        date(2026, 5, 25)]


def test_birthdays_anniversaries_and_one_off_days(tmp_path) -> None:
    yaml = """
        timezone: America/Los_Angeles
        weather: null
        dst: false
        special_events:
          - {name: Corinne, kind: birthday, date: "2017-01-20"}
          - {name: Grandpa, kind: birthday, date: "03-02"}
          - {name: Jess & Kyle, kind: anniversary, date: "2013-06-08", icon: heart}
          - {name: Moving day, kind: event, date: "2025-08-15", color: black}
          - {name: Sam, kind: birthday, date: "2010-07-04",
             message: "Sam is {age} today!"}
    """
    found = {s.title: s for s in year_of(tmp_path, yaml, 2025)}
    corinne = found["Corinne turns 8"]
    assert (corinne.date, corinne.kind, corinne.message, corinne.icon) == (
        date(2025, 1, 20), "birthday", "Happy Birthday, Corinne!", "birthday")
    assert found["Happy Birthday, Grandpa!"].date == date(2025, 3, 2)  # no year: no age
    anniversary = found["Jess & Kyle: 12 years"]
    assert (anniversary.date, anniversary.icon, anniversary.message) == (
        date(2025, 6, 8), "heart", "Happy Anniversary, Jess & Kyle!")
    moving = found["Moving day"]
    assert (moving.date, moving.color, moving.icon) == (date(2025, 8, 15), "black", "celebration")
    assert (found["Sam turns 15"].date, found["Sam turns 15"].message) == (
        date(2025, 7, 4), "Sam is 15 today!")
    # a one-off day happens once; a birthday not before the person was born
    assert not [s for s in year_of(tmp_path, yaml, 2026) if s.title == "Moving day"]
    assert not [s for s in year_of(tmp_path, yaml, 2016) if "Corinne" in s.title]
    assert not [s for s in year_of(tmp_path, yaml, 2017) if "Corinne" in s.title]  # day 0


def test_february_29_birthday(tmp_path) -> None:
    # Celebrated on February 28 in common years; the age is the one reached that year.
    yaml = """
        timezone: America/Los_Angeles
        weather: null
        dst: false
        special_events:
          - {name: Leo, kind: birthday, date: "2016-02-29"}
          - {name: Leap party, kind: event, date: "02-29"}
    """
    expected = {2020: (date(2020, 2, 29), 4), 2023: (date(2023, 2, 28), 7),
                2024: (date(2024, 2, 29), 8), 2025: (date(2025, 2, 28), 9),
                2100: (date(2100, 2, 28), 84)}  # 2100 is no leap year
    for year, (day, age) in expected.items():
        leo = [s for s in year_of(tmp_path, yaml, year) if s.kind == "birthday"]
        assert [(s.date, s.title) for s in leo] == [(day, f"Leo turns {age}")]
    assert yearly_date(2, 29, 2025) == date(2025, 2, 28)
    assert yearly_date(2, 29, 2028) == date(2028, 2, 29)
    assert [s.date for s in year_of(tmp_path, yaml, 2025) if s.title == "Leap party"] == [
        date(2025, 2, 28)]


# Equinoxes and solstices as dated in Los Angeles, 2025-2030 (from the published UTC
# instants), and the instants published by the US Naval Observatory for 2025.
LA_SEASONS = {
    2025: ("03-20", "06-20", "09-22", "12-21"),
    2026: ("03-20", "06-21", "09-22", "12-21"),
    2027: ("03-20", "06-21", "09-22", "12-21"),  # 06:01 UTC on the 23rd
    2028: ("03-19", "06-20", "09-22", "12-21"),
    2029: ("03-20", "06-20", "09-22", "12-21"),
    2030: ("03-20", "06-21", "09-22", "12-21"),
}


def test_seasons_against_known_dates() -> None:
    for year, days in LA_SEASONS.items():
        found = list(seasons_between(date(year, 1, 1), date(year + 1, 1, 1), LA))
        assert [s.date.strftime("%m-%d") for s in found] == list(days), year
        assert [s.icon for s in found] == [
            "season_spring", "season_summer", "season_autumn", "season_winter"]
    usno_2025 = [datetime(2025, 3, 20, 9, 1, tzinfo=UTC), datetime(2025, 6, 21, 2, 42, tzinfo=UTC),
                 datetime(2025, 9, 22, 18, 19, tzinfo=UTC),
                 datetime(2025, 12, 21, 15, 3, tzinfo=UTC)]
    for month, known in zip((3, 6, 9, 12), usno_2025, strict=True):
        assert abs(solstice_or_equinox(2025, month) - known) < timedelta(minutes=2)
    # the 2028 March equinox is 02:17 UTC on the 20th: still the 19th in California
    assert abs(solstice_or_equinox(2028, 3) - datetime(2028, 3, 20, 2, 17, tzinfo=UTC)) < (
        timedelta(minutes=2))


def test_seasons_in_the_southern_hemisphere_and_in_german(tmp_path) -> None:
    yaml = """
        timezone: Australia/Sydney
        language: de
        location: {latitude: -33.87, longitude: 151.21}
        weather: null
        seasons: true
        dst: false
    """
    found = year_of(tmp_path, yaml, 2025)
    assert [(s.date, s.title, s.kind) for s in found] == [
        (date(2025, 3, 20), "Herbstanfang", "season"),
        (date(2025, 6, 21), "Winteranfang", "season"),
        (date(2025, 9, 23), "Frühlingsanfang", "season"),  # 18:19 UTC is the 23rd in Sydney
        (date(2025, 12, 22), "Sommeranfang", "season"),
    ]


# Clock changes, two zones, two years each.
DST = {
    "America/Los_Angeles": {2025: ((3, 9), (11, 2)), 2026: ((3, 8), (11, 1))},
    "Europe/Berlin": {2025: ((3, 30), (10, 26)), 2026: ((3, 29), (10, 25))},
}


@pytest.mark.parametrize("zone", sorted(DST))
def test_clock_changes(tmp_path, zone: str) -> None:
    yaml = f"timezone: {zone}\nweather: null\n"
    for year, (spring, autumn) in DST[zone].items():
        found = year_of(tmp_path, yaml, year)
        assert [(s.date, s.title, s.icon) for s in found] == [
            (date(year, *spring), "Clocks go forward 1 hour", "dst_forward"),
            (date(year, *autumn), "Clocks go back 1 hour", "dst_back"),
        ]
        assert found[0].message == "Daylight saving time starts"
    assert clock_change(date(2025, 3, 9), LA) == timedelta(hours=1)
    assert clock_change(date(2025, 3, 30), BERLIN) == timedelta(hours=1)
    assert clock_change(date(2025, 3, 10), LA) is None


# Zones whose clocks change at local midnight: that midnight does not exist (spring) or
# the hour before it repeats (autumn). Dates from each government's 2025 announcement.
MIDNIGHT_CHANGES = [
    ("America/Santiago", date(2025, 9, 7), timedelta(hours=1)),  # 00:00 -> 01:00
    ("America/Havana", date(2025, 3, 9), timedelta(hours=1)),  # 00:00 -> 01:00
    ("Asia/Beirut", date(2025, 3, 30), timedelta(hours=1)),  # 00:00 -> 01:00
    ("Africa/Cairo", date(2025, 4, 25), timedelta(hours=1)),  # 00:00 -> 01:00
    # back at 24:00 on Saturday: the repeated hour (23:00-24:00) is Saturday's
    ("America/Santiago", date(2025, 4, 5), -timedelta(hours=1)),
    ("America/Havana", date(2025, 11, 2), -timedelta(hours=1)),  # 01:00 -> 00:00
    ("Europe/Berlin", date(2025, 3, 30), timedelta(hours=1)),  # 02:00 -> 03:00
    ("America/Los_Angeles", date(2025, 11, 2), -timedelta(hours=1)),  # 02:00 -> 01:00
    ("Australia/Lord_Howe", date(2025, 4, 6), -timedelta(minutes=30)),  # half an hour
]


@pytest.mark.parametrize(("zone", "day", "delta"), MIDNIGHT_CHANGES,
                         ids=[f"{z}-{d}" for z, d, _ in MIDNIGHT_CHANGES])
def test_clock_changes_at_midnight_have_their_banner(tmp_path, zone, day, delta) -> None:
    tz = ZoneInfo(zone)
    assert clock_change(day, tz) == delta
    assert clock_change(day - timedelta(days=1), tz) is None
    assert clock_change(day + timedelta(days=1), tz) is None
    config = write_config(tmp_path, f"timezone: {zone}\nweather: null\nlayout: {{days: 3}}\n")
    # the frame drawn the evening before shows tomorrow's banner, and the morning's today's
    for now in (datetime.combine(day - timedelta(days=1), time(20), tz),
                datetime.combine(day, time(9), tz)):
        snaps = {SPECIAL: Snapshot(name=SPECIAL, kind="special", fetched_at=now,
                                   data=SpecialDaysSource.from_config(config).fetch(
                                       session=None, now=now))}  # type: ignore[arg-type]
        shown = {d.date: d.special for d in compose(config, snaps, now).days}
        banner = shown[day]
        assert banner is not None and banner.kind == "dst", (zone, now)
        assert banner.icon == ("dst_forward" if delta > timedelta(0) else "dst_back")
        assert [d for d, b in shown.items() if b is not None] == [day]


ZONES_TO_SCAN = ["America/Santiago", "America/Havana", "Asia/Beirut", "Africa/Cairo",
                 "Europe/Berlin", "America/Los_Angeles", "Australia/Lord_Howe",
                 "Pacific/Chatham", "America/Asuncion", "Antarctica/Troll", "Asia/Tehran"]


@pytest.mark.parametrize("zone", ZONES_TO_SCAN)
def test_clock_changes_match_a_scan_of_instants(zone: str) -> None:
    # Every offset change of 2022-2025, found by stepping through UTC a quarter-hour at
    # a time and dated by the wall clock just after it, is on the day clock_change names.
    tz = ZoneInfo(zone)
    moment = datetime(2022, 1, 1, tzinfo=UTC)
    end = datetime(2026, 1, 1, tzinfo=UTC)
    step = timedelta(minutes=15)
    expected: dict[date, timedelta] = {}
    offset = moment.astimezone(tz).utcoffset()
    while moment < end:
        moment += step
        now_offset = moment.astimezone(tz).utcoffset()
        if now_offset != offset:
            expected[moment.astimezone(tz).date()] = now_offset - offset  # type: ignore[operator]
            offset = now_offset
    found = {s.date: s for s in clock_changes_between(date(2022, 1, 2), date(2025, 12, 31), tz)}
    assert set(found) == set(expected)
    for day, delta in expected.items():
        assert clock_change(day, tz) == delta
        assert found[day].icon == ("dst_forward" if delta > timedelta(0) else "dst_back")


def test_fifth_sunday_of_may_on_the_last_day_of_the_month(tmp_path) -> None:
    # May 31 is a Sunday in 2026 (and 2020): the month's fifth Sunday is its last day.
    yaml = """
        timezone: America/Los_Angeles
        weather: null
        dst: false
        special_events:
          - {name: Picnic, kind: event, rule: 5th sunday of may}
          - {name: Last, kind: event, rule: last sunday of may}
    """
    for year in (2020, 2026):
        found = [(s.date, s.title) for s in year_of(tmp_path, yaml, year)]
        assert found == [(date(year, 5, 31), "Last"), (date(year, 5, 31), "Picnic")]
    # 2025 has four Sundays in May: no picnic that year
    assert [s.title for s in year_of(tmp_path, yaml, 2025)] == ["Last"]
    # and on the day itself the board shows it
    config = write_config(tmp_path, yaml)
    now = datetime(2026, 5, 31, 7, tzinfo=LA)
    found = SpecialDaysSource.from_config(config).fetch(session=None, now=now)  # type: ignore[arg-type]
    assert [(s.date, s.title) for s in found] == [(date(2026, 5, 31), "Last"),
                                                   (date(2026, 5, 31), "Picnic")]


def test_dst_can_be_turned_off_and_zones_without_dst(tmp_path) -> None:
    assert year_of(tmp_path, "timezone: America/Los_Angeles\nweather: null\ndst: false\n",
                   2025) == ()
    assert year_of(tmp_path, "timezone: Asia/Tokyo\nweather: null\n", 2025) == ()


def test_public_holidays_with_opt_in_categories(tmp_path) -> None:
    yaml = """
        timezone: America/Los_Angeles
        weather: null
        dst: false
        holidays: {country: US, subdivision: CA, categories: [public, unofficial]}
    """
    found = {s.title: s for s in year_of(tmp_path, yaml, 2025)}
    assert found["Thanksgiving Day"].date == date(2025, 11, 27)
    assert found["Independence Day"].date == date(2025, 7, 4)
    assert found["Halloween"].date == date(2025, 10, 31)  # unofficial, opted in
    assert found["Halloween"].icon == "halloween" and found["Christmas Day"].icon == "christmas"
    public_only = {s.title for s in year_of(tmp_path, yaml.replace(", unofficial", ""), 2025)}
    assert "Thanksgiving Day" in public_only and "Halloween" not in public_only
    german = specials(tmp_path, """
        timezone: Europe/Berlin
        language: de
        weather: null
        dst: false
        holidays: {country: DE, subdivision: BY}
    """, date(2025, 12, 24), date(2025, 12, 27))
    assert [(s.date, s.title, s.icon) for s in german] == [
        (date(2025, 12, 25), "Erster Weihnachtstag", "christmas"),
        (date(2025, 12, 26), "Zweiter Weihnachtstag", "christmas"),
    ]
    assert holiday_icon("New Year's Day") == "new_year" and holiday_icon("Labor Day") == "holiday"


def test_unknown_country_fails_the_holidays_source_alone(tmp_path) -> None:
    config = write_config(tmp_path, """
        timezone: America/Los_Angeles
        weather: null
        holidays: {country: XX}
    """)
    assert check_holidays(config.holidays) == "Country XX not available"  # type: ignore[arg-type]
    now = datetime(2025, 1, 20, 9, tzinfo=LA)
    with __import__("requests").Session() as s:
        snaps = fetch_all(build_sources(config), {}, session=s, now=now)
    assert snaps[HOLIDAYS].last_error == "Holidays: Country XX not available"
    assert snaps[SPECIAL].last_error is None


def test_an_unknown_subdivision_keeps_the_birthdays_and_says_why(tmp_path) -> None:
    # Before holidays were a source of their own, one refusal of the holidays package
    # took every birthday with it, and no source said why.
    config = write_config(tmp_path, """
        timezone: America/Los_Angeles
        weather: null
        holidays: {country: US, subdivision: ZZ}
        special_events:
          - {name: Corinne, kind: birthday, date: "2017-01-20"}
    """)
    now = datetime(2025, 1, 20, 9, tzinfo=LA)
    with __import__("requests").Session() as s:
        snaps = fetch_all(build_sources(config), {}, session=s, now=now)
    state = compose(config, snaps, now)
    assert state.days[0].special is not None
    assert state.days[0].special.message == "Happy Birthday, Corinne!"
    holidays = state.source(HOLIDAYS)
    assert holidays is not None and holidays.status == "unavailable"
    assert holidays.label == "Holidays" and holidays.kind == "holidays"
    assert holidays.last_error is not None and "ZZ" in holidays.last_error
    assert holidays.last_error.startswith("Holidays: ")
    assert state_to_json(state)["sources"]["holidays"]["status"] == "unavailable"
    # the footer names the source in the board's language, like the weather
    german = write_config(tmp_path, """
        timezone: Europe/Berlin
        language: de
        weather: null
        holidays: {country: DE, subdivision: ZZ}
    """)
    assert compose(german, {}, now).source(HOLIDAYS).label == "Feiertage"  # type: ignore[union-attr]


def test_holidays_keep_their_last_good_days_when_they_fail(tmp_path) -> None:
    config = write_config(tmp_path, """
        timezone: America/Los_Angeles
        weather: null
        dst: false
        layout: {days: 2}
        holidays: {country: US}
    """)
    christmas_eve = datetime(2025, 12, 24, 9, tzinfo=LA)
    with __import__("requests").Session() as s:
        good = fetch_all(build_sources(config), {}, session=s, now=christmas_eve)
        broken = HolidaysSource(cfg=dataclasses.replace(config.holidays, country="XX"),  # type: ignore[arg-type]
                                tz=LA, days=2)
        later = christmas_eve + timedelta(hours=2)
        after = fetch_all([broken], good, session=s, now=later)
    assert after[HOLIDAYS].data == good[HOLIDAYS].data
    state = compose(config, {**good, **after}, later)
    assert state.days[1].special is not None and state.days[1].special.title == "Christmas Day"
    assert state.source(HOLIDAYS).status == "stale"  # type: ignore[union-attr]
    assert state.updated_at is None  # holidays say nothing of how current the data is
    # one failed refresh (every 15 minutes) is not yet stale; two missed ones are
    soon = compose(config, {**good, **after}, christmas_eve + timedelta(minutes=20))
    assert soon.source(HOLIDAYS).status == "fresh"  # type: ignore[union-attr]
    late = compose(config, {**good, **after}, christmas_eve + timedelta(minutes=31))
    assert late.source(HOLIDAYS).status == "stale"  # type: ignore[union-attr]


def test_several_on_one_day_banner_by_priority(tmp_path) -> None:
    # Nov 2, 2025 in California: clocks go back, a birthday, and an event.
    config = write_config(tmp_path, """
        timezone: America/Los_Angeles
        weather: null
        seasons: true
        holidays: {country: US, categories: [public], banner: false}
        special_events:
          - {name: Bake sale, kind: event, date: "2025-11-02"}
          - {name: Heather, kind: birthday, date: "2019-11-02"}
          - {name: Jess & Kyle, kind: anniversary, date: "2013-11-11"}
    """)
    now = datetime(2025, 11, 2, 8, 0, tzinfo=LA)
    with __import__("requests").Session() as s:
        snaps = fetch_all(build_sources(config), {}, session=s, now=now)
    state = compose(config, snaps, now)
    today = state.days[0]
    assert today.special is not None and today.special.kind == "birthday"
    assert today.special.message == "Happy Birthday, Heather!"
    listed = [e.title for e in today.events if e.special]
    assert sorted(listed) == ["Bake sale", "Clocks go back 1 hour", "Heather turns 6"]
    # holidays with banner: false are listed only; the anniversary takes the banner, and
    # on a day with nothing else there is no banner at all
    config_days = write_config(tmp_path, """
        timezone: America/Los_Angeles
        weather: null
        layout: {days: 2}
        holidays: {country: US, categories: [public], banner: false}
        special_events:
          - {name: Jess & Kyle, kind: anniversary, date: "2013-11-12"}
    """)
    veterans = datetime(2025, 11, 11, 8, 0, tzinfo=LA)
    with __import__("requests").Session() as s:
        snaps = fetch_all(build_sources(config_days), {}, session=s, now=veterans)
    state = compose(config_days, snaps, veterans)
    assert state.days[0].special is None
    assert [e.title for e in state.days[0].events] == ["Veterans Day"]
    assert state.days[1].special is not None and state.days[1].special.kind == "anniversary"


def test_special_source_covers_the_shown_days_plus_one(tmp_path) -> None:
    config = write_config(tmp_path, """
        timezone: America/Los_Angeles
        weather: null
        layout: {days: 2}
        special_events:
          - {name: A, date: "01-21"}
          - {name: B, date: "01-22"}
          - {name: C, date: "01-23"}
    """)
    source = SpecialDaysSource.from_config(config)
    found = source.fetch(session=None, now=datetime(2025, 1, 20, 23, 59, tzinfo=LA))  # type: ignore[arg-type]
    assert [s.title for s in found] == ["A", "B"]


def test_snapshot_round_trip_keeps_the_banner_flag() -> None:
    from homeboard.model import snapshot_from_json, snapshot_to_json

    day = SpecialDay(date=date(2025, 11, 11), kind="holiday", title="Veterans Day",
                     message="Veterans Day", icon="holiday", banner=False)
    snap = Snapshot(name=SPECIAL, kind="special", data=(day,))
    assert snapshot_from_json(snapshot_to_json(snap)) == snap
    # the holidays' own snapshot, as the cache keeps it
    held = Snapshot(name=HOLIDAYS, kind="holidays", data=(day,),
                    fetched_at=datetime(2025, 11, 10, 9, tzinfo=LA),
                    last_error="Holidays: Country XX not available")
    assert snapshot_from_json(snapshot_to_json(held)) == held
