#!/usr/bin/env python3
"""Rebuild the bundled fonts in fonts/ from their upstream packages.

Run from the repository root, with fontTools installed (a development tool, not a runtime
dependency of Home Board):

    .venv/bin/pip install fonttools
    .venv/bin/python scripts/subset_fonts.py            # fetch, build, verify
    .venv/bin/python scripts/subset_fonts.py --check    # verify the committed fonts only

Upstream files come from Debian packages (``apt-get download`` + ``dpkg -x``, nothing is
installed) and from npm tarballs (``npm pack``); they are cached in --cache (default
``build/font-sources``). Text fonts are copied unchanged, except WenQuanYi Micro Hei, which is
cut down to the CJK blocks (the other scripts come from the other faces). The two icon fonts
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
from homeboard.render.text import read_cmap  # noqa: E402

# Debian (bookworm) packages and npm packages the fonts come from, pinned to what was bundled.
DEBIAN = {
    "fonts-roboto-unhinted": "2:0~20170802-3",
    "fonts-noto-core": "20201225-1",
    "fonts-noto-ui-core": "20201225-1",
    "fonts-dejavu-core": "2.37-6",
    "fonts-wqy-microhei": "0.2.0-beta-3.1",
}
NPM = {
    "weather-icons-sass": "2.0.10",  # Weather Icons 2.0.10, font as released upstream
    "@mdi/font": "7.4.47",
    "@expo-google-fonts/noto-emoji": "0.4.7",
}

# Unicode blocks kept in the CJK face: ideographs, kana, Hangul, CJK punctuation and forms.
CJK_RANGES: tuple[tuple[int, int], ...] = (
    (0x1100, 0x11FF),  # Hangul Jamo
    (0x2E80, 0x2FDF),  # CJK radicals, Kangxi radicals
    (0x2FF0, 0x2FFF),  # ideographic description characters
    (0x3000, 0x303F),  # CJK symbols and punctuation
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x3100, 0x312F),  # Bopomofo
    (0x3130, 0x318F),  # Hangul compatibility Jamo
    (0x3190, 0x31FF),  # Kanbun, Bopomofo extended, CJK strokes, Katakana extensions
    (0x3200, 0x33FF),  # enclosed CJK letters, CJK compatibility
    (0x3400, 0x4DBF),  # CJK extension A
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xA960, 0xA97F),  # Hangul Jamo extended-A
    (0xAC00, 0xD7AF),  # Hangul syllables
    (0xD7B0, 0xD7FF),  # Hangul Jamo extended-B
    (0xF900, 0xFAFF),  # CJK compatibility ideographs
    (0xFE30, 0xFE4F),  # CJK compatibility forms
    (0xFF00, 0xFFEF),  # half-width and full-width forms
)

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
) -> Callable[[Path, Path], None]:
    """Return a builder that keeps only ``unicodes()`` of the font at ``relative``."""

    def build(cache: Path, out: Path) -> None:
        from fontTools import subset
        from fontTools.ttLib import TTFont

        font = TTFont(cache / relative, fontNumber=collection_index or 0, recalcTimestamp=False)
        wanted = set(unicodes())
        options = subset.Options()
        options.layout_features = ["*"]
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


def _cjk_unicodes() -> Iterable[int]:
    for start, end in CJK_RANGES:
        yield from range(start, end + 1)


ROBOTO = "root/usr/share/fonts/truetype/roboto/unhinted"
NOTO = "root/usr/share/fonts/truetype/noto"
OUTPUTS: tuple[Output, ...] = (
    Output("Roboto-Regular.ttf", copy_from(f"{ROBOTO}/RobotoTTF/Roboto-Regular.ttf")),
    Output("Roboto-Bold.ttf", copy_from(f"{ROBOTO}/RobotoTTF/Roboto-Bold.ttf")),
    Output("RobotoCondensed-Regular.ttf", copy_from(f"{ROBOTO}/RobotoCondensed-Regular.ttf")),
    Output("RobotoCondensed-Bold.ttf", copy_from(f"{ROBOTO}/RobotoCondensed-Bold.ttf")),
    Output("NotoSansHebrew-Regular.ttf", copy_from(f"{NOTO}/NotoSansHebrew-Regular.ttf")),
    Output("NotoSansHebrew-Bold.ttf", copy_from(f"{NOTO}/NotoSansHebrew-Bold.ttf")),
    Output("NotoSansArabicUI-Regular.ttf", copy_from(f"{NOTO}/NotoSansArabicUI-Regular.ttf")),
    Output("NotoSansArabicUI-Bold.ttf", copy_from(f"{NOTO}/NotoSansArabicUI-Bold.ttf")),
    Output("DejaVuSans.ttf", copy_from("root/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")),
    Output(
        "WenQuanYiMicroHei-CJK.ttf",
        subset_from(
            "root/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
            _cjk_unicodes,
            collection_index=0,
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
    problems = []
    for output in OUTPUTS:
        if not (out / output.name).is_file():
            problems.append(f"{output.name} is missing")
    for name, wanted in glyph_codepoints().items():
        path = out / name
        if path.is_file():
            missing = wanted - read_cmap(path.read_bytes())
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
