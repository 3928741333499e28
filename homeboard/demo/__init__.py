"""Bundled demo data: a realistic household, deterministic for a given moment.

``homeboard render --demo`` draws this with no network, no Redis and no panel. The
scenarios give developers (and the golden-image tests) the unusual days worth
looking at: many events, long and right-to-left titles, no weather, a DST day.
"""

from __future__ import annotations

import dataclasses
import math
from datetime import UTC, date, datetime, time, timedelta
from importlib import resources
from pathlib import Path

from homeboard.config import Config, load_config
from homeboard.i18n import words_for
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
    clock_change,
)

SCENARIOS: tuple[str, ...] = (
    "default",  # a birthday today, a multi-day visit, an event underway, mixed weather
    "plain",  # an ordinary day: no special days
    "busy",  # fifteen events today
    "long",  # 300-character titles, Hebrew, Arabic, emoji and CJK
    "no-weather",  # the weather source has never answered
    "stale",  # every source failed hours ago (one cut at a cap): data shown, marked stale
    "dst",  # the day the clocks change, with a night event across it
    "i18n",  # the default week with titles in the board's language (see _TITLES)
)

# The demo week's titles as a family would type them in a few languages and scripts (the
# "i18n" scenario; the golden images of Thai, Hindi, Arabic, Hebrew, Japanese and
# Brazilian Portuguese boards). A title missing here stays in English.
_TITLES: dict[str, dict[str, str]] = {
    "th": {
        "School drop-off": "ไปส่งลูกที่โรงเรียน",
        "Zumba": "เต้นซุมบ้า",
        "Lunch with Sarah": "กินข้าวกลางวันกับซาร่า",
        "Gymnastics": "ยิมนาสติก",
        "Family dinner at Nonna's": "กินข้าวเย็นบ้านคุณยาย",
        "Grandma visiting": "คุณย่ามาเยี่ยม",
        "Kindergym": "คลาสยิมเด็กเล็ก",
        "Ballet": "เรียนบัลเลต์",
        "Teacher conference day": "ประชุมผู้ปกครองกับคุณครู",
        "Dentist": "หาหมอฟัน",
        "Movie night": "ดูหนังด้วยกัน",
        "Recycling pickup": "รถเก็บขยะรีไซเคิล",
        "Piano lesson": "เรียนเปียโน",
        "Soccer practice": "ซ้อมฟุตบอล",
    },
    "hi": {
        "School drop-off": "बच्चों को स्कूल छोड़ना",
        "Zumba": "ज़ुम्बा क्लास",
        "Lunch with Sarah": "सारा के साथ दोपहर का खाना",
        "Gymnastics": "जिम्नास्टिक्स",
        "Family dinner at Nonna's": "नानी के घर रात का खाना",
        "Grandma visiting": "दादी जी आ रही हैं",
        "Kindergym": "बच्चों की कसरत",
        "Ballet": "बैले क्लास",
        "Teacher conference day": "अभिभावक-शिक्षक बैठक",
        "Dentist": "दाँतों के डॉक्टर",
        "Movie night": "फ़िल्म की रात",
        "Recycling pickup": "कबाड़ी वाला आएगा",
        "Piano lesson": "पियानो की क्लास",
        "Soccer practice": "फ़ुटबॉल अभ्यास",
    },
    "ar": {
        "School drop-off": "توصيل الأولاد إلى المدرسة",
        "Zumba": "زومبا",
        "Lunch with Sarah": "غداء مع سارة",
        "Gymnastics": "جمباز",
        "Family dinner at Nonna's": "عشاء عائلي عند الجدة",
        "Grandma visiting": "زيارة الجدة",
        "Kindergym": "رياضة الأطفال",
        "Ballet": "باليه",
        "Teacher conference day": "اجتماع أولياء الأمور",
        "Dentist": "طبيب الأسنان",
        "Movie night": "سهرة فيلم",
        "Recycling pickup": "جمع المواد المعاد تدويرها",
        "Piano lesson": "درس البيانو",
        "Soccer practice": "تمرين كرة القدم",
    },
    "he": {
        "School drop-off": "הסעה לבית הספר",
        "Zumba": "זומבה",
        "Lunch with Sarah": "ארוחת צהריים עם שרה",
        "Gymnastics": "התעמלות",
        "Family dinner at Nonna's": "ארוחת ערב אצל סבתא",
        "Grandma visiting": "סבתא באה לבקר",
        "Kindergym": "חוג התעמלות לקטנים",
        "Ballet": "בלט",
        "Teacher conference day": "אסיפת הורים",
        "Dentist": "רופא שיניים",
        "Movie night": "ערב סרט",
        "Recycling pickup": "פינוי מחזור",
        "Piano lesson": "שיעור פסנתר",
        "Soccer practice": "אימון כדורגל",
    },
    "ja": {
        "School drop-off": "学校へ送る",
        "Zumba": "ズンバ",
        "Lunch with Sarah": "サラとランチ",
        "Gymnastics": "体操教室",
        "Family dinner at Nonna's": "おばあちゃんの家で夕食",
        "Grandma visiting": "おばあちゃんが来る",
        "Kindergym": "キッズ体操",
        "Ballet": "バレエ",
        "Teacher conference day": "保護者面談",
        "Dentist": "歯医者",
        "Movie night": "映画の夜",
        "Recycling pickup": "資源ごみの日",
        "Piano lesson": "ピアノのレッスン",
        "Soccer practice": "サッカーの練習",
    },
    "pt_BR": {
        "School drop-off": "Levar as crianças à escola",
        "Zumba": "Zumba",
        "Lunch with Sarah": "Almoço com a Sarah",
        "Gymnastics": "Ginástica",
        "Family dinner at Nonna's": "Jantar na casa da vovó",
        "Grandma visiting": "Visita da vovó",
        "Kindergym": "Ginástica infantil",
        "Ballet": "Balé",
        "Teacher conference day": "Reunião de pais e mestres",
        "Dentist": "Dentista",
        "Movie night": "Noite de cinema",
        "Recycling pickup": "Coleta seletiva",
        "Piano lesson": "Aula de piano",
        "Soccer practice": "Treino de futebol",
    },
}


def _title(config: Config, scenario: str, title: str) -> str:
    """``title`` in the board's language for the "i18n" scenario (else as it is)."""
    if scenario != "i18n":
        return title
    return _TITLES.get(config.language, {}).get(title, title)


ATTRIBUTION = "Weather: Open-Meteo.com (CC BY 4.0)"

# (day offset, start "HH:MM" or None for all-day, minutes (or days when all-day), title, calendar)
_WEEK: tuple[tuple[int, str | None, int, str, str], ...] = (
    (0, "07:45", 30, "School drop-off", "Kyle"),
    (0, "09:00", 60, "Zumba", "Jess"),
    (0, "12:30", 45, "Lunch with Sarah", "Jess"),
    (0, "15:45", 75, "Gymnastics", "Heather"),
    (0, "18:30", 90, "Family dinner at Nonna's", "Family"),
    (1, None, 3, "Grandma visiting", "Family"),
    (1, "09:30", 60, "Kindergym", "Corinne"),
    (1, "16:45", 60, "Ballet", "Heather"),
    (2, "08:00", 480, "Teacher conference day", "Jess"),
    (2, "14:30", 30, "Dentist", "Kyle"),
    (2, "19:00", 120, "Movie night", "Family"),
    (3, None, 1, "Recycling pickup", "Family"),
    (3, "10:00", 60, "Piano lesson", "Corinne"),
    (3, "17:30", 90, "Soccer practice", "Kyle"),
    (4, "09:00", 60, "Zumba", "Jess"),
    (5, "11:00", 120, "Farmers market", "Family"),
    (6, "10:00", 90, "Brunch", "Family"),
)

_SKY = (
    "clear",
    "partly_cloudy",
    "overcast",
    "showers",
    "rain",
    "mostly_clear",
    "fog",
    "thunderstorm",
    "snow",
    "drizzle",
)
_WMO = {
    "clear": 0,
    "mostly_clear": 1,
    "partly_cloudy": 2,
    "overcast": 3,
    "fog": 45,
    "drizzle": 53,
    "rain": 63,
    "showers": 80,
    "snow": 73,
    "thunderstorm": 95,
}


def demo_config(base: Config | None = None) -> Config:
    """The demo household's config; with ``base``, take its look (units, clock, layout, display)."""
    ref = resources.files("homeboard.demo").joinpath("config.yaml")
    with resources.as_file(ref) as path:
        config = load_config(Path(path))
    if base is None:
        return config
    return dataclasses.replace(
        config,
        timezone=base.timezone,
        language=base.language,
        units=base.units,
        clock=base.clock,
        layout=base.layout,
        display=base.display,
        location=base.location or config.location,
    )


def _at(day: date, hhmm: str, config: Config) -> datetime:
    hours, minutes = (int(p) for p in hhmm.split(":"))
    return datetime.combine(day, time(hours, minutes), config.tz)


def _events(config: Config, today: date, scenario: str) -> dict[str, list[CalendarEvent]]:
    by_cal: dict[str, list[CalendarEvent]] = {c.name: [] for c in config.calendars}
    week = list(_WEEK)
    if scenario == "busy":
        titles = [
            "Standup",
            "Call the plumber",
            "Pick up prescription",
            "Yoga",
            "Vet",
            "Bank",
            "Haircut",
            "Groceries",
            "Book club",
            "Swim",
            "Library",
            "Parent meeting",
            "Bake sale",
            "Choir",
            "Date night",
        ]
        cals = ["Jess", "Family", "Kyle", "Corinne", "Heather"]
        week = [w for w in week if w[0] != 0] + [
            (0, f"{7 + i:02d}:{(i * 20) % 60:02d}", 45, t, cals[i % len(cals)])
            for i, t in enumerate(titles)
        ]
    if scenario == "long":
        week = [w for w in week if w[0] not in (0, 1)] + [
            (0, "09:00", 120, "Quarterly planning " + "and very long agenda " * 14, "Jess"),
            (0, "10:00", 60, "ארוחת צהריים עם סבתא", "Family"),
            (0, "12:00", 60, "اجتماع أولياء الأمور", "Kyle"),
            (0, "15:00", 60, "🎂 Party prep 🎉🎈", "Corinne"),
            (0, "17:00", 60, "中文课 · 日本語 · 한국어", "Heather"),
            (1, None, 2, "Conference: " + "x" * 290, "Jess"),
            (1, "09:30", 60, "W" * 300, "Kyle"),
        ]
    if scenario == "dst":
        week.append((0, "23:00", 240, "Night shift", "Jess"))
    for offset, start, length, title, cal in week:
        if cal not in by_cal:
            continue
        title = _title(config, scenario, title)
        day = today + timedelta(days=offset)
        if start is None:
            ev = CalendarEvent(
                title=title,
                start=day,
                end=day + timedelta(days=length),
                all_day=True,
                calendar=cal,
                uid=f"demo-{offset}-{title}",
            )
        else:
            begin = _at(day, start, config)
            # Elapsed time, not wall-clock time: a night across a DST change is 4 h long.
            end = (begin.astimezone(UTC) + timedelta(minutes=length)).astimezone(config.tz)
            ev = CalendarEvent(
                title=title,
                start=begin,
                end=end,
                all_day=False,
                calendar=cal,
                uid=f"demo-{offset}-{title}",
            )
        by_cal[cal].append(ev)
    return by_cal


def _weather(config: Config, today: date, now: datetime) -> WeatherData:
    imperial = config.units == "imperial"
    daily = []
    for i in range(7):
        day = today + timedelta(days=i)
        n = day.toordinal()
        sky = _SKY[(n * 7) % len(_SKY)]
        high_c = 14 + 6 * math.sin(n / 3.0)
        low_c = high_c - 7 - (n % 3)
        if sky == "snow":
            high_c, low_c = 1.0, -4.0
        high, low = (high_c * 9 / 5 + 32, low_c * 9 / 5 + 32) if imperial else (high_c, low_c)
        chance = {"showers": 60, "rain": 80, "thunderstorm": 70, "snow": 90, "drizzle": 40}
        daily.append(
            Forecast(
                date=day,
                category=sky,
                high=round(high),
                low=round(low),
                precip_chance=chance.get(sky, (n * 13) % 20),
                code=_WMO[sky],
            )
        )
    first = daily[0]
    local = now.astimezone(config.tz)
    is_day = 7 <= local.hour < 18
    temp = first.low + (first.high - first.low) * (0.8 if is_day else 0.2)  # type: ignore[operator]
    current = Current(
        temperature=round(temp, 1),
        category=first.category,
        is_day=is_day,
        apparent=round(temp - 2),
        code=first.code,
    )
    return WeatherData(current=current, daily=tuple(daily), attribution=ATTRIBUTION)


def _specials(config: Config, today: date, scenario: str) -> tuple[SpecialDay, ...]:
    if scenario == "plain":
        return ()
    # In the board's language, as SpecialDaysSource would write them.
    words = words_for(config.language)
    out = [
        SpecialDay(
            date=today,
            kind="birthday",
            title=words.birthday_age("Corinne", 8),
            message=words.birthday.format(name="Corinne"),
            icon="birthday",
        ),
        SpecialDay(
            date=today + timedelta(days=2),
            kind="anniversary",
            title=words.anniversary_years("Jess & Kyle", 12),
            message=words.anniversary.format(name="Jess & Kyle"),
            icon="anniversary",
        ),
    ]
    if scenario == "dst":
        change = _clock_change(config, today)
        if change is not None:
            day, back = change
            title, message = words.clock_change(timedelta(hours=-1 if back else 1))
            out[1] = SpecialDay(
                date=day,
                kind="dst",
                title=title,
                message=message,
                icon="dst_back" if back else "dst_forward",
                color="black",
            )
    return tuple(out)


def _clock_change(config: Config, today: date) -> tuple[date, bool] | None:
    """The first day within a week whose clocks change, and whether they go back."""
    for offset in range(7):
        day = today + timedelta(days=offset)
        delta = clock_change(day, config.tz)
        if delta is not None:
            return day, delta < timedelta(0)
    return None


def demo_snapshots(
    config: Config, now: datetime, *, scenario: str = "default"
) -> dict[str, Snapshot]:
    """Snapshots of the demo household's sources as they would be cached at ``now``."""
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown demo scenario {scenario!r}; choose from {', '.join(SCENARIOS)}")
    local = now.astimezone(config.tz)
    today = local.date()
    # The data "changed" at the last quarter hour, like a live board's refresh would
    # show; fetched a minute after that.
    changed = local.replace(minute=local.minute - local.minute % 15, second=0, microsecond=0)
    fetched = changed + timedelta(minutes=1) if changed + timedelta(minutes=1) <= local else changed
    # Stale: the weather failed five hours ago, the calendars nine, and the Family
    # calendar grew past a cap (cut, its last good data kept).
    weather_changed, weather_fetched = changed, fetched
    if scenario == "stale":
        weather_changed -= timedelta(hours=5)
        weather_fetched -= timedelta(hours=5)
        changed -= timedelta(hours=9)
        fetched -= timedelta(hours=9)
    snaps: dict[str, Snapshot] = {}
    if scenario != "no-weather":
        snaps[WEATHER] = Snapshot(
            name=WEATHER,
            kind="weather",
            data=_weather(config, today, now),
            fetched_at=weather_fetched,
            changed_at=weather_changed,
        )
    else:
        snaps[WEATHER] = Snapshot(
            name=WEATHER,
            kind="weather",
            data=None,
            last_error="connection refused",
            attempted_at=fetched,
        )
    for cal, events in _events(config, today, scenario).items():
        name = calendar_source(cal)
        snaps[name] = Snapshot(
            name=name,
            kind="calendar",
            data=tuple(events),
            fetched_at=fetched,
            changed_at=changed,
            last_error=_calendar_error(cal, scenario),
            cut=scenario == "stale" and cal == "Family",
        )
    snaps[SPECIAL] = Snapshot(
        name=SPECIAL,
        kind="special",
        data=_specials(config, today, scenario),
        fetched_at=fetched,
        changed_at=changed,
    )
    return snaps


def _calendar_error(calendar: str, scenario: str) -> str | None:
    if scenario != "stale":
        return None
    return "too large: more than 10 MB" if calendar == "Family" else "timed out"


def demo_moment(config: Config, scenario: str = "default") -> datetime:
    """A fixed moment that shows ``scenario`` well (used by the golden images)."""
    if scenario == "dst":
        return datetime(2026, 10, 31, 9, 30, tzinfo=config.tz)
    return datetime(2026, 11, 25, 9, 20, tzinfo=config.tz)
