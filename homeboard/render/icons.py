"""Weather and special-day icons, drawn from the bundled icon fonts in 1-bit.

Weather glyphs come from Weather Icons (Erik Flowers, OFL), everything else from Material
Design Icons (Pictogrammers, Apache-2.0); both ship as subsets holding exactly the glyphs
mapped here (``scripts/subset_fonts.py`` reads these tables to build them).

Each icon is centred in the box it is given and scaled so that the largest glyph of its set
would fit: icons of one set therefore share one scale, and a forecast row of them looks even.
Nothing is ever drawn outside the box, and only the palette index passed as ``fill``.
"""

from __future__ import annotations

import functools

from PIL import Image, ImageDraw

from drivers.palette import BLACK
from homeboard.render.text import Box, load_font, paste_mask

WEATHER_FONT = "WeatherIcons-Subset.ttf"
ICON_FONT = "MaterialDesignIcons-Subset.ttf"

WEATHER_CATEGORIES: tuple[str, ...] = (
    "clear",
    "mostly_clear",
    "partly_cloudy",
    "overcast",
    "fog",
    "drizzle",
    "freezing_drizzle",
    "rain",
    "heavy_rain",
    "freezing_rain",
    "showers",
    "snow",
    "heavy_snow",
    "snow_showers",
    "sleet",
    "thunderstorm",
    "thunderstorm_hail",
    "unknown",
)

# WMO weather interpretation codes (WMO 4677 "present weather", the subset Open-Meteo
# documents, plus the mixed rain/snow codes other providers use) to our categories.
_WMO_CATEGORIES: dict[int, str] = {
    0: "clear",
    1: "mostly_clear",
    2: "partly_cloudy",
    3: "overcast",
    45: "fog",
    48: "fog",  # depositing rime fog
    51: "drizzle",
    53: "drizzle",
    55: "drizzle",
    56: "freezing_drizzle",
    57: "freezing_drizzle",
    61: "rain",
    63: "rain",
    65: "heavy_rain",
    66: "freezing_rain",
    67: "freezing_rain",
    68: "sleet",  # rain and snow, slight
    69: "sleet",  # rain and snow, moderate or heavy
    71: "snow",
    73: "snow",
    75: "heavy_snow",
    77: "snow",  # snow grains
    79: "sleet",  # ice pellets
    80: "showers",
    81: "showers",
    82: "heavy_rain",  # violent rain showers
    83: "sleet",  # showers of rain and snow, slight
    84: "sleet",  # showers of rain and snow, moderate or heavy
    85: "snow_showers",
    86: "heavy_snow",  # heavy snow showers
    95: "thunderstorm",
    96: "thunderstorm_hail",
    99: "thunderstorm_hail",
}

# Weather Icons code points, by the names the Weather Icons docs use (wi-<name>).
_WI: dict[str, int] = {
    "day-sunny": 0xF00D,
    "night-clear": 0xF02E,
    "day-sunny-overcast": 0xF00C,
    "night-alt-partly-cloudy": 0xF081,
    "day-cloudy": 0xF002,
    "night-alt-cloudy": 0xF086,
    "cloudy": 0xF013,
    "fog": 0xF014,
    "day-fog": 0xF003,
    "night-fog": 0xF04A,
    "sprinkle": 0xF01C,
    "day-sleet": 0xF0B2,
    "night-alt-sleet": 0xF0B4,
    "rain": 0xF019,
    "rain-wind": 0xF018,
    "rain-mix": 0xF017,
    "day-showers": 0xF009,
    "night-alt-showers": 0xF029,
    "snow": 0xF01B,
    "snow-wind": 0xF064,
    "day-snow": 0xF00A,
    "night-alt-snow": 0xF02A,
    "sleet": 0xF0B5,
    "thunderstorm": 0xF01E,
    "storm-showers": 0xF01D,
    "na": 0xF07B,
}

# category -> (day glyph, night glyph). Steady precipitation and overcast skies look the same
# by day and night (no sun or moon peeks through them); broken skies and showers do not.
_WEATHER_GLYPH_NAMES: dict[str, tuple[str, str]] = {
    "clear": ("day-sunny", "night-clear"),
    "mostly_clear": ("day-sunny-overcast", "night-alt-partly-cloudy"),
    "partly_cloudy": ("day-cloudy", "night-alt-cloudy"),
    "overcast": ("cloudy", "cloudy"),
    "fog": ("day-fog", "night-fog"),
    "drizzle": ("sprinkle", "sprinkle"),
    "freezing_drizzle": ("day-sleet", "night-alt-sleet"),
    "rain": ("rain", "rain"),
    "heavy_rain": ("rain-wind", "rain-wind"),
    "freezing_rain": ("rain-mix", "rain-mix"),
    "showers": ("day-showers", "night-alt-showers"),
    "snow": ("snow", "snow"),
    "heavy_snow": ("snow-wind", "snow-wind"),
    "snow_showers": ("day-snow", "night-alt-snow"),
    "sleet": ("sleet", "sleet"),
    "thunderstorm": ("thunderstorm", "thunderstorm"),
    "thunderstorm_hail": ("storm-showers", "storm-showers"),
    "unknown": ("na", "na"),
}

WEATHER_GLYPHS: dict[str, tuple[int, int]] = {
    category: (_WI[day], _WI[night]) for category, (day, night) in _WEATHER_GLYPH_NAMES.items()
}

# Named UI and special-day icons -> Material Design Icons code points (mdi-<name> in brackets).
ICON_GLYPHS: dict[str, int] = {
    "birthday": 0xF00EB,  # cake-variant
    "anniversary": 0xF07EB,  # ring
    "holiday": 0xF04CE,  # star
    "celebration": 0xF1056,  # party-popper
    "season_spring": 0xF09F1,  # flower-tulip
    "season_summer": 0xF05A8,  # white-balance-sunny
    "season_autumn": 0xF0C93,  # leaf-maple
    "season_winter": 0xF0717,  # snowflake
    "dst": 0xF1A77,  # sun-clock
    "dst_forward": 0xF1861,  # clock-plus
    "dst_back": 0xF1863,  # clock-minus
    "alert": 0xF0026,  # alert
    "calendar": 0xF00ED,  # calendar
    "cloud_off": 0xF0164,  # cloud-off-outline
    "heart": 0xF02D1,  # heart
    "balloon": 0xF0A26,  # balloon
    "gift": 0xF0E44,  # gift
    "christmas": 0xF0405,  # pine-tree
    "easter": 0xF0AB0,  # egg-easter
    "halloween": 0xF0BBF,  # pumpkin
    "new_year": 0xF0E30,  # firework
    "candle": 0xF05E2,  # candle
    "baby": 0xF068F,  # baby-carriage
    "school": 0xF0474,  # school
    "travel": 0xF001D,  # airplane
    "clock": 0xF0150,  # clock-outline
    "updated": 0xF06B0,  # update
    "wifi_off": 0xF05AA,  # wifi-off
    "umbrella": 0xF054A,  # umbrella
    "thermometer": 0xF050F,  # thermometer
    "wind": 0xF059D,  # weather-windy
    "humidity": 0xF058E,  # water-percent
    "sunrise": 0xF059C,  # weather-sunset-up
    "sunset": 0xF059B,  # weather-sunset-down
}

ICON_NAMES: tuple[str, ...] = tuple(ICON_GLYPHS)

# The size the scale of each icon set is measured at; large enough that rounding is noise.
_REFERENCE_SIZE = 200


def category_for_wmo(code: int | None) -> str:
    """Return the weather category for a WMO weather code; "unknown" for None or any other code."""
    if code is None or isinstance(code, bool):
        return "unknown"
    try:
        return _WMO_CATEGORIES.get(int(code), "unknown")
    except (TypeError, ValueError, OverflowError):
        return "unknown"


def weather_glyph(category: str, *, is_day: bool = True) -> str:
    """Return the Weather Icons character drawn for ``category`` (unknown categories: "N/A")."""
    day, night = WEATHER_GLYPHS.get(category, WEATHER_GLYPHS["unknown"])
    return chr(day if is_day else night)


def icon_glyph(name: str) -> str:
    """Return the Material Design Icons character drawn for the named icon."""
    try:
        return chr(ICON_GLYPHS[name])
    except KeyError:
        known = ", ".join(ICON_NAMES)
        raise ValueError(f"unknown icon {name!r}; known icons: {known}") from None


def known_icon(name: str | None, default: str = "celebration") -> str:
    """Return ``name`` if it is a known icon, else ``default`` (data from a cache may be odd)."""
    return name if isinstance(name, str) and name in ICON_GLYPHS else default


def glyph_codepoints() -> dict[str, frozenset[int]]:
    """Return, per bundled icon font file, the code points these tables use (for subsetting)."""
    weather = {cp for pair in WEATHER_GLYPHS.values() for cp in pair}
    return {WEATHER_FONT: frozenset(weather), ICON_FONT: frozenset(ICON_GLYPHS.values())}


def draw_weather_icon(
    image: Image.Image,
    box: Box,
    category: str,
    *,
    is_day: bool = True,
    fill: int = BLACK,
) -> Box | None:
    """Draw the icon for a weather category centred in ``box``; return the inked bbox or None.

    An unknown category draws the "N/A" glyph rather than failing: the weather data comes
    from outside and a missing icon must not cost the household the whole frame.
    """
    return _draw_glyph(image, box, WEATHER_FONT, weather_glyph(category, is_day=is_day), fill)


def draw_icon(image: Image.Image, box: Box, name: str, *, fill: int = BLACK) -> Box | None:
    """Draw a named UI or special-day icon (see ICON_NAMES) centred in ``box``; return its bbox."""
    return _draw_glyph(image, box, ICON_FONT, icon_glyph(name), fill)


def _draw_glyph(image: Image.Image, box: Box, font_file: str, glyph: str, fill: int) -> Box | None:
    """Render one glyph into a mask the size of ``box`` and paste it with ``fill``."""
    left, top, right, bottom = box
    width, height = right - left, bottom - top
    if width <= 0 or height <= 0:
        return None
    size = _fitting_size(font_file, width, height)
    if size <= 0:
        return None
    x0, y0, x1, y1 = _ink_bbox(font_file, size, glyph)
    # Centre the glyph's own ink, not its advance box: icon fonts pad glyphs unevenly.
    x = (width - (x1 - x0)) // 2 - x0
    y = (height - (y1 - y0)) // 2 - y0
    mask = Image.new("1", (width, height), 0)
    draw = ImageDraw.Draw(mask)
    draw.fontmode = "1"
    draw.text((x, y), glyph, font=load_font(font_file, size), fill=1)
    return paste_mask(image, box, mask, fill)


@functools.lru_cache(maxsize=256)
def _fitting_size(font_file: str, width: int, height: int) -> int:
    """Return the largest pixel size at which every glyph of the set fits ``width`` x ``height``."""
    ref_w, ref_h = _set_extent(font_file, _REFERENCE_SIZE)
    size = int(_REFERENCE_SIZE * min(width / ref_w, height / ref_h))
    # Hinting can make a glyph a pixel larger than linear scaling predicts: step down until the
    # whole set really fits, so no icon is ever clipped by its own box.
    while size > 0:
        ext_w, ext_h = _set_extent(font_file, size)
        if ext_w <= width and ext_h <= height:
            return size
        size -= 1
    return 0


def _set_glyphs(font_file: str) -> tuple[str, ...]:
    """Return the characters mapped in ``font_file``, in a stable order."""
    return tuple(chr(cp) for cp in sorted(glyph_codepoints()[font_file]))


@functools.lru_cache(maxsize=512)
def _set_extent(font_file: str, size: int) -> tuple[int, int]:
    """Return the widest and tallest ink extent among the set's glyphs at ``size``."""
    widths, heights = [1], [1]
    for glyph in _set_glyphs(font_file):
        x0, y0, x1, y1 = _ink_bbox(font_file, size, glyph)
        widths.append(x1 - x0)
        heights.append(y1 - y0)
    return max(widths), max(heights)


@functools.lru_cache(maxsize=4096)
def _ink_bbox(font_file: str, size: int, glyph: str) -> tuple[int, int, int, int]:
    """Return the glyph's inked pixels as drawn at (0, 0) in 1-bit: (x0, y0, x1, y1).

    Pillow's getbbox spans the advance width too, which for icon fonts is not the picture;
    rendering once on a roomy scratch mask gives the exact ink, hinting included.
    """
    font = load_font(font_file, size)
    margin = size  # glyphs may reach left of or above their origin
    scratch = Image.new("1", (3 * size + 2, 3 * size + 2), 0)
    draw = ImageDraw.Draw(scratch)
    draw.fontmode = "1"
    draw.text((margin, margin), glyph, font=font, fill=1)
    ink = scratch.getbbox()
    if ink is None:
        return (0, 0, 0, 0)
    return (ink[0] - margin, ink[1] - margin, ink[2] - margin, ink[3] - margin)
