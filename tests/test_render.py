"""Rendering: golden images pixel by pixel, the palette, and boxes that hold their text."""

from __future__ import annotations

import dataclasses
import os
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageChops, ImageDraw
from render_cases import CASES, LAYOUT_MODULES, Case

import drivers
from drivers.palette import PALETTE_RGB, RED, new_frame
from homeboard.model import BoardState, Current, Day, Event, Forecast, SourceState, Special
from homeboard.render import render
from homeboard.render import text as text_module
from homeboard.render.icons import WEATHER_CATEGORIES

GOLDEN = Path(__file__).parent / "golden"
OUTPUT = Path(__file__).parent / "output"
UPDATE = os.environ.get("HOMEBOARD_UPDATE_GOLDEN") == "1"


def _rgb(image: Image.Image) -> Image.Image:
    return image.convert("RGB")


def compare_golden(
    name: str,
    actual: Image.Image,
    *,
    golden: Path = GOLDEN,
    output: Path = OUTPUT,
    update: bool = UPDATE,
) -> None:
    """Compare pixel by pixel with GOLDEN/NAME.png; on a difference save actual and diff.

    With ``update`` (HOMEBOARD_UPDATE_GOLDEN=1) a differing golden is rewritten, and the
    test still fails: an update run is never green, so nobody can mistake a rewrite of
    every golden for a passing suite. Review the saved diffs and commit the new images.
    """
    path = golden / f"{name}.png"
    actual_rgb = _rgb(actual)
    if not path.exists():
        if update:
            golden.mkdir(parents=True, exist_ok=True)
            actual_rgb.save(path)
            pytest.fail(f"{name}: new golden written to {path}; review it and commit")
        pytest.fail(
            f"no golden image {path}; create it on purpose with "
            "HOMEBOARD_UPDATE_GOLDEN=1 ./scripts/test tests/test_render.py"
        )
    with Image.open(path) as stored:
        expected = stored.convert("RGB")
    if expected.size == actual_rgb.size:
        diff = ImageChops.difference(expected, actual_rgb)
        if diff.getbbox() is None:
            if update:
                pytest.fail(f"{name}: golden unchanged (an update run never passes)")
            return
    output.mkdir(parents=True, exist_ok=True)
    actual_rgb.save(output / f"{name}.actual.png")
    if expected.size == actual_rgb.size:
        # Differing pixels in red on a faded copy of the expected image.
        mask = diff.convert("L").point(lambda v: 255 if v else 0)
        faded = Image.blend(expected, Image.new("RGB", expected.size, "white"), 0.7)
        faded.paste((255, 0, 0), mask=mask)
        faded.save(output / f"{name}.diff.png")
        what = f"{mask.histogram()[255]} pixels differ from {path}"
    else:
        what = f"size {actual_rgb.size} != golden {expected.size}"
    if update:
        actual_rgb.save(path)
        pytest.fail(f"{name}: golden updated ({what}); review {output}/{name}.diff.png and commit")
    pytest.fail(f"{name}: {what}; see {output}/{name}.diff.png")


def test_an_update_run_is_never_green(tmp_path: Path) -> None:
    """HOMEBOARD_UPDATE_GOLDEN=1 writes the new image and the diff, and still fails."""
    golden, output = tmp_path / "golden", tmp_path / "output"
    old = new_frame((40, 20))
    new = old.copy()
    ImageDraw.Draw(new).rectangle((5, 5, 9, 9), fill=RED)
    # A new golden: written, and the test fails.
    with pytest.raises(pytest.fail.Exception, match="new golden written"):
        compare_golden("x", old, golden=golden, output=output, update=True)
    assert (golden / "x.png").exists()
    # Unchanged: left alone, and still the test fails.
    with pytest.raises(pytest.fail.Exception, match="unchanged"):
        compare_golden("x", old, golden=golden, output=output, update=True)
    # A changed picture: the golden is rewritten, the diff kept, and the test fails.
    with pytest.raises(pytest.fail.Exception, match="golden updated.*25 pixels differ"):
        compare_golden("x", new, golden=golden, output=output, update=True)
    with Image.open(golden / "x.png") as written:
        assert ImageChops.difference(written.convert("RGB"), _rgb(new)).getbbox() is None
    assert (output / "x.diff.png").exists() and (output / "x.actual.png").exists()
    # Without update the new golden now passes, and the old picture fails.
    compare_golden("x", new, golden=golden, output=output, update=False)
    with pytest.raises(pytest.fail.Exception, match="25 pixels differ"):
        compare_golden("x", old, golden=golden, output=output, update=False)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_golden(case: Case) -> None:
    frame = case.draw()
    panel = drivers.PANELS[case.panel]
    expected = (panel.width, panel.height)
    if case.orientation == "portrait":
        expected = (panel.height, panel.width)
    assert frame.size == expected
    compare_golden(case.name, frame)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_only_the_three_colours(case: Case) -> None:
    frame = case.draw()
    assert frame.mode == "P"
    used = {index for _count, index in frame.getcolors(maxcolors=256)}
    assert used <= {0, 1, 2}
    colours = {colour for _count, colour in _rgb(frame).getcolors(maxcolors=256)}
    assert colours <= set(PALETTE_RGB)
    assert len(colours) >= 2, "a frame with one colour looks like a crash"


def test_same_data_same_bytes_whatever_the_minute() -> None:
    case = Case("x", scenario="plain")
    config = case.config()
    first = datetime(2026, 11, 25, 9, 1, tzinfo=config.tz)
    frames = {
        render(
            case.state(first + timedelta(minutes=m, seconds=7 * m)), drivers.PANELS[case.panel]
        ).tobytes()
        for m in range(0, 14, 3)
    }
    assert len(frames) == 1


def test_birthday_banner_is_red_and_across_the_bottom() -> None:
    frame = _rgb(Case("birthday").draw())
    width, height = frame.size
    strip = frame.crop((0, height - 80, width, height - 30))
    red = sum(count for count, colour in strip.getcolors(maxcolors=4) if colour == (255, 0, 0))
    assert red > 0.6 * strip.width * strip.height
    plain = _rgb(Case("day", scenario="plain").draw()).crop((0, height - 80, width, height - 30))
    assert sum(c for c, colour in plain.getcolors(maxcolors=4) if colour == (255, 0, 0)) < red / 10


@pytest.mark.parametrize("language", ["he", "ar"])
def test_right_to_left_board_runs_its_days_from_the_right(language: str) -> None:
    ltr = Case("ltr", scenario="i18n", overrides=(("language", "pt_BR"),)).draw()
    rtl = Case("rtl", scenario="i18n", overrides=(("language", language),)).draw()
    width = rtl.width
    # Today's big red date: top left on a left-to-right board, top right here.
    red_ltr = ltr.crop((0, 0, width, 110)).point(lambda v: 255 if v == RED else 0).getbbox()
    red_rtl = rtl.crop((0, 0, width, 110)).point(lambda v: 255 if v == RED else 0).getbbox()
    assert red_ltr is not None and red_rtl is not None
    assert red_ltr[2] < width / 2 < red_rtl[0]

    # The column rules are where the left-to-right board has them, mirrored.
    def rules(frame: Image.Image) -> list[int]:
        row = frame.crop((0, 385, width, 386)).tobytes()
        return [x for x in range(width) if row[x] == 1 and row[x - 1] == 0 and row[x + 1] == 0]

    assert rules(rtl) == sorted(width - 1 - x for x in rules(ltr))
    # Multi-day bars: the visit continues into Friday from Thursday. On a left-to-right
    # board the "continues" arrow of Thursday's bar is at its right end; here at its left.
    thu_ltr = ltr.crop((275, 128, 445, 156)).convert("1")
    thu_rtl = rtl.crop((width - 445, 128, width - 275, 156)).convert("1")
    assert thu_rtl.transpose(Image.Transpose.FLIP_LEFT_RIGHT).crop((150, 0, 170, 28)).tobytes() == (
        thu_ltr.crop((150, 0, 170, 28)).tobytes()
    )


def test_unavailable_weather_is_said_in_red() -> None:
    state = Case("x", scenario="no-weather").state()
    assert state.current is None
    assert state.source("weather").status == "unavailable"  # type: ignore[union-attr]
    frame = _rgb(Case("x", scenario="no-weather").draw())
    with_weather = _rgb(Case("x", scenario="plain").draw())
    assert ImageChops.difference(frame, with_weather).getbbox() is not None


# --------------------------------------------------------------------------- #
# Property: any state renders, in three colours, with every text inside its box
# --------------------------------------------------------------------------- #

TZ = ZoneInfo("Europe/Berlin")
text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc")),
    min_size=0,
    max_size=80,
)


@st.composite
def events(draw: st.DrawFn, day: date) -> Event:
    all_day = draw(st.booleans())
    start_min = draw(st.integers(0, 23 * 60))
    start = datetime(day.year, day.month, day.day, tzinfo=TZ) + timedelta(minutes=start_min)
    end = start + timedelta(minutes=draw(st.integers(0, 3000)))
    return Event(
        title=draw(text),
        start=day if all_day else start,
        end=day + timedelta(days=1) if all_day else end,
        all_day=all_day,
        calendar="c",
        label=draw(text.map(lambda s: s[:12])),
        color=draw(st.sampled_from(["black", "red"])),
        underway=draw(st.booleans()),
        continues_from=draw(st.booleans()),
        continues_to=draw(st.booleans()),
        special=draw(st.booleans()),
    )


@st.composite
def states(draw: st.DrawFn) -> BoardState:
    first = date(2026, 1, 1) + timedelta(days=draw(st.integers(0, 3000)))
    n = draw(st.integers(1, 7))
    # Sources may deliver anything: NaN, infinities and absurd values are drawn too.
    temps = st.one_of(st.none(), st.floats(-60, 60), st.floats())
    days = []
    for i in range(n):
        d = first + timedelta(days=i)
        forecast = draw(
            st.one_of(
                st.none(),
                st.builds(
                    Forecast,
                    date=st.just(d),
                    category=st.sampled_from(WEATHER_CATEGORIES),
                    high=temps,
                    low=temps,
                    precip_chance=st.one_of(st.none(), st.integers(0, 100), st.floats()),
                ),
            )
        )
        special = draw(
            st.one_of(
                st.none(),
                st.builds(
                    Special,
                    kind=st.sampled_from(["birthday", "holiday", "dst"]),
                    title=text,
                    message=text,
                    icon=st.sampled_from(["birthday", "holiday", "dst", "anniversary"]),
                    color=st.sampled_from(["red", "black"]),
                ),
            )
        )
        evs = draw(st.lists(events(d), max_size=18))
        days.append(Day(date=d, forecast=forecast, events=tuple(evs), special=special))
    current = draw(
        st.one_of(
            st.none(),
            st.builds(
                Current,
                temperature=temps,
                category=st.sampled_from(WEATHER_CATEGORIES),
                is_day=st.booleans(),
            ),
        )
    )
    sources = tuple(
        SourceState(
            name=f"s{i}",
            kind="calendar",
            label=draw(text.map(lambda s: s[:20])),
            status=draw(st.sampled_from(["fresh", "stale", "unavailable"])),
            fetched_at=datetime(2026, 1, 1, 8, tzinfo=TZ),
            cut=draw(st.booleans()),
        )
        for i in range(draw(st.integers(0, 4)))
    )
    return BoardState(
        date=first,
        timezone="Europe/Berlin",
        days=tuple(days),
        current=current,
        sources=sources,
        updated_at=draw(st.one_of(st.none(), st.just(datetime(2026, 1, 1, 7, 45, tzinfo=TZ)))),
        attribution=draw(st.lists(text, max_size=2).map(tuple)),
        units=draw(st.sampled_from(["metric", "imperial"])),
        clock=draw(st.sampled_from(["12h", "24h"])),
        language=draw(st.sampled_from(["en", "de", "fr"])),
        weather_enabled=draw(st.booleans()),
        location=draw(st.one_of(st.none(), text)),
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    state=states(),
    panel=st.sampled_from(sorted(drivers.PANELS)),
    orientation=st.sampled_from(["landscape", "portrait"]),
)
def test_any_state_renders_in_three_colours_inside_its_boxes(
    state: BoardState,
    panel: str,
    orientation: str,
    monkeypatch_module: pytest.MonkeyPatch,
) -> None:
    escapes: list[str] = []
    real = text_module.draw_text

    def checked(image: Image.Image, box, txt, **kwargs):  # type: ignore[no-untyped-def]
        before = image.copy()
        result = real(image, box, txt, **kwargs)
        changed = ImageChops.difference(before.convert("L"), image.convert("L")).getbbox()
        x0, y0, x1, y1 = box
        if changed and not (
            changed[0] >= x0 and changed[1] >= y0 and changed[2] <= x1 and changed[3] <= y1
        ):
            escapes.append(f"{txt!r} drew {changed} outside {box}")
        if not (0 <= x0 and 0 <= y0 and x1 <= image.width and y1 <= image.height):
            if changed:
                escapes.append(f"{txt!r} box {box} is outside the frame {image.size}")
        return result

    # Every layout module that draws text imported its own reference to draw_text.
    users = [mod for mod in LAYOUT_MODULES if getattr(mod, "draw_text", None) is real]
    assert users, "no layout module draws text through draw_text"
    for mod in users:
        monkeypatch_module.setattr(mod, "draw_text", checked)
    try:
        frame = render(state, drivers.PANELS[panel], orientation=orientation)  # type: ignore[arg-type]
    finally:
        for mod in users:
            monkeypatch_module.setattr(mod, "draw_text", real)
    assert frame.mode == "P"
    assert {i for _c, i in frame.getcolors(maxcolors=256)} <= {0, 1, 2}
    assert not escapes, escapes[:3]


@pytest.fixture(scope="module")
def monkeypatch_module():  # type: ignore[no-untyped-def]
    """A MonkeyPatch that lives across hypothesis examples."""
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def test_state_changes_are_visible() -> None:
    """Sanity for the goldens: moving a day changes the frame (a test that can fail)."""
    case = Case("x", scenario="plain")
    state = case.state()
    moved = dataclasses.replace(state, days=state.days[1:] + state.days[:1])
    panel = drivers.PANELS[case.panel]
    assert render(state, panel).tobytes() != render(moved, panel).tobytes()
