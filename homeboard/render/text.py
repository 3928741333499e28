"""Text for the panel: bundled fonts with per-character fallback, measured and drawn in 1-bit.

Everything here is pure (no clock, network or current directory): fonts are package data,
loaded once and cached by file name and pixel size.

How a line is laid out:

1. The text is normalised (NFC; line breaks and tabs become spaces).
2. It is cut into user-perceived characters (grapheme clusters, ``regex``'s ``\\X``), and each
   gets the first face of the chain that has glyphs for all of it (Roboto; then one Noto face
   per script: Hebrew, Arabic, Armenian, Georgian, the Indic scripts, Sinhala, Thai, Lao,
   Khmer, Myanmar, Ethiopic; DejaVu Sans for symbols; Noto Sans CJK; Noto Emoji), so
   nothing a family types into a calendar comes out as tofu boxes. Coverage comes from each
   font's cmap through fontTools.
3. The Unicode bidi algorithm (python-bidi, pure Python) gives each character a level;
   characters with one face and one level form a run, and runs are put in visual order.
4. Runs in a script face are shaped by HarfBuzz through Pillow's libraqm layout (Indic
   conjuncts, Thai and Khmer marks, Myanmar reordering, Arabic joining, emoji sequences).
   Roboto and the other plain faces use Pillow's basic layout: hinted integer advances keep
   1-bit Latin text evenly spaced (libraqm's fractional advances make it look uneven).
   Without libraqm every glyph is still drawn, unshaped, and right-to-left runs are reversed
   here (``shaping_available`` tells; the CLI warns).

Drawing happens in a 1-bit mask the size of the target box, pasted with one palette index:
no pixel can land outside the box and no grey can appear.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import io
import pathlib
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Literal

import regex
from bidi import algorithm as _bidi
from bidi.mirror import MIRRORED as _MIRRORED
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
SYMBOL_FACE = "DejaVuSans.ttf"
# Regular only (a bold CJK subset would add 4.6 MB): bold CJK text draws in regular.
CJK_FACE = "NotoSansCJK-Regular.otf"

# One Noto face per script, in Regular and Bold; the UI variants where Noto has them (their
# vertical metrics are tamed to sit on Latin lines, so marks above and below stay in a line
# box made for Roboto). Each file is cut to its script's blocks (scripts/subset_fonts.py).
SCRIPT_FAMILIES: tuple[str, ...] = (
    "NotoSansHebrew",
    "NotoSansArabicUI",
    "NotoSansArmenian",
    "NotoSansGeorgian",
    "NotoSansDevanagariUI",
    "NotoSansBengaliUI",
    "NotoSansGurmukhiUI",
    "NotoSansGujaratiUI",
    "NotoSansTamilUI",
    "NotoSansTeluguUI",
    "NotoSansKannadaUI",
    "NotoSansMalayalamUI",
    "NotoSansSinhalaUI",
    "NotoSansThaiUI",
    "NotoSansLaoUI",
    "NotoSansKhmerUI",
    "NotoSansMyanmarUI",
    "NotoSansEthiopic",
)


def _script_faces(bold: bool) -> tuple[str, ...]:
    weight = "Bold" if bold else "Regular"
    return tuple(f"{family}-{weight}.ttf" for family in SCRIPT_FAMILIES)


HEBREW_FACES = ("NotoSansHebrew-Regular.ttf", "NotoSansHebrew-Bold.ttf")
ARABIC_FACES = ("NotoSansArabicUI-Regular.ttf", "NotoSansArabicUI-Bold.ttf")

# Fallbacks, tried in order for characters the primary face lacks. The script faces come
# before DejaVu Sans (which keeps only the symbols, arrows and rare letters none of them
# has); CJK and emoji come last.
FALLBACK_FACES: dict[bool, tuple[str, ...]] = {
    bold: (*_script_faces(bold), SYMBOL_FACE, CJK_FACE, EMOJI_FACE) for bold in (False, True)
}

# Faces whose runs go through libraqm (when present) even left to right: every script face
# needs OpenType shaping, and so do emoji sequences (ZWJ, skin tones, flags).
_SHAPED_FACES = frozenset((EMOJI_FACE, *_script_faces(False), *_script_faces(True)))

_PALETTE_INDICES = frozenset((WHITE, BLACK, RED))

# The most code points of one text that are ever laid out. The widest box (880 px) holds
# about 350 of the narrowest glyphs at the smallest size drawn (11 px), and no text is
# drawn on more than two lines; the rest could never be seen.
MAX_TEXT_CHARS = 1000

def is_rtl_language(language: str) -> bool:
    """Return True if ``language`` (a locale identifier such as "he" or "ar_EG") reads RTL.

    The board mirrors its columns for such a language; CLDR says which (``i18n.is_rtl``).
    """
    from homeboard.i18n import is_rtl

    return is_rtl(language)


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
        return ImageFont.truetype(io.BytesIO(source), size, layout_engine=layout)
    return ImageFont.truetype(source, size, layout_engine=layout)


@functools.cache
def font_coverage(filename: str) -> frozenset[int]:
    """Return the code points a bundled font has glyphs for (its cmap, read by fontTools)."""
    from fontTools.ttLib import TTFont  # only when a character needs a fallback face

    source = _font_source(filename)
    with TTFont(io.BytesIO(source) if isinstance(source, bytes) else source, lazy=True) as font:
        # Numbered glyph names: fontTools would otherwise read the real names from the
        # "post" or "CFF " table (3 MB in the CJK face) only to hand them back here.
        font.setGlyphOrder([f"g{index}" for index in range(font["maxp"].numGlyphs)])
        cmap = font.getBestCmap() or {}
    return frozenset(code for code, glyph in cmap.items() if glyph != "g0")


@functools.cache
def raqm_available() -> bool:
    """Return True if this Pillow can shape text with libraqm (HarfBuzz and FriBiDi)."""
    # Wheels load FriBiDi at run time; without it, the basic path is the safe one.
    return bool(features.check_feature("raqm")) and features.check_feature("fribidi") is not False


def shaping_available() -> tuple[bool, str]:
    """Return whether complex scripts are shaped, and a sentence for the log saying so."""
    if raqm_available():
        return True, f"text shaping: libraqm {features.version('raqm')}"
    return False, (
        "text shaping is unavailable (Pillow has no libraqm, or FriBiDi is missing): Hindi, "
        "Thai, Arabic and other complex scripts draw unshaped. On Raspberry Pi OS: "
        "sudo apt install libraqm0 libfribidi0 libharfbuzz0b"
    )


# --------------------------------------------------------------------------- font chains


@dataclass(frozen=True)
class FontChain:
    """A primary face and its fallbacks at one pixel size: what the text functions take."""

    size: int
    files: tuple[str, ...]
    # The OpenType language the CJK face shapes with ("ja": Japanese glyph forms), or "".
    cjk_language: str = ""

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
        return _face_index(self.files, ord(char))

    def cluster_face(self, cluster: str) -> int | None:
        """Return the index of the first face with glyphs for all of ``cluster`` (a grapheme).

        Joiners, variation selectors and other invisible characters need no glyph; when no
        face has the whole cluster, the face of its first character draws it.
        """
        codes = [ord(c) for c in cluster if not _is_ignorable(ord(c))]
        if not codes:
            return None
        if len(codes) > 1:
            for index, filename in enumerate(self.files):
                coverage = font_coverage(filename)
                if all(code in coverage for code in codes):
                    return index
        return _face_index(self.files, codes[0])


@functools.lru_cache(maxsize=8192)
def _face_index(files: tuple[str, ...], code: int) -> int | None:
    for index, filename in enumerate(files):
        if code in font_coverage(filename):
            return index
    return None


@functools.cache
def descent_share(filename: str) -> float:
    """Return descent / (ascent + descent) of a bundled face, from its design metrics."""
    ascent, descent = load_font(filename, 1000).getmetrics()
    return descent / (ascent + descent)


@functools.lru_cache(maxsize=128)
def get_font(size: int, *, bold: bool = False, family: str = "ui", language: str = "") -> FontChain:
    """Return the font chain for a family ("ui" or "display"), weight and pixel size (cached).

    ``language`` is the board's (a locale identifier): a Japanese board draws ideographs in
    their Japanese forms; the others in the Chinese ones.
    """
    if (family, bool(bold)) not in PRIMARY_FACES:
        raise ValueError(f"unknown font family {family!r}; known: {', '.join(FAMILIES)}")
    if size <= 0:
        raise ValueError(f"font size must be positive, not {size}")
    primary = PRIMARY_FACES[(family, bool(bold))]
    files = (primary, *FALLBACK_FACES[bool(bold)])
    return FontChain(size=int(size), files=files, cjk_language=_cjk_language(language))


def _cjk_language(language: str) -> str:
    # The bundled CJK face keeps one language system besides its Chinese default: Japanese.
    return "ja" if language.replace("-", "_").split("_")[0].lower() == "ja" else ""


# --------------------------------------------------------------------------- characters

# Characters that never show ink (Default_Ignorable_Code_Point): no face needs a glyph for
# them, and one no face can draw is dropped instead of drawn as a box.
_IGNORABLE = regex.compile(r"\p{Default_Ignorable_Code_Point}")
_GRAPHEME = regex.compile(r"\X")


def _is_ignorable(code: int) -> bool:
    return _IGNORABLE.match(chr(code)) is not None


def graphemes(text: str) -> list[str]:
    """Return ``text`` cut into user-perceived characters (extended grapheme clusters)."""
    return _GRAPHEME.findall(text)


def _grapheme_starts(text: str) -> list[int]:
    """Return the indices where user-perceived characters start."""
    return [match.start() for match in _GRAPHEME.finditer(text)]


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


def bidi_levels(text: str) -> tuple[int, list[int]]:
    """Return the paragraph level and each character's resolved level (UAX #9, python-bidi)."""
    if not any(unicodedata.bidirectional(char) in ("R", "AL", "AN") for char in text):
        return 0, [0] * len(text)  # the common case: nothing right-to-left at all
    # Unassigned code points (and lone surrogates) have no bidi class, which python-bidi
    # cannot take: they count as other neutrals, like U+FFFD.
    text = "".join(c if unicodedata.bidirectional(c) else "\ufffd" for c in text)
    paragraph = _bidi.get_base_level(text)
    storage = _bidi.get_empty_storage()
    storage["base_level"] = paragraph
    storage["base_dir"] = ("L", "R")[paragraph]
    _bidi.get_embedding_levels(text, storage)
    for index, char in enumerate(storage["chars"]):
        char["index"] = index  # explicit formatting characters are taken out (X9)
    _bidi.explicit_embed_and_overrides(storage)
    _bidi.resolve_weak_types(storage)
    _bidi.resolve_neutral_types(storage, False)
    _bidi.resolve_implicit_levels(storage, False)
    _bidi.reorder_resolved_levels(storage, False)  # L1 resets trailing spaces, then L2
    levels = [paragraph] * len(text)
    for char in storage["chars"]:
        levels[char["index"]] = char["level"]
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


def _reverse_graphemes(text: str) -> str:
    """Reverse ``text`` by user-perceived characters, mirroring brackets (unshaped RTL)."""
    return "".join(_MIRRORED.get(c, c) for c in reversed(graphemes(text)))


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
    language: str | None = None  # OpenType language to shape with (None: the default)


@dataclass(frozen=True)
class _Line:
    """A laid-out line: its runs in visual order and its total advance width."""

    runs: tuple[_Run, ...]
    width: int


def _assign_faces(clusters: Sequence[str], chain: FontChain) -> list[int | None]:
    """Return, per grapheme cluster, the index of the face that draws it (None: drop it)."""
    emoji = chain.files.index(EMOJI_FACE) if EMOJI_FACE in chain.files else None
    faces: list[int | None] = []
    previous: int | None = None  # face of the last drawn cluster
    for cluster in clusters:
        first = cluster[0]
        face: int | None
        if (
            emoji is not None
            and ("\ufe0f" in cluster or "\u200d" in cluster)
            and all(ord(c) in font_coverage(EMOJI_FACE) or _is_ignorable(ord(c)) for c in cluster)
        ):
            face = emoji  # VS16 or a ZWJ sequence asks for the emoji face
        elif (
            previous not in (None, 0, emoji)
            and unicodedata.category(first)[0] in "ZP"
            and all(ord(c) in font_coverage(chain.files[previous]) for c in cluster)
        ):
            # Spaces and punctuation inside Hindi, Thai or Arabic text stay in that face:
            # fewer runs to shape, and the spacing the script's designer chose.
            face = previous
        else:
            face = chain.cluster_face(cluster)
        if face is None and not all(_is_ignorable(ord(c)) for c in cluster):
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
    clusters = graphemes(text)
    faces = _assign_faces(clusters, chain)
    _, char_levels = bidi_levels(text)
    # Group clusters of one face and one level into logical runs.
    pieces: list[tuple[int, int, list[str]]] = []  # (face, level, clusters)
    at = 0
    for cluster, face in zip(clusters, faces, strict=True):
        level = char_levels[at]
        at += len(cluster)
        if face is None:
            continue
        if pieces and pieces[-1][0] == face and pieces[-1][1] == level:
            pieces[-1][2].append(cluster)
        else:
            pieces.append((face, level, [cluster]))
    runs: list[_Run] = []
    x = 0
    for index in _visual_order([level for _, level, _ in pieces]):
        face, level, chunk = pieces[index]
        filename = chain.files[face]
        rtl = level % 2 == 1
        logical = "".join(chunk)
        language = chain.cjk_language if filename == CJK_FACE and chain.cjk_language else None
        shaped = shaping and (rtl or filename in _SHAPED_FACES or language is not None)
        if shaped:
            font = load_font(filename, chain.size, shaped=True)
            direction = "rtl" if rtl else "ltr"
            width = round(font.getlength(logical, mode="1", direction=direction, language=language))
            drawn = logical
        else:
            # No shaper: every glyph still drawn, in its nominal form; RTL put in visual
            # order here.
            font = load_font(filename, chain.size)
            drawn = _reverse_graphemes(logical) if rtl else logical
            width = round(font.getlength(drawn, mode="1"))
        runs.append(_Run(drawn, filename, rtl, shaped, x, width, language if shaped else None))
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


@dataclass(frozen=True)
class _MirrorLayer:
    """Where text and icons go while a right-to-left board is painted (see ``mirrored``)."""

    ink: Image.Image  # mode "P": the palette index of each inked pixel
    mask: Image.Image  # mode "1": which pixels are inked


_MIRROR: contextvars.ContextVar[_MirrorLayer | None] = contextvars.ContextVar(
    "homeboard_text_mirror", default=None
)


@contextlib.contextmanager
def mirrored(image: Image.Image) -> Iterator[None]:
    """Paint ``image`` mirrored left to right, with its text and icons still reading right.

    For right-to-left boards: the layout draws as for a left-to-right one; its lines,
    bars and arrows are flipped at the end (today's column lands on the right, arrows of
    multi-day bars point the other way), while every text and icon is drawn unflipped in
    the mirrored box, with "left" and "right" alignment swapped. Callers see the boxes
    they asked for in what ``paste_mask`` and ``draw_text`` return.
    """
    layer = _MirrorLayer(Image.new("P", image.size, 0), Image.new("1", image.size, 0))
    layer.ink.putpalette(image.getpalette() or [])
    token = _MIRROR.set(layer)
    try:
        yield
    finally:
        _MIRROR.reset(token)
    image.paste(image.transpose(Image.Transpose.FLIP_LEFT_RIGHT))
    image.paste(layer.ink, (0, 0), layer.mask)


def _mirror_box(box: Box, width: int) -> Box:
    left, top, right, bottom = box
    return (width - right, top, width - left, bottom)


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
    layer = _MIRROR.get()
    if layer is not None and layer.ink.size == image.size:
        inked = _paste(layer.ink, _mirror_box(box, image.width), mask, fill, layer.mask)
        return None if inked is None else _mirror_box(inked, image.width)
    return _paste(image, box, mask, fill)


def _paste(
    image: Image.Image, box: Box, mask: Image.Image, fill: int, marks: Image.Image | None = None
) -> Box | None:
    left, top, right, bottom = box
    # Clip to the image: a box hanging over the edge must not wrap or raise.
    clip = (max(left, 0), max(top, 0), min(right, image.width), min(bottom, image.height))
    if clip[0] >= clip[2] or clip[1] >= clip[3]:
        return None
    mask = mask.crop((clip[0] - left, clip[1] - top, clip[2] - left, clip[3] - top))
    ink = mask.getbbox()
    if ink is None:
        return None
    image.paste(fill, clip, mask)
    if marks is not None:
        marks.paste(1, clip, mask)
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
    if _MIRROR.get() is not None:
        # The box will be mirrored: what hugs its left edge on a left-to-right board hugs
        # its right edge here.
        align = {"left": "right", "right": "left"}.get(align, align)  # type: ignore[assignment]
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
    inks = [
        (run, _run_ink(run.text, run.file, font.size, run.shaped, run.rtl, run.language, run.width))
        for run in line.runs
    ]
    drawn = [(top, top + ink.height) for _, (ink, _, top) in inks if ink is not None]
    if drawn:
        baseline = _nudge(baseline, min(t for t, _ in drawn), max(b for _, b in drawn), height)
    mask = Image.new("1", (width, height), 0)
    for run, (ink, left, top) in inks:
        if ink is not None:
            at = (x + run.x + left, baseline + top)
            mask.paste(1, (*at, at[0] + ink.width, at[1] + ink.height), ink)
    return paste_mask(image, box, mask, fill)


def _nudge(baseline: int, top: int, bottom: int, height: int) -> int:
    """Move ``baseline`` just enough to keep ink from ``top`` to ``bottom`` inside the box.

    The line's metrics are Roboto's; Khmer and Myanmar stacks, Devanagari vowel signs and
    some descenders reach a pixel or three beyond them. Where the box has room, the line
    moves so that none of it is cut off; where it has not, it stays where it was.
    """
    if baseline + top < 0 and bottom - top <= height:
        return -top
    if baseline + bottom > height and bottom - top <= height:
        return height - bottom
    return baseline


@functools.lru_cache(maxsize=2048)
def _run_ink(
    text: str,
    filename: str,
    size: int,
    shaped: bool,
    rtl: bool,
    language: str | None = None,
    advance: int | None = None,
) -> tuple[Image.Image | None, int, int]:
    """Return one run drawn in 1-bit, and where its top left sits from the pen on the baseline.

    Cached: shaping a run costs more than drawing it, and a board draws the same titles at
    every refresh until they change. With its ``advance`` known, the run is drawn once on a
    canvas an em larger on every side (marks and swashes reach past the advance) and cut to
    its ink, instead of being shaped once more to measure it.
    """
    font = load_font(filename, size, shaped=shaped)
    direction = ("rtl" if rtl else "ltr") if shaped else None
    if advance is None:
        advance = round(font.getlength(text, mode="1", direction=direction, language=language))
    margin = 2 * size
    canvas = Image.new("1", (max(advance, 0) + 2 * margin, 3 * margin), 0)
    draw = ImageDraw.Draw(canvas)
    draw.fontmode = "1"  # no anti-aliasing: the panel has no grey
    origin = (margin, 2 * margin)
    draw.text(origin, text, font=font, fill=1, anchor="ls", direction=direction, language=language)
    bbox = canvas.getbbox()
    if bbox is None:
        return None, 0, 0
    return canvas.crop(bbox), bbox[0] - origin[0], bbox[1] - origin[1]
