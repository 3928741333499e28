"""What the frame says: numbers read whole, the place, long words, the footer's notes, and
frames drawn whatever a source returned."""

from __future__ import annotations

import dataclasses
import math
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from render_cases import Case, Shown, texts_of

import drivers
from drivers.palette import BLACK, RED
from homeboard.i18n import WORDS
from homeboard.model import BoardState, Current, Day, Event, Forecast, SourceState, Special
from homeboard.render import render
from homeboard.render.layout import format_temp, wrap_text
from homeboard.render.layout.metrics import format_chance
from homeboard.render.text import ELLIPSIS, MAX_TEXT_CHARS, get_font, text_width

PANELS = sorted(drivers.PANELS)
TZ = ZoneInfo("Europe/Berlin")
DAY = date(2026, 11, 25)


def _with_chances(state: BoardState, chances: list[int]) -> BoardState:
    days = tuple(
        dataclasses.replace(day, forecast=dataclasses.replace(day.forecast, precip_chance=chance))
        for day, chance in zip(state.days, chances, strict=True)
        if day.forecast is not None
    )
    return dataclasses.replace(state, days=days)


def _texts(shown: list[Shown]) -> list[str]:
    return [s.text for s in shown]


# --------------------------------------------------------------------------- #
# Numbers are read whole
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("panel", PANELS)
@pytest.mark.parametrize("orientation", ["portrait", "landscape"])
@pytest.mark.parametrize("scenario", ["default", "busy"])
def test_every_days_chance_of_rain_is_shown_whole(
    panel: str, orientation: str, scenario: str
) -> None:
    """Portrait used to cut today's 30 % to "3…" and showed no chance in its rows (and
    no forecast at all in a crowded row)."""
    chances = [30, 60, 45, 100]
    state = Case("x", scenario=scenario, orientation=orientation).state()
    state = _with_chances(state, chances)
    shown = texts_of(state, panel, orientation)
    for chance in chances:
        holding = [s for s in shown if f"{chance}%" in s.asked]
        assert holding, f"{chance}% is not drawn at all ({orientation}, {panel})"
        assert all(f"{chance}%" in s.text for s in holding), [s.text for s in holding]
    weather_texts = [s for s in shown if "°" in s.asked or "%" in s.asked]
    assert weather_texts and not [s.text for s in weather_texts if s.cut]


@pytest.mark.parametrize("panel", PANELS)
@pytest.mark.parametrize("orientation", ["portrait", "landscape"])
@pytest.mark.parametrize("days", [4, 7])
def test_wide_numbers_are_read_whole(panel: str, orientation: str, days: int) -> None:
    """A cold, wet week: "-13°/-25°" and "100%" in the narrowest places, never cut."""
    state = Case("x", orientation=orientation, days=days).state()
    cold = tuple(
        dataclasses.replace(
            d, forecast=dataclasses.replace(d.forecast, high=-12.5, low=-25.2, precip_chance=100)
        )
        for d in state.days
        if d.forecast is not None
    )
    state = dataclasses.replace(
        state,
        days=cold,
        current=dataclasses.replace(state.current, temperature=-18.6),  # type: ignore[arg-type]
    )
    shown = texts_of(state, panel, orientation)
    numbers = [s for s in shown if "°" in s.asked or "%" in s.asked]
    assert any("-13°/-25°" in s.text for s in numbers)
    assert not [s.text for s in numbers if s.cut]


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        (18.5, "19°"),
        (17.5, "18°"),
        (18.49, "18°"),
        (0.5, "1°"),
        (-0.5, "-1°"),
        (-17.5, "-18°"),
        (-0.4, "0°"),
        (-0.0, "0°"),
        (64.49999999999999, "65°"),  # 64.5 after a unit conversion
        (72, "72°"),
        (None, "–"),
        (math.nan, "–"),
        (math.inf, "–"),
        (-math.inf, "–"),
        (1e308, "–"),
        (99999.0, "–"),
    ],
)
def test_temperatures_round_as_people_do(value: float | None, shown: str) -> None:
    assert format_temp(value) == shown


def test_the_rounded_temperature_is_what_the_frame_shows() -> None:
    state = Case("x", scenario="plain").state()
    forecast = dataclasses.replace(state.today.forecast, high=18.5, low=-0.4)  # type: ignore[arg-type]
    state = dataclasses.replace(
        state,
        current=dataclasses.replace(state.current, temperature=2.5),  # type: ignore[arg-type]
        days=(dataclasses.replace(state.today, forecast=forecast), *state.days[1:]),
    )
    texts = _texts(texts_of(state))
    assert "3°" in texts
    assert any(t.startswith("19° / 0°") for t in texts), texts
    assert not any("-0°" in t for t in texts)


@pytest.mark.parametrize(
    ("value", "shown"),
    [(30, "30%"), (30.5, "31%"), (100, "100%"), (0, ""), (None, ""), (math.nan, ""), (-5, ""),
     (1e9, ""), (math.inf, "")],
)  # fmt: skip
def test_chances_outside_0_to_100_are_not_drawn(value: float | None, shown: str) -> None:
    assert format_chance(value) == shown


# --------------------------------------------------------------------------- #
# The place
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    ("days", "orientation"), [(1, "landscape"), (4, "landscape"), (7, "landscape"), (4, "portrait")]
)
def test_the_place_is_shown_with_the_weather(days: int, orientation: str) -> None:
    state = Case("x", days=days, orientation=orientation).state()
    assert state.weather_enabled and state.location == "Livermore"
    shown = texts_of(state, orientation=orientation)
    place = [s for s in shown if s.text == "Livermore"]
    assert place, _texts(shown)
    # Under the weather: below the current temperature, above today's events.
    temperature = next(s for s in shown if s.asked == format_temp(state.current.temperature))  # type: ignore[union-attr]
    assert place[0].box[1] >= temperature.box[3]
    first_event = next(s for s in shown if s.asked == "Zumba")
    assert place[0].box[3] <= first_event.box[1]


def test_no_place_line_without_a_place_name() -> None:
    state = dataclasses.replace(Case("x").state(), location=None)
    assert not [s for s in texts_of(state) if s.text == "Livermore"]
    blank = dataclasses.replace(state, location="  ")
    panel = drivers.PANELS["waveshare_epd7in5b_v2"]
    assert render(blank, panel).tobytes() == render(state, panel).tobytes()


# --------------------------------------------------------------------------- #
# Long words
# --------------------------------------------------------------------------- #


def test_a_long_first_word_breaks_across_the_two_lines() -> None:
    """A 7-day German board: "Audiogesteuerte Lichter" showed "Audiog…" and an empty line."""
    title = "Audiogesteuerte Lichter"
    state = Case("x", days=7, overrides=(("language", "de"),)).state()
    day = state.days[2]
    start = datetime.combine(day.date, datetime.min.time(), TZ) + timedelta(hours=19)
    event = Event(title, start, start + timedelta(hours=1), False, "c", "", "black")
    state = dataclasses.replace(
        state,
        days=(*state.days[:2], dataclasses.replace(day, events=(event,)), *state.days[3:]),
    )
    shown = texts_of(state)
    first = next(s for s in shown if s.asked.startswith("Audio"))
    second = next(s for s in shown if s.box[0] == first.box[0] and s.box[1] == first.box[3])
    assert not first.cut and len(first.text) > len("Audiog"), first
    # The rest of the word goes on the second line, which cuts what does not fit.
    assert second.text.removesuffix(ELLIPSIS), second
    assert title.startswith(first.text + second.text.removesuffix(ELLIPSIS)), (first, second)


def test_wrap_text_breaks_a_long_word_between_whole_characters() -> None:
    font = get_font(16)
    width = 60
    for word in ("Audiogesteuerte", "👨‍👩‍👧" * 12, "e\u0301" * 30, "ไม่" * 20):
        lines = wrap_text(f"{word} Lichter", font, width, 2)
        assert len(lines) == 2 and lines[0], (word, lines)
        assert all(text_width(line, font) <= width for line in lines)
        joined = lines[0] + lines[1].removesuffix(ELLIPSIS)
        # Nothing lost or broken at the seam: the lines are the start of the text.
        assert f"{word} Lichter".replace("e\u0301", "é").startswith(joined.rstrip()), lines
    # One line only: the word is cut with an ellipsis, as before.
    assert wrap_text("Audiogesteuerte Lichter", font, width, 1)[0].endswith(ELLIPSIS)
    # Not even one character fits: no endless loop, one cut line.
    assert wrap_text("Audiogesteuerte", font, 3, 2) == [""]


# --------------------------------------------------------------------------- #
# The footer
# --------------------------------------------------------------------------- #


def _footer(shown: list[Shown], height: int) -> list[Shown]:
    return [s for s in shown if s.box[1] >= height - 30]


def test_the_stale_note_gives_the_oldest_time() -> None:
    state = Case("x", overrides=(("clock", "24h"),)).state()
    times = {
        "Jess": datetime(2026, 11, 25, 8, 30, tzinfo=TZ),
        "Kyle": datetime(2026, 11, 25, 6, 5, tzinfo=TZ),
        "Family": datetime(2026, 11, 25, 7, 45, tzinfo=TZ),
    }
    sources = tuple(
        dataclasses.replace(s, status="stale", fetched_at=times[s.label]) if s.label in times else s
        for s in state.sources
    )
    state = dataclasses.replace(state, sources=sources, timezone="Europe/Berlin")
    notes = [s.text for s in _footer(texts_of(state), 480) if s.fill == RED]
    assert any("as of 6:05" in n for n in notes), notes
    assert not any("8:30" in n or "7:45" in n for n in notes), notes
    # The name shown first is the one the time is for.
    assert any(n.startswith("Kyle") for n in notes), notes


@pytest.mark.parametrize("language", sorted(WORDS))
def test_a_cut_source_is_said_in_red_in_the_boards_language(language: str) -> None:
    state = dataclasses.replace(Case("x").state(), language=language)
    sources = tuple(
        dataclasses.replace(s, cut=True) if s.label == "Family" else s for s in state.sources
    )
    assert sources != state.sources
    words = WORDS[language]
    notes = _footer(texts_of(dataclasses.replace(state, sources=sources)), 480)
    said = [s for s in notes if s.text == words.cut.format(name="Family")]
    assert said and said[0].fill == RED, [s.text for s in notes]
    # Not said when nothing was cut.
    assert not [s for s in _footer(texts_of(state), 480) if "Family" in s.text]


def test_every_kind_of_note_shows_even_with_a_very_long_name() -> None:
    state = Case("x", scenario="stale").state()
    long_name = "Kindergarten Sonnenschein Elternbeirat " * 20
    sources = (
        *state.sources,
        SourceState("calendar:long", "calendar", long_name, "unavailable"),
    )
    notes = [s.text for s in _footer(texts_of(dataclasses.replace(state, sources=sources)), 480)]
    assert any("unavailable" in n for n in notes), notes
    assert any("too large, cut" in n for n in notes), notes
    assert any(" as of " in n for n in notes), notes


# --------------------------------------------------------------------------- #
# Whatever a source returns, a frame is drawn
# --------------------------------------------------------------------------- #

HUGE = "Elternabend " * 180_000  # about 2,000,000 characters
HOSTILE_TITLES = (
    HUGE,
    "x" * 2_000_000,
    "",
    " ",
    "\x00\x01\x07\x1b[31mbell\r\n\t",
    "🎉🎂🎈" * 4,
    "👨‍👩‍👧",
    "\u200b" * 5000,
    "\u0301" * 3000,
    "\ud7ff\uffff\U0010ffff",
    "lone \ud800 surrogate",
)
HOSTILE_NUMBERS = (math.nan, math.inf, -math.inf, 1e308, -1e308, 99999.0, -0.5)


def hostile_state(days: int) -> BoardState:
    """A state holding everything a broken or hostile source might deliver."""
    out = []
    for i in range(days):
        d = DAY + timedelta(days=i)
        forecast = Forecast(
            date=d,
            category="no such category",
            high=HOSTILE_NUMBERS[i % 7],
            low=HOSTILE_NUMBERS[(i + 3) % 7],
            precip_chance=(math.nan, 1e9, -5, 30.5, None, 100, 0)[i % 7],  # type: ignore[arg-type]
        )
        at = datetime.combine(d, datetime.min.time(), TZ) + timedelta(hours=7)
        events = [
            Event(t, at + timedelta(hours=k), at + timedelta(hours=k + 1), False, "c", t, "red",
                  underway=k == 0)
            for k, t in enumerate(HOSTILE_TITLES)
        ]  # fmt: skip
        events += [
            Event(t, d, d + timedelta(days=1), True, "c", t, "black", continues_to=True)
            for t in HOSTILE_TITLES[:4]
        ]
        events.append(Event(HUGE, d, d + timedelta(days=1), True, "", "", "red", special=True,
                            icon="no such icon"))  # fmt: skip
        special = Special(kind="birthday", title=HUGE, message=HUGE, icon="nope")
        out.append(Day(date=d, forecast=forecast, events=tuple(events), special=special))
    return BoardState(
        date=DAY,
        timezone="Europe/Berlin",
        days=tuple(out),
        current=Current(temperature=math.nan, category="\x00", apparent=math.inf),
        sources=(
            SourceState(
                "calendar:x",
                "calendar",
                HUGE,
                "stale",
                fetched_at=datetime(2026, 11, 24, 8, tzinfo=TZ),
                cut=True,
            ),
            SourceState("calendar:y", "calendar", "", "unavailable", cut=True),
            SourceState(
                "weather", "weather", "Weather", "stale", fetched_at=datetime(2026, 11, 25)
            ),
        ),  # fmt: skip
        updated_at=datetime(2026, 11, 25, 8, tzinfo=TZ),
        attribution=(HUGE,),
        location=HUGE,
    )


@pytest.mark.parametrize("panel", PANELS)
@pytest.mark.parametrize("orientation", ["landscape", "portrait"])
@pytest.mark.parametrize("days", [1, 4, 7])
def test_whatever_a_source_returns_a_frame_is_drawn(
    panel: str, orientation: str, days: int
) -> None:
    state = hostile_state(days)
    shown = texts_of(state, panel, orientation)
    frame = render(state, drivers.PANELS[panel], orientation=orientation)  # type: ignore[arg-type]
    assert frame.mode == "P"
    assert {i for _c, i in frame.getcolors(maxcolors=256)} <= {0, 1, 2}
    texts = _texts(shown)
    # The date is there, the broken numbers are dashes, and no text is longer than can show.
    assert any("25" in t for t in texts), texts[:10]
    assert "–" in texts
    assert not any(w in t for t in texts for w in ("nan", "inf", "99999"))
    assert max(len(t) for t in texts) <= MAX_TEXT_CHARS
    # The footer still says what is wrong, in red.
    assert any(s.fill == RED for s in shown if s.box[1] >= frame.height - 30)
    assert any(s.fill == BLACK for s in shown)


@pytest.mark.parametrize("panel", PANELS)
def test_a_crowded_portrait_week_keeps_every_days_header_in_its_own_row(panel: str) -> None:
    """A busy today and one busy day used to squeeze the quiet days' rows below their
    header: dates overlapped the next row and the last day's date fell off the frame."""

    def timed(day: date, n: int) -> tuple[Event, ...]:
        start = datetime.combine(day, datetime.min.time(), TZ) + timedelta(hours=8)
        return tuple(
            Event(
                title=f"Event {i}",
                start=start + timedelta(minutes=i),
                end=start + timedelta(hours=1, minutes=i),
                all_day=False,
                calendar="c",
                label="",
                color="black",
            )
            for i in range(n)
        )

    counts = [9, 0, 0, 0, 18, 7, 0]
    days = tuple(
        Day(date=DAY + timedelta(days=i), forecast=None, events=timed(DAY + timedelta(days=i), n))
        for i, n in enumerate(counts)
    )
    state = BoardState(date=DAY, timezone="Europe/Berlin", days=days, weather_enabled=False)
    shown = texts_of(state, panel, "portrait")
    frame_h = max(drivers.PANELS[panel].size)  # portrait: the long side is the height
    words = WORDS["en"]
    headers = []
    for day in days[1:]:
        weekday = next(s for s in shown if s.asked == words.days_short[day.date.weekday()])
        dated = next(
            s
            for s in shown
            if s.asked.endswith(f" {day.date.day}")
            and s.box[0] == weekday.box[0]
            and s.box[1] > weekday.box[1]
        )
        assert dated.box[3] <= frame_h, f"{dated.asked} falls off the frame ({panel})"
        headers.append((weekday.box[1], dated.box[3], dated.asked))
    for (_, bottom, name), (top, _, nxt) in zip(headers, headers[1:], strict=False):
        assert bottom <= top, f"{name}'s date runs into {nxt}'s row ({panel})"
