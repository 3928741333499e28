"""The text layer: fonts, fallback, bidi, truncation and the draw-inside-the-box guarantee."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageDraw

from drivers.palette import BLACK, RED, WHITE, new_frame
from homeboard.render import text as text_module
from homeboard.render.text import (
    ARABIC_FACES,
    CJK_FACE,
    ELLIPSIS,
    EMOJI_FACE,
    HEBREW_FACES,
    MAX_TEXT_CHARS,
    bidi_levels,
    cap_text,
    clean_text,
    draw_text,
    fit_text,
    font_coverage,
    get_font,
    load_font,
    split_to_fit,
    text_width,
)

HEBREW = "יום הולדת שמח לדנה"
ARABIC = "عيد ميلاد سعيد يا سارة"
CJK = "生日快乐 誕生日おめでとう 생일 축하해"
EMOJI = "🎂🎉🎈❤️⭐🌸👨‍👩‍👧"

# Characters a family's calendar really holds, to mix into random text.
INTERESTING = (
    list("Aa Zz09:–—…·'°%&()[]!?ßÆøéüİıł")
    + list(HEBREW + "ְִ")  # with niqqud marks
    + list(ARABIC + "ًٌّ٠١٢")
    + list(CJK)
    + ["🎂", "🎉", "❤️", "👨‍👩‍👧", "🇫🇷", "👍🏽", "\u200d", "\ufe0f", "\u0301", "\u200f", "\n", "\t"]
)
interesting_text = st.lists(
    st.one_of(st.sampled_from(INTERESTING), st.characters(exclude_categories=("Cs",))),
    max_size=40,
).map("".join)

FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _ink(image: Image.Image) -> tuple[int, int, int, int] | None:
    """Bbox of non-white pixels of a palette frame."""
    return image.point(lambda v: 255 if v else 0).getbbox()


# ----------------------------------------------------------------------------- fonts


def test_get_font_is_cached_and_loading_too() -> None:
    assert get_font(16) is get_font(16)
    assert get_font(16, bold=True) is get_font(16, bold=True)
    assert get_font(16) is not get_font(16, bold=True)
    assert load_font("Roboto-Regular.ttf", 16) is load_font("Roboto-Regular.ttf", 16)
    assert font_coverage("DejaVuSans.ttf") is font_coverage("DejaVuSans.ttf")


def test_font_chain_has_primary_then_fallbacks_for_every_family() -> None:
    for family in ("ui", "display"):
        for bold in (False, True):
            chain = get_font(20, bold=bold, family=family)
            assert chain.size == 20
            assert len(chain.files) >= 5
            assert EMOJI_FACE in chain.files
            assert chain.ascent > 0 and chain.descent > 0
            assert chain.line_height == chain.ascent + chain.descent
            assert 0 < chain.cap_height < chain.ascent


@pytest.mark.parametrize("kwargs", [{"family": "comic"}, {"size": 0}, {"size": -3}])
def test_get_font_rejects_nonsense(kwargs: dict[str, object]) -> None:
    args = {"size": 16, **kwargs}
    with pytest.raises(ValueError):
        get_font(args.pop("size"), **args)  # type: ignore[arg-type]


def test_coverage_knows_what_each_face_covers() -> None:
    roboto = font_coverage("Roboto-Regular.ttf")
    assert ord("A") in roboto and ord("°") in roboto and ord("…") in roboto
    assert ord("א") not in roboto and ord("生") not in roboto
    assert ord("א") in font_coverage(HEBREW_FACES[0])
    assert ord("ع") in font_coverage(ARABIC_FACES[0])
    assert ord("生") in font_coverage(CJK_FACE)
    assert ord("생") in font_coverage(CJK_FACE)
    assert 0x1F382 in font_coverage(EMOJI_FACE)  # birthday cake, beyond the BMP


def test_coverage_is_the_fonts_own_cmap_for_every_bundled_face() -> None:
    from fontTools.ttLib import TTFont

    for filename in {*get_font(16).files, *get_font(16, bold=True).files}:
        path = text_module._font_source(filename)
        assert isinstance(path, str)
        cmap = TTFont(path).getBestCmap()
        real = {code for code, glyph in cmap.items() if glyph != ".notdef"}
        assert font_coverage(filename) == real, filename


# ----------------------------------------------------------------------------- no tofu


@pytest.mark.parametrize("sample", [HEBREW, ARABIC, CJK, EMOJI, "Καλημέρα Доброе утро ★ → ✓"])
def test_every_script_finds_a_face_with_real_glyphs(sample: str) -> None:
    chain = get_font(20)
    for char in sample:
        if char in " \u200d\ufe0f":
            continue
        index = chain.face_index(char)
        assert index is not None, f"no bundled face has {char!r} (U+{ord(char):04X})"
        assert ord(char) in font_coverage(chain.files[index])


@pytest.mark.parametrize("sample", [HEBREW, ARABIC, CJK, EMOJI])
def test_fallback_ink_is_not_the_missing_glyph_box(sample: str) -> None:
    chain = get_font(24)
    frame = new_frame((600, 40))
    assert draw_text(frame, (0, 0, 600, 40), sample, font=chain, fill=BLACK) is not None
    # What the primary face alone would draw: its .notdef box for every character.
    tofu = Image.new("1", (600, 40), 0)
    draw = ImageDraw.Draw(tofu)
    draw.fontmode = "1"
    draw.text((0, chain.ascent), sample, font=load_font(chain.files[0], 24), fill=1, anchor="ls")
    drawn = frame.point(lambda v: 255 if v else 0).convert("1")
    assert drawn.tobytes() != tofu.tobytes()
    # And every run is drawn by a face that has its characters.
    line = text_module._layout(clean_text(sample), chain, text_module.raqm_available())
    for run in line.runs:
        for char in run.text:
            if char not in "\u200d\ufe0f":
                assert ord(char) in font_coverage(run.file), (run, char)


# ----------------------------------------------------------------------------- bidi


def test_bidi_levels_for_plain_and_mixed_text() -> None:
    assert bidi_levels("Dentist 9:30") == (0, [0] * 12)
    paragraph, levels = bidi_levels("שלום 10:30")
    assert paragraph == 1
    assert levels == [1, 1, 1, 1, 1, 2, 2, 2, 2, 2]
    paragraph, levels = bidi_levels("Meet שלום now")
    assert paragraph == 0
    assert levels == [0] * 5 + [1] * 4 + [0] * 4


def test_hebrew_reads_right_to_left_with_and_without_raqm() -> None:
    chain = get_font(20)
    for shaping in (True, False):
        line = text_module._layout("Dan שלום", chain, shaping)
        hebrew = [run for run in line.runs if run.file in HEBREW_FACES]
        latin = [run for run in line.runs if run.text.strip() == "Dan"]
        assert hebrew and latin
        assert hebrew[0].x > latin[0].x  # LTR paragraph: Latin first, Hebrew after it
        if not shaping:
            assert hebrew[0].text == "םולש"  # basic layout: reversed here
        line = text_module._layout("שלום Dan", chain, shaping)
        hebrew = [run for run in line.runs if run.file in HEBREW_FACES]
        latin = [run for run in line.runs if run.text.strip() == "Dan"]
        assert hebrew[0].x > latin[0].x  # RTL paragraph: Hebrew on the right


def test_brackets_mirror_in_basic_rtl_runs() -> None:
    line = text_module._layout("שלום (א)", get_font(20), False)
    drawn = "".join(run.text for run in line.runs)
    # Visually, left to right: the closing bracket (mirrored to look like "(") comes first and
    # the opening one (mirrored to ")") after the aleph: "(א)" then the word, reversed.
    assert drawn == "(א) םולש"


def test_arabic_without_raqm_draws_its_letters_unjoined_right_to_left() -> None:
    line = text_module._layout(ARABIC, get_font(20), False)
    arabic = [run for run in line.runs if run.file in ARABIC_FACES]
    assert arabic and not any(run.shaped for run in arabic)
    # Letters in their nominal forms, in visual order (the last word drawn leftmost).
    assert "".join(run.text for run in arabic) == "".join(reversed(ARABIC))
    with mock.patch.object(text_module, "raqm_available", lambda: False):
        frame = new_frame((400, 40))
        assert draw_text(frame, (0, 0, 400, 40), ARABIC, font=get_font(20), fill=BLACK)


# ----------------------------------------------------------------------------- fit_text


@FAST
@given(text=interesting_text, max_width=st.integers(min_value=-5, max_value=420))
def test_fit_text_never_exceeds_max_width(text: str, max_width: int) -> None:
    chain = get_font(18)
    fitted = fit_text(text, chain, max_width)
    assert text_width(fitted, chain) <= max(max_width, 0)
    cleaned = clean_text(text)
    if text_width(cleaned, chain) <= max_width:
        assert fitted == cleaned
    elif fitted:
        assert fitted.endswith(ELLIPSIS)
        assert cleaned.startswith(fitted[: -len(ELLIPSIS)])
    else:
        assert text_width(ELLIPSIS, chain) > max_width or max_width <= 0


def test_fit_text_cuts_between_characters_not_inside_them() -> None:
    chain = get_font(18)
    family = "👨‍👩‍👧"
    text = "Picnic " + family * 6
    for width in range(text_width("Picnic …", chain), text_width(text, chain)):
        fitted = fit_text(text, chain, width)
        assert fitted.startswith("Picnic")
        body = fitted.removesuffix(ELLIPSIS).removeprefix("Picnic").strip()
        assert body == family * (len(body) // len(family))  # whole families only
    accented = "Re\u0301union de famille"  # e + combining acute
    for width in range(0, text_width(accented, chain)):
        fitted = fit_text(accented, chain, width)
        assert not fitted.endswith("\u0301" + ELLIPSIS) or "é" in fitted


def test_fit_text_edge_cases() -> None:
    chain = get_font(18)
    assert fit_text("", chain, 100) == ""
    assert fit_text("Anything", chain, 0) == ""
    assert fit_text("Anything", chain, text_width(ELLIPSIS, chain)) == ELLIPSIS
    assert fit_text("Swimming lesson", chain, 1000) == "Swimming lesson"
    assert fit_text("line one\nline two", chain, 1000) == "line one line two"
    short = fit_text("Swimming lesson", chain, text_width("Swimming", chain))
    assert short.endswith(ELLIPSIS) and "lesson" not in short


def test_a_text_of_two_million_characters_is_measured_cut_and_drawn() -> None:
    """Pillow refuses strings past a million characters; a calendar title may be longer."""
    chain = get_font(16)
    for huge in ("Elternabend " * 180_000, "x" * 2_000_000, "👨‍👩‍👧" * 400_000):
        assert len(huge) > 1_000_000
        assert text_width(huge, chain) > 0
        fitted = fit_text(huge, chain, 300)
        assert fitted.endswith(ELLIPSIS) and text_width(fitted, chain) <= 300
        image = new_frame((300, 30))
        assert draw_text(image, (0, 0, 300, 30), huge, font=chain, fill=BLACK) is not None
        assert draw_text(image, (0, 0, 300, 30), huge, font=chain, fill=RED, truncate=False)


def test_cap_text_keeps_whole_characters() -> None:
    family = "👨‍👩‍👧"  # five code points
    capped = cap_text(family * 1000)
    assert len(capped) <= MAX_TEXT_CHARS
    assert capped == family * (len(capped) // len(family))
    assert cap_text("short") == "short"
    assert cap_text(None) == ""  # type: ignore[arg-type]
    assert cap_text(42) == "42"  # type: ignore[arg-type]
    # Far more than the widest box can show at the smallest size drawn.
    assert text_width("i" * MAX_TEXT_CHARS, get_font(11)) > 2 * 880


def test_split_to_fit_splits_between_whole_characters() -> None:
    chain = get_font(16)
    head, rest = split_to_fit("Audiogesteuerte", chain, 60)
    assert head and rest and head + rest == "Audiogesteuerte"
    assert text_width(head, chain) <= 60 < text_width(head + rest[0], chain)
    family = "👨‍👩‍👧"
    head, rest = split_to_fit(family * 10, chain, 50)
    assert head == family * (len(head) // len(family)) and head + rest == family * 10
    # No lone letter on the next line: "Kinder" / "gym", not "Kindergy" / "m".
    width = text_width("Kindergy", chain)
    assert split_to_fit("Kindergym", chain, width) == ("Kindergy", "m")
    assert split_to_fit("Kindergym", chain, width, keep=3) == ("Kinder", "gym")
    assert split_to_fit("Kurz", chain, 200) == ("Kurz", "")
    assert split_to_fit("Wort", chain, 1) == ("", "Wort")


# ----------------------------------------------------------------------------- draw_text

boxes = st.tuples(
    st.integers(-30, 200), st.integers(-30, 100), st.integers(-10, 250), st.integers(-10, 140)
)


@FAST
@given(
    text=interesting_text,
    box=boxes,
    size=st.sampled_from([10, 14, 16, 20, 28, 40]),
    bold=st.booleans(),
    align=st.sampled_from(["left", "center", "right"]),
    valign=st.sampled_from(["top", "middle", "baseline", "bottom"]),
    fill=st.sampled_from([BLACK, RED, WHITE]),
    truncate=st.booleans(),
)
def test_draw_text_stays_in_its_box_and_palette(
    text: str,
    box: tuple[int, int, int, int],
    size: int,
    bold: bool,
    align: str,
    valign: str,
    fill: int,
    truncate: bool,
) -> None:
    # A busy background, so that "unchanged outside the box" means something.
    frame = new_frame((220, 120))
    ImageDraw.Draw(frame).rectangle((0, 0, 110, 60), fill=RED)
    ImageDraw.Draw(frame).rectangle((111, 61, 219, 119), fill=BLACK)
    before = frame.copy()
    result = draw_text(
        frame, box, text, font=get_font(size, bold=bold), fill=fill,
        align=align, valign=valign, truncate=truncate,  # type: ignore[arg-type]
    )  # fmt: skip
    lo, hi = frame.getextrema()
    assert 0 <= int(lo) and int(hi) <= RED  # type: ignore[arg-type]
    assert frame.getpalette() == before.getpalette()
    left, top, right, bottom = box
    clip = (max(left, 0), max(top, 0), min(right, 220), min(bottom, 120))
    restored = frame.copy()
    if clip[0] < clip[2] and clip[1] < clip[3]:
        restored.paste(before.crop(clip), clip[:2])
    assert restored.tobytes() == before.tobytes(), "pixels changed outside the box"
    if result is not None:
        x0, y0, x1, y1 = result
        assert clip[0] <= x0 < x1 <= clip[2] and clip[1] <= y0 < y1 <= clip[3]
        assert fill in {value for _, value in frame.crop(result).getcolors()}  # type: ignore[union-attr]


def test_draw_text_draws_only_the_fill_index_and_reports_its_ink() -> None:
    frame = new_frame((300, 40))
    bbox = draw_text(frame, (10, 5, 290, 35), "Swimming 17:30", font=get_font(20), fill=RED)
    assert bbox is not None
    assert {value for _, value in frame.getcolors()} == {WHITE, RED}  # type: ignore[union-attr]
    assert _ink(frame) == bbox


def test_draw_text_is_deterministic() -> None:
    frames = []
    for _ in range(2):
        frame = new_frame((500, 40))
        draw_text(frame, (0, 0, 500, 40), f"Mixed {HEBREW} {CJK} {EMOJI}", font=get_font(18),
                  fill=BLACK)  # fmt: skip
        frames.append(frame.tobytes())
    assert frames[0] == frames[1]


def test_draw_text_alignment() -> None:
    chain = get_font(20)
    width = text_width("Tea", chain)
    positions = {}
    for align in ("left", "center", "right"):
        frame = new_frame((200, 30))
        bbox = draw_text(frame, (0, 0, 200, 30), "Tea", font=chain, fill=BLACK, align=align)  # type: ignore[arg-type]
        assert bbox is not None
        positions[align] = bbox
    assert positions["left"][0] < positions["center"][0] < positions["right"][0]
    assert abs(positions["left"][0] - 0) <= 2
    assert abs(positions["right"][2] - 200) <= 2
    assert abs(positions["center"][0] - (200 - width) // 2) <= 2


def test_valign_baseline_lines_up_different_sizes() -> None:
    frame = new_frame((300, 80))
    small = draw_text(frame, (0, 10, 100, 70), "12", font=get_font(20), fill=BLACK,
                      valign="baseline")  # fmt: skip
    big = draw_text(frame, (100, 10, 300, 70), "12", font=get_font(48, bold=True), fill=BLACK,
                    valign="baseline")  # fmt: skip
    assert small is not None and big is not None
    assert small[3] == big[3]  # digits sit on one baseline
    # and descenders still fit when the line height fits the box
    chain = get_font(40)
    frame = new_frame((200, chain.line_height))
    bbox = draw_text(frame, (0, 0, 200, chain.line_height), "gyp", font=chain, fill=BLACK,
                     valign="baseline")  # fmt: skip
    tall = new_frame((200, chain.line_height * 2))
    full = draw_text(tall, (0, 0, 200, chain.line_height * 2), "gyp", font=chain, fill=BLACK,
                     valign="middle")  # fmt: skip
    assert bbox is not None and full is not None
    assert bbox[3] - bbox[1] == full[3] - full[1]  # nothing clipped


@pytest.mark.parametrize("valign", ["top", "middle", "bottom"])
def test_valign_places_text_inside_a_roomy_box(valign: str) -> None:
    chain = get_font(20)
    frame = new_frame((200, 100))
    bbox = draw_text(frame, (0, 0, 200, 100), "Hg", font=chain, fill=BLACK, valign=valign)  # type: ignore[arg-type]
    assert bbox is not None
    if valign == "top":
        assert bbox[1] < 20
    elif valign == "bottom":
        assert bbox[3] > 80
    else:
        assert 30 < (bbox[1] + bbox[3]) / 2 < 70


def test_truncated_text_ends_with_an_ellipsis_inside_the_box() -> None:
    chain = get_font(20)
    frame = new_frame((400, 30))
    bbox = draw_text(frame, (0, 0, 120, 30), "A very long event title indeed", font=chain,
                     fill=BLACK)  # fmt: skip
    assert bbox is not None and bbox[2] <= 120
    untruncated = new_frame((400, 30))
    clipped = draw_text(untruncated, (0, 0, 120, 30), "A very long event title indeed",
                        font=chain, fill=BLACK, truncate=False)  # fmt: skip
    assert clipped is not None and clipped[2] <= 120
    assert frame.tobytes() != untruncated.tobytes()


def test_draw_text_rejects_non_palette_fill_and_ignores_empty_boxes() -> None:
    frame = new_frame((100, 30))
    with pytest.raises(ValueError):
        draw_text(frame, (0, 0, 100, 30), "x", font=get_font(16), fill=3)
    with pytest.raises(ValueError):
        draw_text(frame, (0, 0, 100, 30), "x", font=get_font(16), fill=BLACK, align="justify")  # type: ignore[arg-type]
    assert draw_text(frame, (10, 10, 10, 30), "x", font=get_font(16), fill=BLACK) is None
    assert draw_text(frame, (0, 0, 100, 30), "", font=get_font(16), fill=BLACK) is None
    assert draw_text(frame, (0, 0, 100, 30), "\u200b", font=get_font(16), fill=BLACK) is None
    assert frame.tobytes() == new_frame((100, 30)).tobytes()


def test_small_text_is_crisp_one_bit() -> None:
    # Drawn into a greyscale image, the mask must still hold only two levels.
    frame = Image.new("L", (200, 30), 255)
    draw_text(frame, (0, 0, 200, 30), "Dentist 09:30 🎂 שלום", font=get_font(14), fill=BLACK)
    assert {value for _, value in frame.getcolors()} <= {255, BLACK}  # type: ignore[union-attr]


# ----------------------------------------------------------------------------- every script

# A title in each script a household may write, and the face family that must draw it.
SCRIPT_TITLES: dict[str, tuple[str, str]] = {
    "vietnamese": ("Họp phụ huynh lớp Ngọc", "Roboto"),
    "greek": ("Γενέθλια της Ελένης", "Roboto"),
    "cyrillic": ("День рождения бабушки", "Roboto"),
    "armenian": ("Ծննդյան տոն", "NotoSansArmenian"),
    "georgian": ("დაბადების დღე", "NotoSansGeorgian"),
    "hebrew": (HEBREW, "NotoSansHebrew"),
    "arabic": (ARABIC, "NotoSansArabicUI"),
    "persian": ("پیک\u200cنیک خانوادگی", "NotoSansArabicUI"),
    "devanagari": ("दीपावली की शुभकामनाएँ", "NotoSansDevanagariUI"),
    "bengali": ("শুভ জন্মদিন", "NotoSansBengaliUI"),
    "gurmukhi": ("ਜਨਮਦਿਨ ਮੁਬਾਰਕ", "NotoSansGurmukhiUI"),
    "gujarati": ("જન્મદિવસની શુભકામના", "NotoSansGujaratiUI"),
    "tamil": ("பிறந்தநாள் வாழ்த்துக்கள்", "NotoSansTamilUI"),
    "telugu": ("పుట్టినరోజు శుభాకాంక్షలు", "NotoSansTeluguUI"),
    "kannada": ("ಹುಟ್ಟುಹಬ್ಬದ ಶುಭಾಶಯಗಳು", "NotoSansKannadaUI"),
    "malayalam": ("ജന്മദിനാശംസകൾ", "NotoSansMalayalamUI"),
    "sinhala": ("සුබ උපන්දිනයක්", "NotoSansSinhalaUI"),
    "thai": ("สุขสันต์วันเกิดคุณย่า", "NotoSansThaiUI"),
    "lao": ("ສຸກສັນວັນເກີດ", "NotoSansLaoUI"),
    "khmer": ("រីករាយថ្ងៃកំណើត", "NotoSansKhmerUI"),
    "myanmar": ("မွေးနေ့မှာ ပျော်ရွှင်ပါစေ", "NotoSansMyanmarUI"),
    "ethiopic": ("መልካም ልደት", "NotoSansEthiopic"),
    "chinese": ("生日快乐 家长会", "NotoSansCJK"),
    "traditional chinese": ("生日快樂 家長會 們說", "NotoSansCJK"),
    "japanese": ("誕生日おめでとう 歯医者", "NotoSansCJK"),
    "korean": ("생일 축하해요 할머니", "NotoSansCJK"),
}


def _face_family(filename: str) -> str:
    return filename.split("-")[0]


@pytest.mark.parametrize("shaping", [True, False], ids=["shaped", "basic"])
@pytest.mark.parametrize("bold", [False, True], ids=["regular", "bold"])
@pytest.mark.parametrize("script", sorted(SCRIPT_TITLES))
def test_every_script_draws_in_its_own_face_without_tofu(
    script: str, bold: bool, shaping: bool
) -> None:
    title, family = SCRIPT_TITLES[script]
    chain = get_font(20, bold=bold)
    line = text_module._layout(clean_text(title), chain, shaping)
    letters = [run for run in line.runs if run.text.strip()]
    assert letters, f"{script}: nothing drawn"
    for run in letters:
        assert _face_family(run.file) == family, (script, run)
        # Every character a run hands to Pillow has a real glyph in that run's face: no
        # .notdef box, with or without the shaper.
        for cluster in text_module.graphemes(run.text):
            for char in cluster:
                if not text_module._is_ignorable(ord(char)):
                    assert ord(char) in font_coverage(run.file), (script, char, run.file)
    assert line.width > 0


@pytest.mark.parametrize("script", ["devanagari", "thai", "khmer", "myanmar", "arabic", "korean"])
def test_script_titles_ink_differs_from_missing_glyph_boxes(script: str) -> None:
    title, _ = SCRIPT_TITLES[script]
    chain = get_font(24)
    primary = load_font(chain.files[0], 24)
    for shaping in (True, False):
        with mock.patch.object(text_module, "raqm_available", lambda s=shaping: s):
            frame = new_frame((700, 40))
            assert draw_text(frame, (0, 0, 700, 40), title, font=chain, fill=BLACK, truncate=False)
        # The primary face alone draws its .notdef box for every character of the title.
        tofu = Image.new("1", (700, 40), 0)
        draw = ImageDraw.Draw(tofu)
        draw.fontmode = "1"
        draw.text((0, chain.ascent), title, font=primary, fill=1, anchor="ls")
        drawn = frame.point(lambda v: 255 if v else 0).convert("1")
        assert drawn.tobytes() != tofu.tobytes()


def test_shaping_forms_devanagari_conjuncts() -> None:
    # क्ष and स्क are conjuncts: shaped, the halant joins the consonants into one narrower
    # glyph; unshaped, the halant and both full consonants sit side by side.
    chain = get_font(24)
    for word in ("क्षमा", "स्कूल", "विद्यालय"):
        shaped = text_module._layout(word, chain, True).width
        basic = text_module._layout(word, chain, False).width
        assert shaped < basic, (word, shaped, basic)


def test_mixed_hebrew_english_and_numbers_read_in_bidi_order() -> None:
    # "Meeting with Dan at 10:30": a right-to-left paragraph with an English name and a time.
    text = "פגישה עם Dan ב-10:30"
    paragraph, levels = bidi_levels(text)
    assert paragraph == 1
    for shaping in (True, False):
        line = text_module._layout(text, get_font(20), shaping)
        by_text = {run.text.strip(): run for run in line.runs}
        hebrew = next(run for run in line.runs if run.file in HEBREW_FACES and "פ" in run.text)
        # From the left: the time (digits in their own order), then "Dan", then the Hebrew
        # words, whose first word is drawn rightmost.
        assert "10:30" in by_text and "Dan" in by_text
        assert by_text["10:30"].x < by_text["Dan"].x < hebrew.x
        assert hebrew.x + hebrew.width == line.width


def test_cli_warns_when_text_cannot_be_shaped(tmp_path: Path) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text("timezone: Europe/Berlin\nlocation: {latitude: 52.5, longitude: 13.4}\n")
    code = (
        "import sys, PIL.features as f;"
        "real = f.check_feature;"
        "f.check_feature = lambda name: False if name == 'raqm' else real(name);"
        "from homeboard.cli import main;"
        "sys.argv = ['homeboard', 'check-config', '--config', sys.argv[1]];"
        "main()"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(cfg)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert "warning: text shaping is unavailable" in result.stderr
    assert "libraqm0" in result.stderr
    unpatched = code.replace("f.check_feature = ", "_ = ")
    ok = subprocess.run(
        [sys.executable, "-c", unpatched, str(cfg)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert ok.returncode == 0 and "ok" in ok.stdout and "shaping" not in ok.stderr, ok.stderr


def test_shaping_available_names_the_library() -> None:
    shaped, why = text_module.shaping_available()
    assert shaped is text_module.raqm_available()
    assert ("libraqm" in why) if shaped else ("unavailable" in why)


# ----------------------------------------------------------------------------- right to left


def test_mirrored_flips_lines_but_not_text_and_swaps_alignment() -> None:
    frame = new_frame((400, 50))
    chain = get_font(20)
    with text_module.mirrored(frame):
        ImageDraw.Draw(frame).rectangle((0, 0, 49, 3), fill=RED)  # a bar on the left
        inked = draw_text(frame, (10, 10, 200, 40), "Dan 10:30", font=chain, fill=BLACK)
    assert inked is not None and inked[0] >= 10  # the caller sees its own box
    red = frame.point(lambda v: 255 if v == RED else 0).getbbox()
    assert red == (350, 0, 400, 4)  # the bar moved to the right edge
    black = frame.point(lambda v: 255 if v == BLACK else 0).getbbox()
    assert black is not None
    # The text sits in the mirrored box (200..390), against its right edge, and reads as
    # it would unmirrored (same ink as drawing it right-aligned there directly).
    assert 200 <= black[0] and abs(black[2] - 390) <= 2
    plain = new_frame((400, 50))
    draw_text(plain, (200, 10, 390, 40), "Dan 10:30", font=chain, fill=BLACK, align="right")
    assert plain.crop((200, 10, 390, 40)).tobytes() == frame.crop((200, 10, 390, 40)).tobytes()


@pytest.mark.parametrize("language", ["he", "ar", "fa", "ar_EG", "he-IL"])
def test_rtl_languages(language: str) -> None:
    assert text_module.is_rtl_language(language)


@pytest.mark.parametrize("language", ["en", "de", "hi", "th", "ja", "pt_BR", "zh_Hant"])
def test_ltr_languages(language: str) -> None:
    assert not text_module.is_rtl_language(language)


@pytest.mark.parametrize("script", ["khmer", "myanmar", "telugu", "sinhala"])
@pytest.mark.parametrize("valign", ["top", "bottom", "baseline"])
def test_tall_scripts_keep_their_marks_when_the_box_has_room(script: str, valign: str) -> None:
    # Stacked Khmer and Myanmar marks and Devanagari vowel signs reach beyond Roboto's
    # ascender and descender lines: a box with room for them must show all of them.
    title, _ = SCRIPT_TITLES[script]
    chain = get_font(16)
    line = text_module._layout(clean_text(title), chain, text_module.raqm_available())
    inks = [text_module._run_ink(r.text, r.file, 16, r.shaped, r.rtl) for r in line.runs]
    top = min(t for ink, _, t in inks if ink is not None)
    bottom = max(t + ink.height for ink, _, t in inks if ink is not None)
    assert -top > chain.ascent or bottom > chain.descent  # beyond the line's own metrics
    # All of its ink, drawn in a box far taller than needed.
    roomy = new_frame((500, 100))
    whole = draw_text(roomy, (0, 0, 500, 100), title, font=chain, fill=BLACK, valign="middle")
    assert whole is not None
    ink_h = whole[3] - whole[1]
    height = bottom - top
    frame = new_frame((500, height + 20))
    inked = draw_text(
        frame, (0, 10, 500, 10 + height), title, font=chain, fill=BLACK, valign=valign
    )
    assert inked is not None
    assert inked[3] - inked[1] == ink_h  # nothing cut off at the top or the bottom


def test_a_japanese_board_draws_ideographs_in_their_japanese_forms() -> None:
    # 直, 骨 and 角 are printed differently in Japan and in China: a Japanese family must
    # not read the Chinese forms on its wall. Kana have one form only.
    def ink(language: str, text: str) -> bytes:
        frame = new_frame((300, 50))
        chain = get_font(40, language=language)
        draw_text(frame, (0, 0, 300, 50), text, font=chain, fill=BLACK)
        return frame.tobytes()

    if text_module.raqm_available():
        for han in ("直", "骨", "角"):
            assert ink("ja", han) != ink("zh_Hans", han), han
            assert ink("ja_JP", han) == ink("ja", han)
    assert ink("ja", "ひらがな") == ink("zh_Hans", "ひらがな")
    assert ink("en", "直") == ink("zh_Hans", "直") == ink("ko", "直")
