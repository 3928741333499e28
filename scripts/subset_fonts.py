#!/usr/bin/env python3
"""Rebuild the bundled fonts in fonts/ from their upstream packages.

Run from the repository root (fontTools is one of Home Board's dependencies):

    .venv/bin/python scripts/subset_fonts.py            # fetch, build, verify
    .venv/bin/python scripts/subset_fonts.py --check    # verify the committed fonts only

Upstream files come from Debian packages (``apt-get download`` + ``dpkg -x``, nothing is
installed) and from npm tarballs (``npm pack``); they are cached in --cache (default
``build/font-sources``). Roboto and Noto Emoji are copied unchanged. Each Noto script face is
cut down to its script's blocks; Noto Sans CJK SC is taken out of the Debian collection
(.ttc) and cut down to the common Han, kana and Hangul with the Japanese forms (see
CJK_BLOCKS and CJK_FEATURES); DejaVu Sans keeps
only the symbols and letters no face before it has. The two icon fonts
are cut down to exactly the glyphs that homeboard/render/icons.py maps, so adding an icon
there means: add its code point, run this script, commit the new subset.

Licence files (fonts/LICENSE-*.txt) and fonts/README.md are kept by hand.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from homeboard.render.icons import ICON_FONT, WEATHER_FONT, glyph_codepoints  # noqa: E402

# Debian (bookworm) packages and npm packages the fonts come from, pinned to what was bundled.
DEBIAN = {
    "fonts-roboto-unhinted": "2:0~20170802-3",
    "fonts-noto-core": "20201225-1",
    "fonts-noto-ui-core": "20201225-1",
    "fonts-noto-cjk": "1:20220127+repack1-1",
    "fonts-dejavu-core": "2.37-6",
}
NPM = {
    "weather-icons-sass": "2.0.10",  # Weather Icons 2.0.10, font as released upstream
    "@mdi/font": "7.4.47",
    "@expo-google-fonts/noto-emoji": "0.4.7",
}

Ranges = tuple[tuple[int, int], ...]

# What every script face keeps besides its own blocks: space and ASCII punctuation (so a
# comma or a space inside a Hindi or Thai title stays in the title's run and face), dashes
# and quotes, the joiners that steer shaping, and the dotted circle shapers put under a
# stray mark.
COMMON: Ranges = (
    (0x0020, 0x002F),
    (0x003A, 0x0040),
    (0x005B, 0x0060),
    (0x007B, 0x007E),
    (0x00A0, 0x00A0),
    (0x200B, 0x200D),
    (0x2010, 0x2027),
    (0x25CC, 0x25CC),
)
INDIC_DANDA: Ranges = ((0x0964, 0x0965),)

# One entry per script face: (file stem in the Debian package, blocks kept). Regular and Bold
# of each are bundled (the board draws day names, multi-day bars and banners in bold).
SCRIPT_FACES: dict[str, Ranges] = {
    "NotoSansHebrew": ((0x0590, 0x05FF), (0xFB1D, 0xFB4F)),
    # Pillow's raqm layout joins Arabic through OpenType, so the presentation-form blocks
    # (FB50-FDFF, FE70-FEFF) are not kept.
    "NotoSansArabicUI": ((0x0600, 0x06FF), (0x0750, 0x077F), (0x08A0, 0x08FF)),
    "NotoSansArmenian": ((0x0530, 0x058F), (0xFB13, 0xFB17)),
    "NotoSansGeorgian": ((0x10A0, 0x10FF), (0x1C90, 0x1CBF), (0x2D00, 0x2D2F)),
    "NotoSansDevanagariUI": ((0x0900, 0x097F), (0xA8E0, 0xA8FF), (0x20B9, 0x20B9)),
    "NotoSansBengaliUI": ((0x0980, 0x09FF), *INDIC_DANDA),
    "NotoSansGurmukhiUI": ((0x0A00, 0x0A7F), *INDIC_DANDA),
    "NotoSansGujaratiUI": ((0x0A80, 0x0AFF), *INDIC_DANDA),
    "NotoSansTamilUI": ((0x0B80, 0x0BFF), *INDIC_DANDA),
    "NotoSansTeluguUI": ((0x0C00, 0x0C7F), *INDIC_DANDA),
    "NotoSansKannadaUI": ((0x0C80, 0x0CFF), *INDIC_DANDA),
    "NotoSansMalayalamUI": ((0x0D00, 0x0D7F), *INDIC_DANDA),
    "NotoSansSinhalaUI": ((0x0D80, 0x0DFF), (0x111E0, 0x111FF), *INDIC_DANDA),
    "NotoSansThaiUI": ((0x0E00, 0x0E7F),),
    "NotoSansLaoUI": ((0x0E80, 0x0EFF),),
    "NotoSansKhmerUI": ((0x1780, 0x17FF), (0x19E0, 0x19FF)),
    "NotoSansMyanmarUI": ((0x1000, 0x109F), (0xA9E0, 0xA9FF), (0xAA60, 0xAA7F)),
    "NotoSansEthiopic": ((0x1200, 0x139F), (0x2D80, 0x2DDF), (0xAB00, 0xAB2F)),
}

# The CJK face: Noto Sans CJK SC (face 2 of the Debian .ttc, CFF outlines) cut to what
# households write. Han: GB 2312 levels 1 and 2 (6,763: everyday Simplified Chinese), JIS
# X 0208 level 1 (2,965: holds nearly all the Joyo kanji) and Big5 level 1 (5,401: the
# frequent Traditional characters), 9,237 ideographs in all. Hangul: the 2,350 syllables of
# KS X 1001 (the common syllables of Korean names and words) and the compatibility jamo.
# Kana, CJK punctuation and the full-width forms whole.
CJK_BLOCKS: Ranges = (
    (0x3000, 0x303F),  # CJK symbols and punctuation
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x3130, 0x318F),  # Hangul compatibility jamo
    (0x31F0, 0x31FF),  # Katakana phonetic extensions
    (0xFF00, 0xFFEF),  # half-width and full-width forms
)
CJK_TTC_INDEX = 2  # 0 JP, 1 KR, 2 SC, 3 TC, 4 HK
# Only the OpenType features a horizontal one-line board uses, and of the language systems
# only Japanese: through "locl" a Japanese board draws the Japanese form of the ideographs
# whose printed form differs from the Chinese one (the text layer shapes CJK runs with the
# board's language). That costs 0.9 MB (3,600 glyphs); the Korean, Traditional Chinese and
# Hong Kong forms would cost as much again, and every feature ("aalt", "vert", the width
# variants) 1.1 MB more.
CJK_FEATURES = ("locl", "ccmp")
CJK_LANGUAGES = ("JAN ",)


def _from_codec(codec: str, rows: range, trails: Iterable[int] = range(0xA1, 0xFF)) -> set[int]:
    """Return the characters of the two-byte ``rows`` (lead bytes) of a legacy ``codec``."""
    found = set()
    trails = tuple(trails)
    for lead in rows:
        for trail in trails:
            try:
                found.add(ord(bytes((lead, trail)).decode(codec)))
            except UnicodeDecodeError:
                continue
    return found


def cjk_unicodes() -> set[int]:
    """Return the code points kept in the CJK face (see CJK_BLOCKS above)."""
    han = (
        _from_codec("gb2312", range(0xB0, 0xF8))
        | _from_codec("euc_jp", range(0xB0, 0xD0))
        | _from_codec("big5", range(0xA4, 0xC7), (*range(0x40, 0x7F), *range(0xA1, 0xFF)))
    )
    hangul = _from_codec("euc_kr", range(0xB0, 0xC9))
    return han | hangul | set(_expand(CJK_BLOCKS))


def _expand(ranges: Ranges) -> Iterable[int]:
    for start, end in ranges:
        yield from range(start, end + 1)


SUBSET_NOTE = "; subset by Home Board scripts/subset_fonts.py"


@dataclass(frozen=True)
class Output:
    """One file in fonts/ and how to make it from the cached sources."""

    name: str
    build: Callable[[Path, Path], None]


def main(argv: list[str] | None = None) -> int:
    """Fetch, build and verify the bundled fonts; return the process exit code."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=ROOT / "build" / "font-sources")
    parser.add_argument("--out", type=Path, default=ROOT / "fonts")
    parser.add_argument("--check", action="store_true", help="only verify the fonts in --out")
    args = parser.parse_args(argv)

    if not args.check:
        args.cache.mkdir(parents=True, exist_ok=True)
        fetch(args.cache)
        for output in OUTPUTS:
            output.build(args.cache, args.out / output.name)
            print(f"built {output.name}")
    problems = verify(args.out)
    for problem in problems:
        print(f"PROBLEM: {problem}", file=sys.stderr)
    report(args.out)
    return 1 if problems else 0


def fetch(cache: Path) -> None:
    """Download and unpack every upstream package into ``cache`` (skipping those present)."""
    debs, root = cache / "debs", cache / "root"
    debs.mkdir(exist_ok=True)
    root.mkdir(exist_ok=True)
    for package, version in DEBIAN.items():
        if not any(debs.glob(f"{package}_*.deb")):
            # The pinned version may have left the archive; the current one is still fine to
            # rebuild from (the README records what was bundled).
            pinned = subprocess.run(["apt-get", "download", f"{package}={version}"], cwd=debs)
            if pinned.returncode != 0:
                print(f"note: {package}={version} unavailable, using the current version")
                subprocess.run(["apt-get", "download", package], cwd=debs, check=True)
        deb = next(debs.glob(f"{package}_*.deb"))
        subprocess.run(["dpkg", "-x", str(deb), str(root)], check=True)
    npm = cache / "npm"
    npm.mkdir(exist_ok=True)
    for package, version in NPM.items():
        target = npm / package.replace("/", "__")
        if target.exists():
            continue
        packed = subprocess.run(
            ["npm", "pack", f"{package}@{version}"],
            cwd=npm,
            check=True,
            capture_output=True,
            text=True,
        ).stdout.split()[-1]
        target.mkdir()
        with tarfile.open(npm / packed) as tar:
            tar.extractall(target, filter="data")


def copy_from(relative: str) -> Callable[[Path, Path], None]:
    """Return a builder that copies ``relative`` (inside the cache) unchanged."""

    def build(cache: Path, out: Path) -> None:
        shutil.copyfile(cache / relative, out)

    return build


def subset_from(
    relative: str,
    unicodes: Callable[[], Iterable[int]],
    *,
    collection_index: int | None = None,
    hinting: bool = True,
    features: tuple[str, ...] = ("*",),
    languages: tuple[str, ...] | None = None,
) -> Callable[[Path, Path], None]:
    """Return a builder that keeps only ``unicodes()`` of the font at ``relative``.

    ``features`` are the OpenType layout features kept; ``languages``, when given, the
    OpenType language systems kept (the glyphs only others reach through "locl" go).
    """

    def build(cache: Path, out: Path) -> None:
        from fontTools import subset
        from fontTools.ttLib import TTFont

        font = TTFont(cache / relative, fontNumber=collection_index or 0, recalcTimestamp=False)
        wanted = set(unicodes())
        if languages is not None and "GSUB" in font:
            for record in font["GSUB"].table.ScriptList.ScriptRecord:
                kept = [ls for ls in record.Script.LangSysRecord if ls.LangSysTag in languages]
                record.Script.LangSysRecord = kept
                record.Script.LangSysCount = len(kept)
        options = subset.Options()
        options.layout_features = list(features)
        options.name_IDs = ["*"]
        options.name_languages = ["*"]
        options.notdef_outline = True
        options.hinting = hinting
        options.glyph_names = False
        subsetter = subset.Subsetter(options)
        subsetter.populate(unicodes=sorted(wanted))
        subsetter.subset(font)
        _mark_modified(font)
        font.save(out)

    return build


def _mark_modified(font: object) -> None:
    """Append a note to the version string (name ID 5): these files differ from upstream."""
    names = font["name"]  # type: ignore[index]
    for record in names.names:
        if record.nameID == 5:
            text = record.toUnicode()
            if SUBSET_NOTE not in text:
                record.string = text + SUBSET_NOTE


ROBOTO = "root/usr/share/fonts/truetype/roboto/unhinted"
NOTO = "root/usr/share/fonts/truetype/noto"
CJK_TTC = "root/usr/share/fonts/opentype/noto/NotoSansCJK-{weight}.ttc"


def _script_outputs() -> Iterable[Output]:
    for stem, ranges in SCRIPT_FACES.items():
        for weight in ("Regular", "Bold"):
            wanted = set(_expand(ranges)) | set(_expand(COMMON))
            yield Output(
                f"{stem}-{weight}.ttf",
                subset_from(f"{NOTO}/{stem}-{weight}.ttf", lambda wanted=wanted: wanted),
            )


def _dejavu_unicodes(out: Path) -> set[int]:
    """What DejaVu Sans keeps: only the code points no face before it in the chain has."""
    from fontTools.ttLib import TTFont

    font = TTFont(out.parent / "build-dejavu-source.ttf", lazy=True)
    everything = set(font.getBestCmap())
    earlier = {"Roboto-Regular.ttf", *(f"{stem}-Regular.ttf" for stem in SCRIPT_FACES)}
    for name in earlier:
        everything -= set(TTFont(out.parent / name, lazy=True).getBestCmap())
    return everything


def _build_dejavu(cache: Path, out: Path) -> None:
    staged = out.parent / "build-dejavu-source.ttf"
    shutil.copyfile(cache / "root/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf", staged)
    try:
        subset_from(str(staged), lambda: _dejavu_unicodes(out))(Path("/"), out)
    finally:
        staged.unlink()


OUTPUTS: tuple[Output, ...] = (
    Output("Roboto-Regular.ttf", copy_from(f"{ROBOTO}/RobotoTTF/Roboto-Regular.ttf")),
    Output("Roboto-Bold.ttf", copy_from(f"{ROBOTO}/RobotoTTF/Roboto-Bold.ttf")),
    Output("RobotoCondensed-Regular.ttf", copy_from(f"{ROBOTO}/RobotoCondensed-Regular.ttf")),
    Output("RobotoCondensed-Bold.ttf", copy_from(f"{ROBOTO}/RobotoCondensed-Bold.ttf")),
    *_script_outputs(),
    # After the faces it leaves out: it keeps only what they all lack.
    Output("DejaVuSans.ttf", _build_dejavu),
    # Regular only: a bold CJK subset would add 4.6 MB; bold text in CJK draws regular.
    Output(
        "NotoSansCJK-Regular.otf",
        subset_from(
            CJK_TTC.format(weight="Regular"),
            cjk_unicodes,
            collection_index=CJK_TTC_INDEX,
            features=CJK_FEATURES,
            languages=CJK_LANGUAGES,
        ),
    ),
    Output(
        "NotoEmoji-Medium.ttf",
        copy_from("npm/@expo-google-fonts__noto-emoji/package/500Medium/NotoEmoji_500Medium.ttf"),
    ),
    Output(
        WEATHER_FONT,
        subset_from(
            "npm/weather-icons-sass/package/font/weathericons-regular-webfont.ttf",
            lambda: glyph_codepoints()[WEATHER_FONT],
        ),
    ),
    Output(
        ICON_FONT,
        subset_from(
            "npm/@mdi__font/package/fonts/materialdesignicons-webfont.ttf",
            lambda: glyph_codepoints()[ICON_FONT],
        ),
    ),
)


def verify(out: Path) -> list[str]:
    """Return what is wrong with the fonts in ``out`` (missing files or unmapped icons)."""
    from fontTools.ttLib import TTFont

    problems = []
    for output in OUTPUTS:
        if not (out / output.name).is_file():
            problems.append(f"{output.name} is missing")
    for name, wanted in glyph_codepoints().items():
        path = out / name
        if path.is_file():
            missing = wanted - set(TTFont(path, lazy=True).getBestCmap())
            if missing:
                listed = ", ".join(f"U+{cp:04X}" for cp in sorted(missing))
                problems.append(f"{name} lacks {listed}: run this script to rebuild it")
    return problems


def report(out: Path) -> None:
    """Print each bundled font with its size and SHA-256, and the total."""
    total = 0
    for path in sorted(out.iterdir()):
        if path.suffix in (".ttf", ".otf"):
            data = path.read_bytes()
            total += len(data)
            digest = hashlib.sha256(data).hexdigest()[:16]
            print(f"{path.name:34} {len(data):>9,} B  sha256 {digest}…")
    print(f"{'total':34} {total:>9,} B")


if __name__ == "__main__":
    raise SystemExit(main())
