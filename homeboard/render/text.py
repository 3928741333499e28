"""Text for the panel: bundled fonts with per-character fallback, measured and drawn in 1-bit.

Everything here is pure (no clock, network or current directory): fonts are package data,
loaded once and cached by file name and pixel size.

How a line is laid out:

1. The text is normalised (NFC; line breaks and tabs become spaces).
2. Each character gets the first face of the chain that has a glyph for it (Roboto, then
   Noto Sans Hebrew, Noto Sans Arabic UI, DejaVu Sans, WenQuanYi Micro Hei for CJK, Noto
   Emoji), so nothing a family types into a calendar comes out as tofu boxes.
3. A compact Unicode bidi pass (UAX #9 without explicit embeddings) gives each character a
   level; characters with one face and one level form a run, and runs are put in visual order.
4. Left-to-right runs use Pillow's basic layout: hinted integer advances keep 1-bit text
   evenly spaced (libraqm's fractional advances make small 1-bit text look uneven).
   Right-to-left runs and the emoji/Hebrew/Arabic faces use libraqm when Pillow has it, for
   mirroring, Arabic joining and emoji sequences; without it Hebrew is reversed and Arabic is
   joined here through the Unicode presentation forms.

Drawing happens in a 1-bit mask the size of the target box, pasted with one palette index:
no pixel can land outside the box and no grey can appear.
"""

from __future__ import annotations

import functools
import pathlib
import struct
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Literal

from PIL import Image, ImageDraw, ImageFont, features

from drivers.palette import BLACK, RED, WHITE
from homeboard.errors import HomeboardError

Box = tuple[int, int, int, int]
Align = Literal["left", "center", "right"]
VAlign = Literal["top", "middle", "baseline", "bottom"]

FONT_PACKAGE = "homeboard.fonts"
ELLIPSIS = "…"
FAMILIES: tuple[str, ...] = ("ui", "display")

# The primary face of each family and weight.
PRIMARY_FACES: dict[tuple[str, bool], str] = {
    ("ui", False): "Roboto-Regular.ttf",
    ("ui", True): "Roboto-Bold.ttf",
    ("display", False): "RobotoCondensed-Regular.ttf",
    ("display", True): "RobotoCondensed-Bold.ttf",
}

EMOJI_FACE = "NotoEmoji-Medium.ttf"
HEBREW_FACES = ("NotoSansHebrew-Regular.ttf", "NotoSansHebrew-Bold.ttf")
ARABIC_FACES = ("NotoSansArabicUI-Regular.ttf", "NotoSansArabicUI-Bold.ttf")

# Fallbacks, tried in order for characters the primary face lacks. The script faces come
# before DejaVu Sans (which also has Hebrew and Arabic) because they match Roboto better;
# DejaVu then catches symbols, arrows and the remaining alphabets; CJK and emoji come last.
FALLBACK_FACES: dict[bool, tuple[str, ...]] = {
    False: (
        "NotoSansHebrew-Regular.ttf",
        "NotoSansArabicUI-Regular.ttf",
        "DejaVuSans.ttf",
        "WenQuanYiMicroHei-CJK.ttf",
        EMOJI_FACE,
    ),
    True: (
        "NotoSansHebrew-Bold.ttf",
        "NotoSansArabicUI-Bold.ttf",
        "DejaVuSans.ttf",
        "WenQuanYiMicroHei-CJK.ttf",
        EMOJI_FACE,
    ),
}

# Faces whose runs go through libraqm (when present) even left to right: emoji sequences
# (ZWJ, skin tones, flags) and the script faces' marks need OpenType shaping.
_SHAPED_FACES = frozenset((EMOJI_FACE, *HEBREW_FACES, *ARABIC_FACES))

_PALETTE_INDICES = frozenset((WHITE, BLACK, RED))

# The most code points of one text that are ever laid out. The widest box (880 px) holds
# about 350 of the narrowest glyphs at the smallest size drawn (11 px), and no text is
# drawn on more than two lines; the rest could never be seen.
MAX_TEXT_CHARS = 1000


# --------------------------------------------------------------------------- font files


@functools.cache
def _font_source(filename: str) -> str | bytes:
    """Return a path (or, from a zipped install, the bytes) of a bundled font file."""
    ref = resources.files(FONT_PACKAGE).joinpath(filename)
    if not ref.is_file():
        raise HomeboardError(f"bundled font {filename} is missing: reinstall Home Board")
    if isinstance(ref, pathlib.Path):
        return str(ref)
    return ref.read_bytes()


@functools.lru_cache(maxsize=256)
def load_font(filename: str, size: int, *, shaped: bool = False) -> ImageFont.FreeTypeFont:
    """Return a bundled font at ``size`` px, cached; ``shaped`` picks the libraqm layout."""
    if size <= 0:
        raise ValueError(f"font size must be positive, not {size}")
    source = _font_source(filename)
    layout = ImageFont.Layout.RAQM if shaped else ImageFont.Layout.BASIC
    if isinstance(source, bytes):
        import io

        return ImageFont.truetype(io.BytesIO(source), size, layout_engine=layout)
    return ImageFont.truetype(source, size, layout_engine=layout)


@functools.cache
def font_coverage(filename: str) -> frozenset[int]:
    """Return the code points a bundled font has glyphs for (read from its cmap, cached)."""
    source = _font_source(filename)
    data = source if isinstance(source, bytes) else pathlib.Path(source).read_bytes()
    return read_cmap(data)


def read_cmap(data: bytes) -> frozenset[int]:
    """Return the code points mapped to a real glyph by an sfnt font's Unicode cmap."""
    (num_tables,) = struct.unpack_from(">H", data, 4)
    cmap_offset = None
    for i in range(num_tables):
        tag, _checksum, offset, _length = struct.unpack_from(">4sIII", data, 12 + 16 * i)
        if tag == b"cmap":
            cmap_offset = offset
            break
    if cmap_offset is None:
        return frozenset()
    _version, count = struct.unpack_from(">HH", data, cmap_offset)
    subtables: dict[tuple[int, int], int] = {}
    for i in range(count):
        platform, encoding, offset = struct.unpack_from(">HHI", data, cmap_offset + 4 + 8 * i)
        subtables[(platform, encoding)] = cmap_offset + offset
    # Full-repertoire tables first (format 12 reaches beyond the BMP: emoji, MDI icons).
    for key in ((3, 10), (0, 6), (0, 4), (3, 1), (0, 3), (0, 2), (0, 1), (0, 0), (3, 0)):
        if key in subtables:
            start = subtables[key]
            (fmt,) = struct.unpack_from(">H", data, start)
            if fmt == 12:
                return _read_cmap_format12(data, start)
            if fmt == 4:
                return _read_cmap_format4(data, start)
    return frozenset()


def _read_cmap_format4(data: bytes, start: int) -> frozenset[int]:
    """Decode a format 4 (BMP segment) cmap subtable."""
    seg_count = struct.unpack_from(">H", data, start + 6)[0] // 2
    ends_at = start + 14
    starts_at = ends_at + 2 * seg_count + 2
    deltas_at = starts_at + 2 * seg_count
    range_offsets_at = deltas_at + 2 * seg_count
    ends = struct.unpack_from(f">{seg_count}H", data, ends_at)
    starts = struct.unpack_from(f">{seg_count}H", data, starts_at)
    deltas = struct.unpack_from(f">{seg_count}H", data, deltas_at)
    range_offsets = struct.unpack_from(f">{seg_count}H", data, range_offsets_at)
    covered: set[int] = set()
    for seg in range(seg_count):
        first, last, delta, range_offset = starts[seg], ends[seg], deltas[seg], range_offsets[seg]
        if first == 0xFFFF:
            continue
        if range_offset == 0:
            to_notdef = (-delta) & 0xFFFF  # the one code that would land on glyph 0
            covered.update(c for c in range(first, last + 1) if c != to_notdef)
            continue
        for code in range(first, last + 1):
            at = range_offsets_at + 2 * seg + range_offset + 2 * (code - first)
            (glyph,) = struct.unpack_from(">H", data, at)
            if glyph and (glyph + delta) & 0xFFFF:
                covered.add(code)
    covered.discard(0xFFFF)
    return frozenset(covered)


def _read_cmap_format12(data: bytes, start: int) -> frozenset[int]:
    """Decode a format 12 (segmented coverage, full Unicode) cmap subtable."""
    (groups,) = struct.unpack_from(">I", data, start + 12)
    covered: set[int] = set()
    for i in range(groups):
        first, last, glyph = struct.unpack_from(">III", data, start + 16 + 12 * i)
        covered.update(range(first + 1 if glyph == 0 else first, last + 1))
    return frozenset(covered)


@functools.cache
def raqm_available() -> bool:
    """Return True if this Pillow can shape text with libraqm (bidi, Arabic joining)."""
    # Wheels load FriBiDi at run time; without it, the basic path is the safe one.
    return bool(features.check_feature("raqm")) and features.check_feature("fribidi") is not False


# --------------------------------------------------------------------------- font chains


@dataclass(frozen=True)
class FontChain:
    """A primary face and its fallbacks at one pixel size: what the text functions take."""

    size: int
    files: tuple[str, ...]

    @property
    def primary(self) -> ImageFont.FreeTypeFont:
        """The primary face at this size (its metrics are the line's metrics)."""
        return load_font(self.files[0], self.size)

    @property
    def ascent(self) -> int:
        """Pixels from the baseline up to the primary face's ascender line."""
        return int(self.primary.getmetrics()[0])

    @property
    def descent(self) -> int:
        """Pixels from the baseline down to the primary face's descender line."""
        return int(self.primary.getmetrics()[1])

    @property
    def line_height(self) -> int:
        """Ascent plus descent: the height of one line of this chain."""
        return self.ascent + self.descent

    @property
    def cap_height(self) -> int:
        """Pixels from the baseline to the top of a capital "H" as drawn (1-bit, hinted)."""
        return -int(self.primary.getbbox("H", mode="1", anchor="ls")[1])

    def face_index(self, char: str) -> int | None:
        """Return the index of the first face that has ``char``, or None if none has it."""
        code = ord(char)
        for index, filename in enumerate(self.files):
            if code in font_coverage(filename):
                return index
        return None


@functools.cache
def descent_share(filename: str) -> float:
    """Return descent / (ascent + descent) of a bundled face, from its design metrics."""
    ascent, descent = load_font(filename, 1000).getmetrics()
    return descent / (ascent + descent)


@functools.lru_cache(maxsize=128)
def get_font(size: int, *, bold: bool = False, family: str = "ui") -> FontChain:
    """Return the font chain for a family ("ui" or "display"), weight and pixel size (cached)."""
    if (family, bool(bold)) not in PRIMARY_FACES:
        raise ValueError(f"unknown font family {family!r}; known: {', '.join(FAMILIES)}")
    if size <= 0:
        raise ValueError(f"font size must be positive, not {size}")
    primary = PRIMARY_FACES[(family, bool(bold))]
    return FontChain(size=int(size), files=(primary, *FALLBACK_FACES[bool(bold)]))


# --------------------------------------------------------------------------- characters

_MIRRORED = dict(zip("()[]{}<>«»‹›", ")(][}{><»«›‹", strict=True))

# Characters that never show ink: dropped when the face of their neighbour cannot draw them.
_IGNORABLE_RANGES: tuple[tuple[int, int], ...] = (
    (0x00AD, 0x00AD),
    (0x034F, 0x034F),
    (0x061C, 0x061C),
    (0x115F, 0x1160),
    (0x17B4, 0x17B5),
    (0x180B, 0x180F),
    (0x200B, 0x200F),
    (0x202A, 0x202E),
    (0x2060, 0x206F),
    (0x3164, 0x3164),
    (0xFE00, 0xFE0F),
    (0xFEFF, 0xFEFF),
    (0xFFA0, 0xFFA0),
    (0xFFF0, 0xFFF8),
    (0x1BCA0, 0x1BCA3),
    (0x1D173, 0x1D17A),
    (0xE0000, 0xE0FFF),
)


def _is_ignorable(code: int) -> bool:
    return any(first <= code <= last for first, last in _IGNORABLE_RANGES)


def _extends(char: str) -> bool:
    """True for characters that belong to the grapheme before them (marks, joiners, modifiers)."""
    code = ord(char)
    return (
        unicodedata.category(char) in ("Mn", "Me", "Mc")
        or code == 0x200D
        or 0xFE00 <= code <= 0xFE0F
        or 0x1F3FB <= code <= 0x1F3FF
        or 0xE0020 <= code <= 0xE007F
        or 0xE0100 <= code <= 0xE01EF
    )


def _grapheme_starts(text: str) -> list[int]:
    """Return the indices where user-perceived characters start (an approximation of UAX #29)."""
    starts = []
    regional_run = 0
    for i, char in enumerate(text):
        code = ord(char)
        if i > 0 and (_extends(char) or text[i - 1] == "\u200d"):
            continue
        if 0x1F1E6 <= code <= 0x1F1FF:
            regional_run += 1
            if regional_run % 2 == 0:  # second half of a flag
                continue
        else:
            regional_run = 0
        if i > 0 and 0x1160 <= code <= 0x11FF:  # Hangul vowel/final jamo join the syllable
            continue
        starts.append(i)
    return starts


def cap_text(text: str) -> str:
    """Return ``text`` cut to at most MAX_TEXT_CHARS code points, between whole characters.

    Text comes from outside (a calendar title can be megabytes long, and Pillow refuses
    strings past a million characters): cap it before anything measures, shapes or caches
    it. Anything not a string is shown as its ``str()``; None as nothing.
    """
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    if len(text) <= MAX_TEXT_CHARS:
        return text
    head = text[: MAX_TEXT_CHARS + 1]
    cut = max((s for s in _grapheme_starts(head) if s <= MAX_TEXT_CHARS), default=0)
    return head[: cut or MAX_TEXT_CHARS]


def clean_text(text: str) -> str:
    """Return ``text`` as it is laid out: capped, NFC, one line, no control characters."""
    return _clean_text(cap_text(text))


@functools.lru_cache(maxsize=4096)
def _clean_text(text: str) -> str:
    text = unicodedata.normalize("NFC", text)
    out = []
    for char in text:
        category = unicodedata.category(char)
        if char in "\t\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029":
            out.append(" ")
        elif category == "Cc":
            continue
        else:
            out.append(char)
    return "".join(out)


# --------------------------------------------------------------------------- bidi


def _strong_direction(bidi_type: str) -> str:
    return "L" if bidi_type == "L" else "R"


def bidi_levels(text: str) -> tuple[int, list[int]]:
    """Return the paragraph level and each character's embedding level (UAX #9, simplified).

    Implements rules P2-P3, W1-W7, N1-N2, I1-I2 and L1 for a single paragraph; explicit
    embeddings and isolates are treated as neutral (calendar titles do not use them).
    """
    types = [unicodedata.bidirectional(char) or "L" for char in text]
    if not any(t in ("R", "AL", "AN") for t in types):
        return 0, [0] * len(text)  # the common case: nothing right-to-left at all
    paragraph = 0
    for first in types:
        if first == "L":
            break
        if first in ("R", "AL"):
            paragraph = 1
            break
    edge = "R" if paragraph else "L"
    explicit = {"LRE", "LRO", "RLE", "RLO", "PDF", "LRI", "RLI", "FSI", "PDI"}
    t = ["BN" if x in explicit else x for x in types]
    n = len(t)
    # W1: marks take the type of what they sit on.
    previous = edge
    for i in range(n):
        if t[i] == "NSM":
            t[i] = previous
        elif t[i] != "BN":
            previous = t[i]
    # W2: European digits after Arabic letters are Arabic digits. W3: AL is R.
    last_strong = edge
    for i in range(n):
        if t[i] in ("L", "R", "AL"):
            last_strong = t[i]
        elif t[i] == "EN" and last_strong == "AL":
            t[i] = "AN"
    t = ["R" if x == "AL" else x for x in t]
    # W4: one separator between two numbers of a kind joins them (10:30, 1,5).
    for i in range(1, n - 1):
        if t[i] == "ES" and t[i - 1] == "EN" and t[i + 1] == "EN":
            t[i] = "EN"
        elif t[i] == "CS" and t[i - 1] == t[i + 1] and t[i - 1] in ("EN", "AN"):
            t[i] = t[i - 1]
    # W5: terminators next to European digits (%, °, currency) are part of the number.
    i = 0
    while i < n:
        if t[i] == "ET":
            j = i
            while j < n and t[j] == "ET":
                j += 1
            if (i > 0 and t[i - 1] == "EN") or (j < n and t[j] == "EN"):
                t[i:j] = ["EN"] * (j - i)
            i = j
        else:
            i += 1
    # W6: other separators are neutral. W7: European digits in Latin context are L.
    t = ["ON" if x in ("ES", "ET", "CS") else x for x in t]
    last_strong = edge
    for i in range(n):
        if t[i] in ("L", "R"):
            last_strong = t[i]
        elif t[i] == "EN" and last_strong == "L":
            t[i] = "L"
    # N1/N2: neutrals between two strong sides of one direction take it, else the paragraph's.
    neutral = {"B", "S", "WS", "ON", "BN"}
    i = 0
    while i < n:
        if t[i] in neutral:
            j = i
            while j < n and t[j] in neutral:
                j += 1
            before = edge if i == 0 else _strong_direction(t[i - 1])
            after = edge if j == n else _strong_direction(t[j])
            t[i:j] = [before if before == after else edge] * (j - i)
            i = j
        else:
            i += 1
    # I1/I2: resolve levels.
    if paragraph == 0:
        levels = [0 if x == "L" else 1 if x == "R" else 2 for x in t]
    else:
        levels = [1 if x == "R" else 2 for x in t]
    # L1: trailing white space goes back to the paragraph level.
    i = n - 1
    while i >= 0 and types[i] in ("WS", "S", "B", "BN", *explicit):
        levels[i] = paragraph
        i -= 1
    return paragraph, levels


def _visual_order(levels: Sequence[int]) -> list[int]:
    """Return the indices of items (runs) in visual order (rule L2)."""
    order = list(range(len(levels)))
    if not levels:
        return order
    highest = max(levels)
    lowest_odd = min((lv for lv in levels if lv % 2), default=highest + 1)
    for level in range(highest, lowest_odd - 1, -1):
        i = 0
        while i < len(order):
            if levels[order[i]] >= level:
                j = i
                while j < len(order) and levels[order[j]] >= level:
                    j += 1
                order[i:j] = reversed(order[i:j])
                i = j
            else:
                i += 1
    return order


# --------------------------------------------------------------------------- Arabic without raqm

# (letter, first presentation form, number of forms); forms go isolated, final, initial, medial.
_ARABIC_FORMS_SPEC: tuple[tuple[int, int, int], ...] = (
    (0x0621, 0xFE80, 1), (0x0622, 0xFE81, 2), (0x0623, 0xFE83, 2), (0x0624, 0xFE85, 2),
    (0x0625, 0xFE87, 2), (0x0626, 0xFE89, 4), (0x0627, 0xFE8D, 2), (0x0628, 0xFE8F, 4),
    (0x0629, 0xFE93, 2), (0x062A, 0xFE95, 4), (0x062B, 0xFE99, 4), (0x062C, 0xFE9D, 4),
    (0x062D, 0xFEA1, 4), (0x062E, 0xFEA5, 4), (0x062F, 0xFEA9, 2), (0x0630, 0xFEAB, 2),
    (0x0631, 0xFEAD, 2), (0x0632, 0xFEAF, 2), (0x0633, 0xFEB1, 4), (0x0634, 0xFEB5, 4),
    (0x0635, 0xFEB9, 4), (0x0636, 0xFEBD, 4), (0x0637, 0xFEC1, 4), (0x0638, 0xFEC5, 4),
    (0x0639, 0xFEC9, 4), (0x063A, 0xFECD, 4), (0x0641, 0xFED1, 4), (0x0642, 0xFED5, 4),
    (0x0643, 0xFED9, 4), (0x0644, 0xFEDD, 4), (0x0645, 0xFEE1, 4), (0x0646, 0xFEE5, 4),
    (0x0647, 0xFEE9, 4), (0x0648, 0xFEED, 2), (0x0649, 0xFEEF, 2), (0x064A, 0xFEF1, 4),
    (0x067E, 0xFB56, 4), (0x0686, 0xFB7A, 4), (0x0698, 0xFB8A, 2), (0x06A9, 0xFB8E, 4),
    (0x06AF, 0xFB92, 4), (0x06CC, 0xFBFC, 4),
)  # fmt: skip
_ARABIC_FORMS: dict[str, tuple[str, ...]] = {
    chr(letter): tuple(chr(first + k) for k in range(count))
    for letter, first, count in _ARABIC_FORMS_SPEC
}
_LAM = "\u0644"
_LAM_ALEF = {"\u0622": 0xFEF5, "\u0623": 0xFEF7, "\u0625": 0xFEF9, "\u0627": 0xFEFB}
_TATWEEL = "\u0640"


def _joins_forward(char: str) -> bool:
    """True if ``char`` connects to the letter after it (dual-joining or tatweel)."""
    return char == _TATWEEL or len(_ARABIC_FORMS.get(char, ())) == 4


def _joins_backward(char: str) -> bool:
    """True if ``char`` connects to the letter before it."""
    return char == _TATWEEL or len(_ARABIC_FORMS.get(char, ())) >= 2


def shape_arabic(text: str) -> str:
    """Return Arabic letters replaced by their joined presentation forms (logical order)."""
    # Marks (harakat) are transparent to joining: look through them to the letters around.
    letters = [i for i, char in enumerate(text) if not unicodedata.combining(char)]
    out = list(text)
    eaten: set[int] = set()
    for pos, i in enumerate(letters):
        if i in eaten:
            continue
        char = text[i]
        before = text[letters[pos - 1]] if pos > 0 else ""
        after = text[letters[pos + 1]] if pos + 1 < len(letters) else ""
        joined_before = bool(before) and _joins_forward(before) and _joins_backward(char)
        if char == _LAM and after in _LAM_ALEF:
            # Lam followed by alef is written as one ligature; alefs never join forward, so
            # the letter after the ligature starts afresh on its own.
            out[i] = chr(_LAM_ALEF[after] + (1 if joined_before else 0))
            eaten.add(letters[pos + 1])
            out[letters[pos + 1]] = ""
            continue
        forms = _ARABIC_FORMS.get(char)
        if not forms:
            continue
        joined_after = bool(after) and _joins_forward(char) and _joins_backward(after)
        if len(forms) == 4 and joined_before and joined_after:
            out[i] = forms[3]
        elif len(forms) == 4 and joined_after:
            out[i] = forms[2]
        elif len(forms) >= 2 and joined_before:
            out[i] = forms[1]
        else:
            out[i] = forms[0]
    return "".join(out)


def _reverse_graphemes(text: str) -> str:
    """Reverse ``text`` by user-perceived characters, mirroring brackets (basic-layout RTL)."""
    starts = _grapheme_starts(text) + [len(text)]
    clusters = [text[a:b] for a, b in zip(starts, starts[1:], strict=False)]
    return "".join(_MIRRORED.get(c, c) for c in reversed(clusters))


# --------------------------------------------------------------------------- layout


@dataclass(frozen=True)
class _Run:
    """A piece of a line in one face and one direction, placed at ``x`` from the line start."""

    text: str  # what is handed to Pillow: logical order when shaped, visual order otherwise
    file: str
    rtl: bool
    shaped: bool
    x: int
    width: int


@dataclass(frozen=True)
class _Line:
    """A laid-out line: its runs in visual order and its total advance width."""

    runs: tuple[_Run, ...]
    width: int


def _assign_faces(text: str, chain: FontChain) -> list[int | None]:
    """Return, per character, the index of the face that draws it (None: drop it)."""
    emoji = chain.files.index(EMOJI_FACE) if EMOJI_FACE in chain.files else None
    emoji_coverage = font_coverage(EMOJI_FACE) if emoji is not None else frozenset()
    faces: list[int | None] = []
    previous: int | None = None  # face of the last drawn character
    for i, char in enumerate(text):
        code = ord(char)
        face: int | None
        if previous is not None and _extends(char) and code in font_coverage(chain.files[previous]):
            face = previous  # a mark or joiner stays with its base
        elif previous is not None and previous == emoji and text[i - 1] == "\u200d":
            # The next member of an emoji ZWJ sequence stays in the emoji run to be shaped.
            face = emoji if code in emoji_coverage else chain.face_index(char)
        elif emoji is not None and text[i + 1 : i + 2] == "\ufe0f" and code in emoji_coverage:
            face = emoji  # VS16 asks for emoji presentation even where a text face has it
        elif (
            previous not in (None, 0, emoji)
            and unicodedata.category(char)[0] in "ZP"
            and code in font_coverage(chain.files[previous])
        ):
            # Spaces and punctuation inside Hebrew or Arabic text stay in that face: fewer
            # runs, and the word spacing the script's designer chose.
            face = previous
        else:
            face = chain.face_index(char)
        if face is None and not _is_ignorable(code):
            # No face has it: show the primary face's "missing glyph" box, which at least
            # tells that something is there. Invisible format characters simply go.
            face = 0
        faces.append(face)
        if face is not None:
            previous = face
    return faces


@functools.lru_cache(maxsize=4096)
def _layout(text: str, chain: FontChain, shaping: bool) -> _Line:
    """Lay out one cleaned line of ``text`` with ``chain`` (``shaping``: libraqm is usable)."""
    if not text:
        return _Line((), 0)
    faces = _assign_faces(text, chain)
    _, levels = bidi_levels(text)
    # Group characters of one face and one level into logical runs.
    pieces: list[tuple[int, int, list[str]]] = []  # (face, level, chars)
    for char, face, level in zip(text, faces, levels, strict=True):
        if face is None:
            continue
        if pieces and pieces[-1][0] == face and pieces[-1][1] == level:
            pieces[-1][2].append(char)
        else:
            pieces.append((face, level, [char]))
    runs: list[_Run] = []
    x = 0
    for index in _visual_order([level for _, level, _ in pieces]):
        face, level, chars = pieces[index]
        filename = chain.files[face]
        rtl = level % 2 == 1
        logical = "".join(chars)
        shaped = shaping and (rtl or filename in _SHAPED_FACES)
        if shaped:
            font = load_font(filename, chain.size, shaped=True)
            direction = "rtl" if rtl else "ltr"
            width = round(font.getlength(logical, mode="1", direction=direction))
            drawn = logical
        else:
            font = load_font(filename, chain.size)
            drawn = logical
            if rtl:
                if filename in ARABIC_FACES:
                    drawn = shape_arabic(drawn)
                drawn = _reverse_graphemes(drawn)
            width = round(font.getlength(drawn, mode="1"))
        runs.append(_Run(drawn, filename, rtl, shaped, x, width))
        x += width
    return _Line(tuple(runs), x)


def text_width(text: str, font: FontChain) -> int:
    """Return the advance width in pixels of ``text`` drawn on one line with ``font``."""
    return _layout(clean_text(text), font, raqm_available()).width


def fit_text(text: str, font: FontChain, max_width: int) -> str:
    """Return ``text``, or its longest prefix plus "…", that is at most ``max_width`` wide.

    Cuts only between user-perceived characters (never inside an emoji sequence or between
    a letter and its accent). Returns "" if not even the ellipsis fits.
    """
    text = clean_text(text)
    if text_width(text, font) <= max_width:
        return text
    if text_width(ELLIPSIS, font) > max_width:
        return ""
    cuts = _grapheme_starts(text)[1:]  # prefixes text[:cut] that are whole characters

    def candidate(cut: int) -> str:
        return text[:cut].rstrip() + ELLIPSIS

    # Width grows with the prefix almost always; binary search, then make sure.
    low, high = 0, len(cuts) - 1
    best = -1
    while low <= high:
        mid = (low + high) // 2
        if text_width(candidate(cuts[mid]), font) <= max_width:
            best = mid
            low = mid + 1
        else:
            high = mid - 1
    while best >= 0 and text_width(candidate(cuts[best]), font) > max_width:
        best -= 1
    if best < 0 or not text[: cuts[best]].strip():
        return ELLIPSIS
    return candidate(cuts[best])


def split_to_fit(text: str, font: FontChain, max_width: int, *, keep: int = 1) -> tuple[str, str]:
    """Split ``text`` into its longest head that is at most ``max_width`` wide, and the rest.

    Splits only between user-perceived characters, leaving at least ``keep`` of them to the
    rest when there is a rest (no lone letter on the next line) and the head keeps one;
    the head is "" when not even the first character fits. Breaks a word too long for a
    line across two lines.
    """
    text = clean_text(text)
    if text_width(text, font) <= max_width:
        return text, ""
    cuts = _grapheme_starts(text)[1:]
    low, high = 0, len(cuts) - 1
    best = -1
    while low <= high:
        mid = (low + high) // 2
        if text_width(text[: cuts[mid]], font) <= max_width:
            best = mid
            low = mid + 1
        else:
            high = mid - 1
    while best >= 0 and text_width(text[: cuts[best]], font) > max_width:
        best -= 1
    if best < 0:
        return "", text
    # cuts[best] is the start of character best + 1; len(cuts) + 1 characters in all.
    best = max(0, min(best, len(cuts) - keep))
    return text[: cuts[best]], text[cuts[best] :]


# --------------------------------------------------------------------------- drawing


def paste_mask(image: Image.Image, box: Box, mask: Image.Image, fill: int) -> Box | None:
    """Paste ``fill`` through a 1-bit ``mask`` the size of ``box``; return the inked bbox.

    The one place the text and icon layers touch the frame: whatever the mask holds, only
    pixels inside ``box`` (and inside the image) can change, and only to ``fill``.
    """
    if fill not in _PALETTE_INDICES or isinstance(fill, bool):
        raise ValueError(f"fill must be a palette index (WHITE, BLACK or RED), not {fill!r}")
    left, top, right, bottom = box
    if mask.size != (right - left, bottom - top):
        raise ValueError(f"mask size {mask.size} does not match box {box}")
    # Clip to the image: a box hanging over the edge must not wrap or raise.
    clip = (max(left, 0), max(top, 0), min(right, image.width), min(bottom, image.height))
    if clip[0] >= clip[2] or clip[1] >= clip[3]:
        return None
    mask = mask.crop((clip[0] - left, clip[1] - top, clip[2] - left, clip[3] - top))
    ink = mask.getbbox()
    if ink is None:
        return None
    image.paste(fill, clip, mask)
    return (clip[0] + ink[0], clip[1] + ink[1], clip[0] + ink[2], clip[1] + ink[3])


def draw_text(
    image: Image.Image,
    box: Box,
    text: str,
    *,
    font: FontChain,
    fill: int,
    align: Align = "left",
    valign: VAlign = "top",
    truncate: bool = True,
) -> Box | None:
    """Draw one line of ``text`` inside ``box`` in palette index ``fill``; return the inked bbox.

    Vertical placement uses the primary face's metrics, never the ink of this particular
    text, so lines line up whatever letters they hold: "top" puts the ascender line on the
    box's top edge, "bottom" the descender line on its bottom edge, "middle" centres
    ascender-to-descender, and "baseline" puts the baseline at the family's descender share
    (about a fifth) of the box height above its bottom edge, so texts of different sizes in
    boxes with the same top and bottom share one baseline, and descenders fit whenever the
    font's line height fits the box. With ``truncate`` the text is shortened with "…" to the
    box width; without it, text wider than the box is clipped. Nothing is drawn outside
    ``box``.
    """
    left, top, right, bottom = box
    width, height = right - left, bottom - top
    if width <= 0 or height <= 0:
        return None
    if fill not in _PALETTE_INDICES or isinstance(fill, bool):
        raise ValueError(f"fill must be a palette index (WHITE, BLACK or RED), not {fill!r}")
    text = fit_text(text, font, width) if truncate else clean_text(text)
    if not text:
        return None
    line = _layout(text, font, raqm_available())
    if align == "center":
        x = (width - line.width) // 2
    elif align == "right":
        x = width - line.width
    elif align == "left":
        x = 0
    else:
        raise ValueError(f"align must be left, center or right, not {align!r}")
    ascent, descent = font.ascent, font.descent
    if valign == "top":
        baseline = ascent
    elif valign == "bottom":
        baseline = height - descent
    elif valign == "middle":
        baseline = (height - ascent - descent) // 2 + ascent
    elif valign == "baseline":
        baseline = height - round(height * descent_share(font.files[0]))
    else:
        raise ValueError(f"valign must be top, middle, baseline or bottom, not {valign!r}")
    mask = Image.new("1", (width, height), 0)
    draw = ImageDraw.Draw(mask)
    draw.fontmode = "1"  # no anti-aliasing: the panel has no grey
    for run in line.runs:
        run_font = load_font(run.file, font.size, shaped=run.shaped)
        direction = ("rtl" if run.rtl else "ltr") if run.shaped else None
        draw.text(
            (x + run.x, baseline),
            run.text,
            font=run_font,
            fill=1,
            anchor="ls",
            direction=direction,
        )
    return paste_mask(image, box, mask, fill)
