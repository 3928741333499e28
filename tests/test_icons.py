"""Weather and named icons: every WMO code has a real glyph, drawn centred inside its box."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import ImageDraw

from drivers.palette import BLACK, RED, WHITE, new_frame
from homeboard.render.icons import (
    ICON_FONT,
    ICON_NAMES,
    WEATHER_CATEGORIES,
    WEATHER_FONT,
    category_for_wmo,
    draw_icon,
    draw_weather_icon,
    glyph_codepoints,
    icon_glyph,
    weather_glyph,
)
from homeboard.render.text import font_coverage, load_font

# Every weather interpretation code Open-Meteo documents.
OPEN_METEO_CODES = (
    0, 1, 2, 3, 45, 48, 51, 53, 55, 56, 57, 61, 63, 65, 66, 67, 71, 73, 75, 77,
    80, 81, 82, 85, 86, 95, 96, 99,
)  # fmt: skip

REQUIRED_ICONS = (
    "birthday", "anniversary", "holiday", "celebration", "season_spring", "season_summer",
    "season_autumn", "season_winter", "dst", "alert", "calendar", "cloud_off",
)  # fmt: skip


def _ink_bbox(frame: object) -> tuple[int, int, int, int] | None:
    return frame.point(lambda v: 255 if v else 0).getbbox()  # type: ignore[attr-defined]


# ----------------------------------------------------------------------------- WMO codes


@pytest.mark.parametrize("code", OPEN_METEO_CODES)
def test_every_open_meteo_code_has_a_known_category(code: int) -> None:
    category = category_for_wmo(code)
    assert category in WEATHER_CATEGORIES
    assert category != "unknown"


def test_wmo_codes_map_to_sensible_categories() -> None:
    assert category_for_wmo(0) == "clear"
    assert category_for_wmo(3) == "overcast"
    assert category_for_wmo(45) == category_for_wmo(48) == "fog"
    assert category_for_wmo(65) == "heavy_rain"
    assert category_for_wmo(66) == "freezing_rain"
    assert category_for_wmo(56) == "freezing_drizzle"
    assert category_for_wmo(80) == "showers"
    assert category_for_wmo(85) == "snow_showers"
    assert category_for_wmo(95) == "thunderstorm"
    assert category_for_wmo(99) == "thunderstorm_hail"


@given(st.one_of(st.none(), st.integers(), st.booleans(), st.floats(allow_nan=True)))
def test_category_for_wmo_never_raises(code: object) -> None:
    category = category_for_wmo(code)  # type: ignore[arg-type]
    assert category in WEATHER_CATEGORIES
    if code is None or isinstance(code, bool):
        assert category == "unknown"


@pytest.mark.parametrize("code", [None, -1, 4, 42, 100, 10**9])
def test_undocumented_codes_are_unknown(code: int | None) -> None:
    assert category_for_wmo(code) == "unknown"


# ----------------------------------------------------------------------------- glyphs


def test_bundled_icon_fonts_hold_every_mapped_glyph() -> None:
    for filename, codepoints in glyph_codepoints().items():
        missing = codepoints - font_coverage(filename)
        assert not missing, f"{filename} lacks {sorted(hex(c) for c in missing)}"
    assert set(glyph_codepoints()) == {WEATHER_FONT, ICON_FONT}


@pytest.mark.parametrize("category", WEATHER_CATEGORIES)
@pytest.mark.parametrize("is_day", [True, False])
def test_every_category_draws_a_real_icon(category: str, is_day: bool) -> None:
    frame = new_frame((64, 64))
    bbox = draw_weather_icon(frame, (0, 0, 64, 64), category, is_day=is_day)
    assert bbox is not None
    width, height = bbox[2] - bbox[0], bbox[3] - bbox[1]
    assert width >= 16 and height >= 8, "the glyph is a speck, not an icon"
    # Not the font's empty "missing glyph" either.
    font = load_font(WEATHER_FONT, 48)
    assert font.getmask(weather_glyph(category, is_day=is_day), mode="1").getbbox() is not None


@pytest.mark.parametrize("code", OPEN_METEO_CODES)
def test_every_wmo_code_draws_ink(code: int) -> None:
    frame = new_frame((50, 50))
    assert draw_weather_icon(frame, (0, 0, 50, 50), category_for_wmo(code)) is not None


@pytest.mark.parametrize("category", ["clear", "mostly_clear", "partly_cloudy", "showers"])
def test_day_and_night_differ(category: str) -> None:
    assert weather_glyph(category, is_day=True) != weather_glyph(category, is_day=False)
    day, night = new_frame((64, 64)), new_frame((64, 64))
    draw_weather_icon(day, (0, 0, 64, 64), category, is_day=True)
    draw_weather_icon(night, (0, 0, 64, 64), category, is_day=False)
    assert day.tobytes() != night.tobytes()


def test_categories_look_different_from_each_other() -> None:
    # Distinct conditions should not share a picture (overcast vs clear, rain vs snow, ...).
    seen: dict[str, str] = {}
    for category in WEATHER_CATEGORIES:
        glyph = weather_glyph(category)
        assert glyph not in seen, f"{category} looks like {seen.get(glyph)}"
        seen[glyph] = category


def test_unknown_category_draws_the_unknown_glyph() -> None:
    a, b = new_frame((40, 40)), new_frame((40, 40))
    draw_weather_icon(a, (0, 0, 40, 40), "volcanic_ash")
    draw_weather_icon(b, (0, 0, 40, 40), "unknown")
    assert a.tobytes() == b.tobytes() and _ink_bbox(a) is not None


def test_required_icon_names_exist() -> None:
    assert set(REQUIRED_ICONS) <= set(ICON_NAMES)
    assert len(set(icon_glyph(name) for name in ICON_NAMES)) == len(ICON_NAMES)


@pytest.mark.parametrize("name", ICON_NAMES)
def test_every_named_icon_draws_centred_ink(name: str) -> None:
    frame = new_frame((60, 60))
    bbox = draw_icon(frame, (0, 0, 60, 60), name, fill=RED)
    assert bbox is not None
    assert {value for _, value in frame.getcolors()} == {WHITE, RED}  # type: ignore[union-attr]
    left, top, right, bottom = bbox[0], bbox[1], 60 - bbox[2], 60 - bbox[3]
    assert abs(left - right) <= 1 and abs(top - bottom) <= 1, bbox
    assert max(bbox[2] - bbox[0], bbox[3] - bbox[1]) >= 30, "scaled to the box"


def test_unknown_icon_name_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="birthday"):
        draw_icon(new_frame((20, 20)), (0, 0, 20, 20), "unicorn")


def test_icons_scale_with_their_box() -> None:
    sizes = []
    for side in (24, 48, 96):
        frame = new_frame((100, 100))
        bbox = draw_icon(frame, (0, 0, side, side), "birthday")
        assert bbox is not None
        sizes.append(bbox[3] - bbox[1])
    assert sizes[0] < sizes[1] < sizes[2]
    assert sizes[2] >= 70


# ----------------------------------------------------------------------------- the box guarantee

boxes = st.tuples(
    st.integers(-40, 120), st.integers(-40, 80), st.integers(-20, 160), st.integers(-20, 120)
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    box=boxes,
    which=st.one_of(
        st.tuples(st.just("weather"), st.sampled_from(WEATHER_CATEGORIES)),
        st.tuples(st.just("icon"), st.sampled_from(ICON_NAMES)),
    ),
    is_day=st.booleans(),
    fill=st.sampled_from([BLACK, RED, WHITE]),
)
def test_icons_never_draw_outside_their_box(
    box: tuple[int, int, int, int], which: tuple[str, str], is_day: bool, fill: int
) -> None:
    frame = new_frame((140, 100))
    ImageDraw.Draw(frame).rectangle((0, 0, 70, 50), fill=RED)
    ImageDraw.Draw(frame).rectangle((71, 51, 139, 99), fill=BLACK)
    before = frame.copy()
    kind, name = which
    if kind == "weather":
        result = draw_weather_icon(frame, box, name, is_day=is_day, fill=fill)
    else:
        result = draw_icon(frame, box, name, fill=fill)
    lo, hi = frame.getextrema()
    assert 0 <= int(lo) and int(hi) <= RED  # type: ignore[arg-type]
    left, top, right, bottom = box
    clip = (max(left, 0), max(top, 0), min(right, 140), min(bottom, 100))
    restored = frame.copy()
    if clip[0] < clip[2] and clip[1] < clip[3]:
        restored.paste(before.crop(clip), clip[:2])
    assert restored.tobytes() == before.tobytes(), "pixels changed outside the box"
    if result is not None:
        assert clip[0] <= result[0] < result[2] <= clip[2]
        assert clip[1] <= result[1] < result[3] <= clip[3]


def test_icon_fill_must_be_a_palette_index() -> None:
    with pytest.raises(ValueError):
        draw_icon(new_frame((20, 20)), (0, 0, 20, 20), "alert", fill=7)
