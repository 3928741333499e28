"""Real calendar exports (Exchange/Office 365, Google, iCloud, Thunderbird, Proton, …) read
as the product reads them: every file parses, and events land where a person reading the
raw file would put them, in the household's time zone.

The files are read from ``REPO/../shared/real-world`` (see its SOURCES.md), never copied
into the project; without that folder these tests are skipped.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests
from sources_fixtures import write_config

from homeboard.errors import SourceLimitExceeded
from homeboard.model import CalendarEvent, compose
from homeboard.sources import build_sources, fetch_all
from homeboard.sources import events as ev
from homeboard.sources.ics import ICSSource

REAL = Path(__file__).resolve().parent.parent.parent / "shared" / "real-world"
FILES = sorted(p.name for p in REAL.glob("*.ics")) if REAL.is_dir() else []

pytestmark = pytest.mark.skipif(
    not FILES, reason=f"no real-world calendars at {REAL} (shared/ sits beside the checkout)"
)


def fetch(name: str, zone: str, day: date, days: int = 4) -> tuple[CalendarEvent, ...]:
    """The events of real file ``name`` on a board in ``zone`` whose first day is ``day``."""
    tz = ZoneInfo(zone)
    source = ICSSource(name="Real", url=str(REAL / name), tz=tz, days=days)
    with requests.Session() as session:
        return source.fetch(session=session, now=datetime.combine(day, datetime.min.time(), tz))


def shown(events: tuple[CalendarEvent, ...], zone: str) -> list[str]:
    """Each event as a person would write it down from the board, in the household's zone:
    "Title: 2025-12-08" (all day), "Title: 2025-10-11..2025-10-12" (several days) or
    "Title: 2003-02-06 17:00-19:00" (timed)."""
    tz = ZoneInfo(zone)
    out = []
    for e in events:
        if e.all_day:
            assert isinstance(e.start, date) and not isinstance(e.start, datetime)
            last = e.end - timedelta(days=1)  # type: ignore[operator]
            when = f"{e.start}" if last == e.start else f"{e.start}..{last}"
        else:
            assert isinstance(e.start, datetime) and isinstance(e.end, datetime)
            start, end = e.start.astimezone(tz), e.end.astimezone(tz)
            until = f"{end:%H:%M}" if end.date() == start.date() else f"{end:%Y-%m-%d %H:%M}"
            when = f"{start:%Y-%m-%d %H:%M}-{until}"
        out.append(f"{e.title}: {when}")
    return out


# --------------------------------------------------------------------------- #
# Every file parses
# --------------------------------------------------------------------------- #

_FIRST_START = re.compile(rb"BEGIN:VEVENT.*?^DTSTART[^:\r\n]*:(\d{4})(\d{2})(\d{2})", re.S | re.M)


@pytest.mark.parametrize("name", FILES)
def test_every_real_calendar_parses(name: str) -> None:
    raw = (REAL / name).read_bytes()
    match = _FIRST_START.search(raw)
    first = date(int(match[1]), int(match[2]), int(match[3])) if match else date(2025, 1, 20)
    for zone in ("Europe/Berlin", "America/Los_Angeles"):
        for day in (first - timedelta(days=1), date(2025, 1, 20)):
            try:
                events = fetch(name, zone, day, days=7)
            except SourceLimitExceeded as exc:  # a crowded day is cut, never an error
                assert isinstance(exc.partial, tuple), f"{name}: {exc}"
                events = exc.partial
            assert all(e.calendar == "Real" for e in events)
            assert all(isinstance(e.start, datetime) != e.all_day for e in events)
            assert list(events) == sorted(events, key=lambda e: ev.sort_key(e, ZoneInfo(zone)))


def test_real_calendars_over_http(httpserver) -> None:
    # The same bytes served the way a calendar server serves them.
    for name in ("rie_issue_28_rrule_with_UTC_endinginZ.ics", "ap_office_360_nz_tz.ics"):
        httpserver.expect_request(f"/{name}").respond_with_data(
            (REAL / name).read_bytes(), content_type="text/calendar; charset=utf-8"
        )
    london, auckland = ZoneInfo("Europe/London"), ZoneInfo("Pacific/Auckland")
    with requests.Session() as session:
        bins = ICSSource(
            name="Bins",
            url=httpserver.url_for("/rie_issue_28_rrule_with_UTC_endinginZ.ics"),
            tz=london,
            days=7,
        ).fetch(session=session, now=datetime(2020, 9, 14, 7, tzinfo=london))
        work = ICSSource(
            name="Work", url=httpserver.url_for("/ap_office_360_nz_tz.ics"), tz=auckland, days=4
        ).fetch(session=session, now=datetime(2025, 10, 7, 7, tzinfo=auckland))
    assert shown(bins, "Europe/London") == ["Refuse black bin: 2020-09-17"]
    assert shown(work, "Pacific/Auckland") == [
        "9am local Wednesday event: 2025-10-08 09:00-09:30",
        "10am local time Saturday event: 2025-10-11 10:00-10:30",
    ]


# --------------------------------------------------------------------------- #
# Events land where the raw file puts them
# --------------------------------------------------------------------------- #

# (file, the household's zone, the board's first day, days, what the board lists)
CASES = [
    # Exchange all-day series whose UNTIL is local midnight in UTC: the last day stays
    (
        "rie_issue_28_rrule_with_UTC_endinginZ.ics",
        "Europe/London",
        date(2020, 9, 14),
        7,
        ["Refuse black bin: 2020-09-17"],
    ),
    (
        "rie_issue_28_rrule_with_UTC_endinginZ.ics",
        "Europe/London",
        date(2020, 9, 21),
        7,
        ["Blue Recycle bin: 2020-09-24"],
    ),
    (
        "rie_issue_28_rrule_with_UTC_endinginZ.ics",
        "America/Los_Angeles",
        date(2020, 9, 14),
        7,
        ["Refuse black bin: 2020-09-17"],
    ),
    ("rie_issue_28_rrule_with_UTC_endinginZ.ics", "Europe/London", date(2020, 9, 28), 7, []),
    # a moved instance (RECURRENCE-ID) of the same Exchange series: on the 17th of April
    (
        "rie_issue_28_rrule_with_UTC_endinginZ.ics",
        "Europe/London",
        date(2020, 4, 13),
        7,
        ["Refuse black bin: 2020-04-17"],
    ),
    # Exchange: Windows zone names without a VTIMEZONE, and an undefined custom zone
    (
        "ap_office_365_extended_timezone.ics",
        "Europe/Berlin",
        date(2024, 4, 26),
        1,
        ["Uffe: 2024-04-26 14:00-15:00"],
    ),
    (
        "ap_office_365_extended_timezone.ics",
        "America/New_York",
        date(2024, 4, 26),
        1,
        ["Uffe: 2024-04-26 08:00-09:00"],
    ),
    (
        "ap_office_365_invalid_timezone.ics",
        "Europe/Berlin",
        date(2024, 4, 26),
        1,
        ["Uffe: 2024-04-26 14:00-15:00"],
    ),
    # Exchange: custom zones, a fortnightly series with EXDATEs and an inclusive UNTIL
    (
        "ap_office_356_custom_timezone.ics",
        "Europe/Warsaw",
        date(2024, 5, 1),
        4,
        ["Zajęty: 2024-05-02 11:00-12:00"],
    ),
    ("ap_office_356_custom_timezone.ics", "Europe/Warsaw", date(2024, 12, 30), 4, []),
    (
        "ap_office_356_custom_timezone.ics",
        "Europe/Warsaw",
        date(2025, 1, 13),
        4,
        ["Wstępna akceptacja: 2025-01-14 15:00-16:00"],
    ),
    (
        "ap_office_356_custom_timezone.ics",
        "Europe/Warsaw",
        date(2026, 5, 4),
        14,
        ["Wstępna akceptacja: 2026-05-05 15:00-16:00"],
    ),
    # Exchange, New Zealand: daylight time has begun; the series' last Monday is kept
    (
        "ap_office_360_nz_tz.ics",
        "Pacific/Auckland",
        date(2025, 12, 8),
        4,
        [
            "Recurring event on Monday, Wednesday: 2025-12-08 15:00-15:30",
            "Recurring event on Monday, Wednesday: 2025-12-10 15:00-15:30",
        ],
    ),
    (
        "ap_office_360_nz_tz.ics",
        "Pacific/Auckland",
        date(2026, 5, 31),
        7,
        ["Recurring event on Monday, Wednesday: 2026-06-01 15:00-15:30"],
    ),
    # Google: UTC times in a feed whose X-WR-TIMEZONE is New York
    (
        "rie_x_wr_timezone_simple_events_issue_59.ics",
        "America/New_York",
        date(2021, 12, 22),
        1,
        [
            "Google Calendar says this is noon to 1PM on 12/22/2021: 2021-12-22 12:00-13:00",
            "Google says this is 9PM to 10PM on 12/22/2021: 2021-12-22 21:00-22:00",
        ],
    ),
    # Google: a daily series with date EXDATEs in a zone that is not the feed's
    (
        "ap_google_calendar_invalid_offset.ics",
        "America/Argentina/Buenos_Aires",
        date(2003, 2, 6),
        7,
        [f"Event Summary: 2003-02-{d:02d} 17:00-19:00" for d in (6, 7, 10, 11, 12)],
    ),
    # Google: a monthly series whose December instance moved two weeks earlier
    (
        "rie_issue_62_moved_event.ics",
        "Europe/Berlin",
        date(2021, 12, 16),
        4,
        ["Karaoke: 2021-12-17 21:30-21:30"],
    ),
    ("rie_issue_62_moved_event.ics", "Europe/Berlin", date(2021, 12, 29), 4, []),
    (
        "rie_issue_62_moved_event.ics",
        "Europe/Berlin",
        date(2022, 1, 27),
        4,
        ["Karaoke: 2022-01-28 21:30-21:30"],
    ),
    # Google: Thanksgiving week, every series' Thursday and Friday excluded; after the
    # clocks went back the times stay on the wall clock
    (
        "rie_issue_48_dst.ics",
        "America/Chicago",
        date(2020, 11, 23),
        4,
        [
            "Event#1: 2020-11-23 08:15-08:30",
            "Event#2: 2020-11-23 10:15-10:30",
            "Event#3: 2020-11-23 12:30-12:45",
            "Event#1: 2020-11-24 08:15-08:30",
            "Event#2: 2020-11-24 10:15-10:30",
            "Event#3: 2020-11-24 12:30-12:45",
            "Event#4: 2020-11-24 14:15-14:30",
        ],
    ),
    # Google: birthdays as date RDATEs and overrides
    (
        "icaljs_google_birthday.ics",
        "America/Los_Angeles",
        date(2014, 12, 9),
        4,
        ["PErson #2's birthday: 2014-12-10"],
    ),
    (
        "icaljs_google_birthday.ics",
        "America/Los_Angeles",
        date(2013, 12, 9),
        4,
        ["PErson #2's birthday: 2013-12-10"],
    ),
    # Google and Calendar Labs holiday feeds (all-day, same-day DTEND)
    (
        "ap_google_calendar_public_holidays.ics",
        "America/New_York",
        date(2023, 11, 9),
        4,
        ["Veterans Day (substitute): 2023-11-10", "Veterans Day: 2023-11-11"],
    ),
    (
        "ap_calendar_labs_same_day_dtend.ics",
        "Europe/Madrid",
        date(2025, 12, 6),
        4,
        ["Immaculate Conception Day: 2025-12-08"],
    ),
    (
        "rie_Germany_Holidays.ics",
        "Europe/Berlin",
        date(2019, 12, 23),
        4,
        ["Christmas Day: 2019-12-25", "Boxing Day: 2019-12-26"],
    ),
    # iCloud: one daily series ends as the next begins; multi-day all-day events
    (
        "ap_apple_ical.ics",
        "America/Los_Angeles",
        date(2022, 9, 25),
        4,
        [
            "Daily: 2022-09-25 09:00-10:00",
            "Daily: 2022-09-26 09:00-10:00",
            "Daily: 2022-09-27 09:00-10:00",
            "New Event: 2022-09-27 09:00-10:00",
            "Daily: 2022-09-28 09:00-10:00",
            "Daily: 2022-09-29 09:00-10:00",
        ],
    ),
    (
        "ap_apple_ical.ics",
        "America/Los_Angeles",
        date(2023, 10, 11),
        1,
        [
            "Multi-day event: 2023-10-11..2023-10-12",
            "Daily: 2023-10-11 09:00-10:00",
            "Daily: 2023-10-12 09:00-10:00",
        ],
    ),
    # Thunderbird: a moved and a changed instance; a cancelled instance
    (
        "rie_issue_223_thunderbird.ics",
        "Europe/London",
        date(2025, 4, 23),
        4,
        [
            "event: 2025-04-23 09:00-10:00",
            "event: 2025-04-24 11:00-12:00",
            "event: 2025-04-25 09:00-10:00",
            "event: 2025-04-26 09:00-10:00",
            "event: 2025-04-27 09:00-10:00",
        ],
    ),
    (
        "rie_issue_18_cancel_status.ics",
        "Europe/Berlin",
        date(2020, 1, 28),
        4,
        ["one is cancelled: 2020-01-28 22:00-23:00", "one is cancelled: 2020-01-30 22:00-23:00"],
    ),
    # Thunderbird: a Windows zone name with an empty VTIMEZONE, no title; the last
    # Thursday (UNTIL is its start) is kept
    (
        "rie_issue_107_omitting_last_event.ics",
        "America/Los_Angeles",
        date(2023, 6, 5),
        4,
        [": 2023-06-08 10:00-11:00"],
    ),
    # Nextcloud/SabreDAV: two deleted weeks; after the clocks change; a zero-size
    # event; an end before the start (the event starts when DTSTART says)
    (
        "rie_each_week_but_two_deleted.ics",
        "Europe/Berlin",
        date(2019, 3, 4),
        14,
        ["test6: 2019-03-04 00:30-01:00", "test6: 2019-03-18 00:30-01:00"],
    ),
    (
        "rie_each_week_but_two_deleted.ics",
        "Europe/Berlin",
        date(2019, 3, 31),
        2,
        ["test6: 2019-04-01 00:30-01:00"],
    ),
    (
        "rie_zero_size_event.ics",
        "Europe/Berlin",
        date(2019, 3, 4),
        1,
        ["zero size event: 2019-03-04 08:00-08:00"],
    ),
    (
        "rie_end_before_start_event.ics",
        "Europe/Berlin",
        date(2019, 3, 4),
        1,
        ["test1: 2019-03-04 08:30-08:30"],
    ),
    # Evolution: an all-day weekly series with one modified instance
    (
        "rie_recurrence_sequence_number.ics",
        "Europe/Berlin",
        date(2020, 9, 14),
        14,
        ["Base event: 2020-09-15", "Modified event: 2020-09-22"],
    ),
    # Zimbra: RDATEs (one a PERIOD), a moved RDATE instance, EXDATEs
    (
        "icaljs_recur_instances.ics",
        "America/Los_Angeles",
        date(2012, 11, 5),
        4,
        [
            "Crazy Event Thingy!: 2012-11-06 10:00-10:30",
            "Crazy Event Thingy!: 2012-11-06 20:00-20:30",
        ],
    ),
    ("icaljs_recur_instances.ics", "America/Los_Angeles", date(2012, 12, 3), 4, []),
    (
        "icaljs_recur_instances.ics",
        "America/Los_Angeles",
        date(2023, 11, 22),
        4,
        [
            "Crazy Event Thingy!: 2023-11-23 01:00-01:30",
            "Crazy Event Thingy!: 2023-11-25 01:00-04:30",
        ],
    ),
    (
        "icaljs_parserv2.ics",
        "America/Los_Angeles",
        date(2025, 1, 18),
        4,
        [
            "Calendar: 2025-01-20 10:30-11:00",
            "Calendar: 2025-01-21 10:30-11:00",
            "Calendar: 2025-01-22 10:30-11:00",
        ],
    ),
    # Proton: a SUMMARY with an unknown VALUE parameter and escaped line breaks
    (
        "ap_unknown_value_proton_mail.ics",
        "Europe/Oslo",
        date(2024, 2, 1),
        1,
        ["IBE150 NAME NAMESON A285: 2024-02-01 11:00-12:00"],
    ),
]


@pytest.mark.parametrize(
    ("name", "zone", "day", "days", "expected"),
    CASES,
    ids=[f"{c[0].removesuffix('.ics')}-{c[2]}-{c[1]}" for c in CASES],
)
def test_events_land_where_the_file_puts_them(
    name: str, zone: str, day: date, days: int, expected: list[str]
) -> None:
    assert shown(fetch(name, zone, day, days), zone) == expected


def test_a_google_feed_across_the_spring_clock_change() -> None:
    # Berlin's clocks went forward on 31 March 2019: the Thursday class stays at 08:30.
    before = shown(
        fetch("rie_daylight_saving_time.ics", "Europe/Berlin", date(2019, 3, 4)), "Europe/Berlin"
    )
    after = shown(
        fetch("rie_daylight_saving_time.ics", "Europe/Berlin", date(2019, 3, 31)), "Europe/Berlin"
    )
    assert "Open Health HACKademy - freie Termine: 2019-03-04 14:00-18:00" in before
    assert not any(e.startswith("Montessori Schulklasse") for e in before)  # EXDATE 7 & 8 Mar
    assert "Montessori Schulklasse: 2019-04-04 08:30-14:30" in after
    berlin = ZoneInfo("Europe/Berlin")
    montessori = [
        e
        for e in fetch("rie_daylight_saving_time.ics", "Europe/Berlin", date(2019, 3, 31))
        if e.title == "Montessori Schulklasse"
    ]
    assert [e.start.utcoffset() for e in montessori] == [timedelta(hours=2)]  # type: ignore[union-attr]
    assert montessori[0].start == datetime(2019, 4, 4, 8, 30, tzinfo=berlin)


def test_a_board_shows_real_events_on_their_days(tmp_path) -> None:
    # The whole path: config, fetch, compose. An all-day holiday whose DTEND equals its
    # DTSTART takes exactly its own day; the Exchange bin series keeps its last Thursday.
    config = write_config(
        tmp_path,
        f"""
        timezone: Europe/London
        weather: null
        layout: {{days: 4}}
        calendars:
          - {{name: Bins, ics_url: {REAL / "rie_issue_28_rrule_with_UTC_endinginZ.ics"}}}
          - {{name: Spain, ics_url: {REAL / "ap_calendar_labs_same_day_dtend.ics"}}}
    """,
    )
    london = ZoneInfo("Europe/London")
    for now, day, title in (
        (datetime(2020, 9, 15, 8, tzinfo=london), date(2020, 9, 17), "Refuse black bin"),
        (datetime(2025, 12, 6, 8, tzinfo=london), date(2025, 12, 8), "Immaculate Conception Day"),
    ):
        with requests.Session() as session:
            snaps = fetch_all(build_sources(config), {}, session=session, now=now)
        state = compose(config, snaps, now)
        listed = {d.date: [e.title for e in d.events] for d in state.days}
        assert [d for d, titles in listed.items() if title in titles] == [day]
        assert all(s.last_error is None for s in snaps.values())


# (file, households, first days): moments where each feed has events near the window's edges
BIG = [
    ("rie_bench_issue42.ics", ("Pacific/Auckland",), (date(2020, 12, 7),)),
    (
        "rie_Germany.ics",
        ("Pacific/Auckland", "Europe/Berlin", "America/Los_Angeles"),
        (date(2018, 12, 24), date(2019, 5, 1), date(2020, 10, 3)),
    ),
    (
        "rie_issue_173_only_modifications_error.ics",
        ("Pacific/Auckland", "America/Los_Angeles"),
        (date(2024, 3, 29), date(2024, 7, 1)),
    ),
]


@pytest.mark.parametrize(("name", "zones", "days"), BIG, ids=[b[0] for b in BIG])
def test_the_prefilter_reads_big_real_feeds_like_a_full_parse(
    name: str, zones: tuple[str, ...], days: tuple[date, ...], monkeypatch
) -> None:
    raw = (REAL / name).read_bytes()
    assert len(raw) >= ev.PREFILTER_MIN_BYTES  # the scan is at work on these
    seen = 0
    for zone in zones:
        tz = ZoneInfo(zone)
        for day in days:
            window = ev.window_for(datetime.combine(day, datetime.min.time(), tz), tz, 7)
            fast = ev.events_from_ics(raw, calendar="F", window=window)
            with monkeypatch.context() as m:
                m.setattr(ev, "prefilter", lambda data, window, **kw: ev.Prefiltered(data, 0))
                full = ev.events_from_ics(raw, calendar="F", window=window)
            assert fast == full, (zone, day)
            seen += len(fast)
    assert seen  # the moments do hold events
