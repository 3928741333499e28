"""Extract, update and compile the board's gettext catalogs with Babel.

    .venv/bin/python scripts/i18n.py            # extract, update every .po, compile every .mo
    .venv/bin/python scripts/i18n.py --init xx  # start a catalog for language xx
    .venv/bin/python scripts/i18n.py --check    # exit 1 when a .po or .mo is out of date

The phrases live in homeboard/i18n/ (``_()``, ``ngettext``, ``npgettext``); the
template is homeboard/i18n/locale/homeboard.pot, each language's catalog
locale/<language>/LC_MESSAGES/homeboard.po, and the compiled .mo beside it ships
in the package. tests/test_i18n.py fails when any of them lags behind the code.
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
from pathlib import Path

from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "homeboard"
LOCALE = PACKAGE / "i18n" / "locale"
TEMPLATE = LOCALE / "homeboard.pot"
DOMAIN = "homeboard"


def pybabel(*args: str) -> None:
    """Run one ``pybabel`` command in this process."""
    CommandLineInterface().run(["pybabel", "--quiet", *args])


def catalogs() -> list[Path]:
    """Every language's .po file."""
    return sorted(LOCALE.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))


def extract(output: Path) -> None:
    """Write the template of every phrase in homeboard/ to ``output``."""
    pybabel(
        "extract",
        "--mapping-file", str(ROOT / "babel.cfg"),
        "--keywords", "npgettext:1c,2,3",
        "--no-location",
        "--sort-output",
        "--project", "homeboard",
        "--copyright-holder", "the homeboard authors",
        "--output-file", str(output),
        str(PACKAGE),
    )  # fmt: skip


def _phrases(pot: Path) -> list[tuple[object, object, object]]:
    with pot.open("rb") as fp:
        return [(m.id, m.context, sorted(m.flags)) for m in read_po(fp)]


def compiled(po: Path) -> bytes:
    """The .mo that ``po`` compiles to (untranslated and fuzzy entries left out)."""
    with po.open("rb") as fp:
        catalog = read_po(fp)
    # Babel keeps a plural entry whose forms are all empty (a tuple of "" is true), and
    # gettext would then return "" instead of falling back: leave out any plural entry
    # that is not translated in every form.
    for message in list(catalog):
        if message.id and message.pluralizable and not all(message.string):
            catalog.delete(message.id, context=message.context)
    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def main(argv: list[str] | None = None) -> int:
    """Run the command line."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--init", metavar="LANGUAGE", help="start a catalog for LANGUAGE")
    parser.add_argument("--check", action="store_true", help="only check, change nothing")
    args = parser.parse_args(argv)
    if args.check:
        stale = [po for po in catalogs() if po.with_suffix(".mo").read_bytes() != compiled(po)]
        for po in stale:
            print(f"{po.relative_to(ROOT)}: the .mo is out of date", file=sys.stderr)
        return 1 if stale else 0
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / TEMPLATE.name
        extract(fresh)
        # Only a change of phrases rewrites the template (not its creation date alone).
        if not TEMPLATE.exists() or _phrases(fresh) != _phrases(TEMPLATE):
            TEMPLATE.write_bytes(fresh.read_bytes())
    if args.init:
        pybabel("init", "-D", DOMAIN, "-i", str(TEMPLATE), "-d", str(LOCALE), "-l", args.init)
    if catalogs():
        pybabel(
            "update", "-D", DOMAIN, "-i", str(TEMPLATE), "-d", str(LOCALE),
            "--no-fuzzy-matching", "--ignore-pot-creation-date",
        )  # fmt: skip
    for po in catalogs():
        po.with_suffix(".mo").write_bytes(compiled(po))
    return 0


if __name__ == "__main__":
    sys.exit(main())
