"""The board in the household's language: CLDR locales, the catalogs and their fallbacks."""

from __future__ import annotations

import dataclasses
import io
import sys
import textwrap
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from render_cases import Case, texts_of

import homeboard.i18n.words as words_module
from homeboard.config import load_config
from homeboard.demo import demo_config, demo_moment, demo_snapshots
from homeboard.errors import ConfigError
from homeboard.i18n import LANGUAGES, is_rtl, words_for
from homeboard.model import CalendarEvent, Snapshot, compose, events_on
from homeboard.render import render
from homeboard.render.layout.footer import source_notes
from homeboard.render.layout.metrics import format_chance, format_temp
from homeboard.render.text import get_font
from homeboard.sources.special import (
    clock_changes_between,
    holiday_language,
    holidays_between,
    seasons_between,
    special_event_days,
)

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import i18n as i18n_script  # noqa: E402  (scripts/i18n.py: the catalogs' own build)

LOCALE = ROOT / "homeboard" / "i18n" / "locale"
UTC = ZoneInfo("UTC")
DEC_1 = date(2026, 12, 1)  # a Tuesday
EVENING = datetime(2026, 12, 1, 18, 5, tzinfo=UTC)
# The 20 languages the board must speak (and Traditional Chinese, which it also does).
REQUIRED = (
    "en de fr es it nl sv pt pl uk tr el ar he hi th vi ja zh_Hans ko".split()
)  # fmt: skip


# --------------------------------------------------------------------------- #
# Names, dates and numbers from CLDR
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    ("language", "shown"),
    [
        ("en", "Dec 1"),
        ("en_US", "Dec 1"),
        ("en_GB", "1 Dec"),
        ("de", "1. Dez."),
        ("fr", "1 déc."),
        ("pt_BR", "1 de dez."),
        ("pl", "1 gru"),
        ("uk", "1 груд."),
        ("ja", "12月1日"),
        ("zh_Hans", "12月1日"),
        ("ko", "12월 1일"),
        ("he", "1 בדצמ׳"),
        ("ar", "1 ديسمبر"),
        ("ar_EG", "١ ديسمبر"),
        ("th", "1 ธ.ค."),
    ],
)
def test_dates_are_written_in_the_locales_order(language: str, shown: str) -> None:
    assert words_for(language).date(DEC_1) == shown


@pytest.mark.parametrize(
    ("language", "days", "days_short"),
    [
        ("en", "Tuesday", "Tue"),
        ("de", "Dienstag", "Di"),
        # Headings: the first letter capital, as CLDR's stand-alone forms are used there.
        ("fr", "Mardi", "Mar."),
        ("pt_BR", "Terça-feira", "Ter."),
        ("pl", "Wtorek", "Wt."),
        ("ja", "火曜日", "火"),
        ("zh_Hant", "星期二", "週二"),
        ("ar", "الثلاثاء", "الثلاثاء"),
        ("hi", "मंगलवार", "मंगल"),
    ],
)
def test_day_names_come_from_cldr(language: str, days: str, days_short: str) -> None:
    words = words_for(language)
    assert (words.days[1], words.days_short[1]) == (days, days_short)


@pytest.mark.parametrize(
    ("language", "clock", "shown"),
    [
        ("en", "12h", "Tue 6:05pm"),
        ("en_GB", "24h", "Tue 18:05"),
        ("de", "24h", "Di., 18:05"),  # "Wetter Stand Di., 18:05", not "Tue 6pm"
        ("ja", "24h", "18:05 (火)"),
        ("ko", "12h", "(화) 오후 6:05"),
        ("th", "24h", "อังคาร 18:05 น."),
    ],
)
def test_an_old_time_uses_the_locales_order(language: str, clock: str, shown: str) -> None:
    words = words_for(language)
    assert words.when(EVENING, DEC_1 + timedelta(days=2), clock) == shown
    # Today: the time alone; long ago: the date.
    assert words.when(EVENING, DEC_1, clock) == words.time(EVENING, clock)
    assert words.when(EVENING, DEC_1 + timedelta(days=30), clock) == words.date(DEC_1)


def test_the_stale_note_in_german_reads_as_german() -> None:
    state = Case("x", overrides=(("language", "de"), ("clock", "24h"))).state()
    tz = ZoneInfo(state.timezone)
    fetched = datetime.combine(state.date - timedelta(days=1), datetime.min.time(), tz)
    fetched += timedelta(hours=18)
    sources = tuple(
        dataclasses.replace(s, status="stale", fetched_at=fetched) if s.name == "weather" else s
        for s in state.sources
    )
    state = dataclasses.replace(state, sources=sources)
    notes = source_notes(state, words_for("de"), get_font(14), 700)
    assert notes == ["Wetter Stand Di., 18:00"]


@pytest.mark.parametrize(
    ("language", "temps", "chance"),
    [
        ("en", ("18°", "-5°"), "30%"),
        ("de", ("18°", "-5°"), "30\xa0%"),
        ("sv", ("18°", "\u22125°"), "30\xa0%"),  # CLDR's minus sign, U+2212
        ("ar", ("18°", "\u200e-5°"), "30\u200e%\u200e"),  # CLDR: Arabic alone has Latin digits
        ("ar_EG", ("١٨°", "\u061c-٥°"), "٣٠٪؜"),  # Egypt: Arabic-Indic digits
        ("fa", ("۱۸°", "\u200e−۵°"), "۳۰٪"),
        ("he", ("18°", "\u200e-5°"), "30%"),
    ],
)
def test_numbers_use_the_locales_digits_and_signs(
    language: str, temps: tuple[str, str], chance: str
) -> None:
    words = words_for(language)
    assert (format_temp(18.4, words), format_temp(-5, words)) == temps
    assert format_chance(30, words) == chance
    # Never "-0°", in any script.
    assert format_temp(-0.4, words) == format_temp(0, words)


def test_right_to_left_languages_per_cldr() -> None:
    assert [lang for lang in ("ar", "he", "fa", "ur", "en", "ja", "hi") if is_rtl(lang)] == [
        "ar",
        "he",
        "fa",
        "ur",
    ]
    assert words_for("he").rtl and not words_for("de").rtl


@pytest.mark.parametrize(
    ("language", "first"),
    [("en", 6), ("en_US", 6), ("en_GB", 0), ("de", 0), ("he", 6), ("ar", 5), ("pt_BR", 6)],
)
def test_the_first_day_of_the_week_is_the_locales(language: str, first: int) -> None:
    assert words_for(language).first_week_day == first
    state = Case("x", overrides=(("language", language),)).state()
    assert state.first_week_day == first


# --------------------------------------------------------------------------- #
# The setting
# --------------------------------------------------------------------------- #


def _load(tmp_path: Path, text: str) -> object:
    path = tmp_path / "config.yaml"
    path.write_text("weather: null\n" + textwrap.dedent(text))
    return load_config(path, env={})


@pytest.mark.parametrize(
    ("written", "language"),
    [("pt-BR", "pt_BR"), ("pt-br", "pt_BR"), ("EN_gb", "en_GB"), ("zh_TW", "zh_Hant_TW"),
     ("zh_Hant", "zh_Hant"), ("hi", "hi")],
)  # fmt: skip
def test_any_cldr_locale_is_a_language(tmp_path: Path, written: str, language: str) -> None:
    config = _load(tmp_path, f"language: {written}\n")
    assert config.language == language  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("written", "hint"),
    [
        ("deu", "did you mean 'de'"),  # a three-letter code: the board says which it means
        ("en_XX", "did you mean 'en'"),
        ("german", "did you mean 'de'"),
        ("iw", "did you mean 'he'"),
    ],
)
def test_an_unknown_language_is_refused_with_suggestions(
    tmp_path: Path, written: str, hint: str
) -> None:
    with pytest.raises(ConfigError) as info:
        _load(tmp_path, f"timezone: UTC\nlanguage: {written}\n")
    (problem,) = info.value.problems
    assert f"config.yaml:3: language: unknown language '{written}'" in problem, problem
    assert hint in problem, problem


@pytest.mark.parametrize(
    ("text", "clock"),
    [
        ("language: en\n", "12h"),
        ("language: en_US\n", "12h"),
        ("language: en_GB\n", "24h"),
        ("language: de\n", "24h"),
        ("language: ko\n", "12h"),
        ("language: en_GB\nclock: 12h\n", "12h"),  # the setting beats the locale
        ("language: en_US\nclock: 24h\n", "24h"),
    ],
)
def test_the_clock_follows_the_locale_unless_set(tmp_path: Path, text: str, clock: str) -> None:
    config = _load(tmp_path, text)
    assert config.time_clock == clock  # type: ignore[attr-defined]
    state = compose(config, {}, datetime(2026, 12, 1, 18, 5, tzinfo=UTC))  # type: ignore[arg-type]
    assert state.clock == clock


# --------------------------------------------------------------------------- #
# The board's words
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize(
    ("language", "two", "five", "twenty_two"),
    [
        ("en", "+2 more", "+5 more", "+22 more"),
        ("pl", "+2 kolejne", "+5 kolejnych", "+22 kolejne"),
        ("uk", "+2 події", "+5 подій", "+22 події"),
        ("ar", "+2 حدثان آخران", "+5 أحداث أخرى", "+22 حدثًا آخر"),
        ("ja", "他2件", "他5件", "他22件"),
    ],
)
def test_more_follows_cldr_plural_rules(
    language: str, two: str, five: str, twenty_two: str
) -> None:
    words = words_for(language)
    assert (words.more(2), words.more(5), words.more(22)) == (two, five, twenty_two)


def test_ages_and_years_take_plural_forms() -> None:
    pl, uk, he = words_for("pl"), words_for("uk"), words_for("he")
    assert [pl.birthday_age("Ola", n) for n in (1, 3, 5)] == [
        "Ola kończy 1 rok",
        "Ola kończy 3 lata",
        "Ola kończy 5 lat",
    ]
    assert uk.anniversary_years("Оля й Петро", 21) == "Оля й Петро: 21 рік"
    # Hebrew says one and two years with words of their own.
    assert [he.anniversary_years("דנה", n) for n in (1, 2, 7)] == [
        "דנה: שנה",
        "דנה: שנתיים",
        "דנה: 7 שנים",
    ]
    assert words_for("en").anniversary_years("Jess & Kyle", 1) == "Jess & Kyle: 1 year"


def test_an_untitled_event_is_busy_in_the_boards_language() -> None:
    tz = ZoneInfo("Europe/Berlin")
    start = datetime(2026, 12, 1, 9, 0, tzinfo=tz)
    untitled = CalendarEvent(title="", start=start, end=start + timedelta(hours=1))
    shown = events_on([untitled], DEC_1, tz, start, labels={}, busy=words_for("de").busy)
    assert [e.title for e in shown] == ["Beschäftigt"]
    # Through compose, from the config's language.
    config = dataclasses.replace(demo_config(), language="ja", timezone="Europe/Berlin")
    snap = Snapshot(name="calendar:Family", kind="calendar", data=(untitled,), fetched_at=start)
    state = compose(config, {"calendar:Family": snap}, start)
    assert [e.title for e in state.today.events] == ["予定あり"]


def test_special_days_speak_the_boards_language() -> None:
    berlin = ZoneInfo("Europe/Berlin")
    dst = list(clock_changes_between(date(2026, 3, 29), date(2026, 3, 30), berlin, language="de"))
    assert [(s.title, s.message) for s in dst] == [
        ("Uhr 1 Stunde vorstellen", "Beginn der Sommerzeit")
    ]
    dst = list(clock_changes_between(date(2026, 10, 25), date(2026, 10, 26), berlin, language="pl"))
    assert [(s.title, s.message) for s in dst] == [
        ("Zegarki o 1 godzinę do tyłu", "Koniec czasu letniego")
    ]
    seasons = list(seasons_between(date(2026, 3, 1), date(2026, 4, 1), berlin, language="ja"))
    assert [s.title for s in seasons] == ["春分"]
    # In the south, March brings autumn.
    south = seasons_between(
        date(2026, 3, 1), date(2026, 4, 1), berlin, southern=True, language="es"
    )
    assert [s.title for s in south] == ["Comienza el otoño"]
    config = _special_config()
    days = list(special_event_days(config, date(2026, 5, 1), date(2026, 5, 3), language="uk"))
    assert [(d.title, d.message) for d in days] == [("Оля: 22 роки", "З днем народження, Оля!")]


def _special_config() -> tuple[object, ...]:
    from homeboard.config.models import SpecialEvent

    return (SpecialEvent(name="Оля", kind="birthday", date="2004-05-02"),)


def test_holiday_names_come_in_the_boards_language() -> None:
    from homeboard.config.models import HolidaysConfig

    germany = HolidaysConfig(country="DE")
    names = {
        lang: [h.title for h in holidays_between(germany, date(2026, 12, 25), date(2026, 12, 26),
                                                  language=lang)]
        for lang in ("de", "en", "uk", "ja")
    }  # fmt: skip
    assert names["de"] == ["Erster Weihnachtstag"]
    assert names["en"] == ["Christmas Day"]
    assert names["uk"] == ["Перший день Різдва"]
    # The package has no Japanese names for Germany: the country's own language.
    assert names["ja"] == ["Erster Weihnachtstag"]
    assert holiday_language(("en_US", "th", "zh_CN", "zh_TW"), "zh_Hant") == "zh_TW"
    assert holiday_language(("en_US", "zh_CN"), "zh_Hant") is None  # never Simplified for it
    assert holiday_language(("en_US", "pt_BR"), "pt") == "pt_BR"


def test_a_language_without_a_catalog_gets_cldr_names_and_english_words() -> None:
    ro = words_for("ro")
    assert ro.days[1] == "Marți" and ro.no_events == "Nothing planned"
    assert words_for("fa").more(3) == "+۳ مورد دیگر"  # Persian digits in a Persian phrase
    assert words_for("mr").more(3) == "+३ more"  # Marathi: Devanagari digits, English words
    # Traditional Chinese has its own catalog; Simplified never stands in for it.
    assert words_for("zh_TW").no_events == words_for("zh_Hant").no_events == "沒有安排"
    assert words_for("zh").no_events == words_for("zh_Hans").no_events == "暂无安排"
    # Serbian in Latin script never falls back to a Cyrillic catalog (nor to anything).
    assert words_module.catalog_names("sr_Latn") == ["sr_Latn", "sr_Latn_RS", "sr_RS"]


def test_brazilian_portuguese_falls_back_to_portuguese_then_english() -> None:
    br, pt = words_for("pt_BR"), words_for("pt")
    assert (br.no_events, pt.no_events) == ("Nada planejado", "Nada planeado")
    assert br.busy == pt.busy == "Ocupado"  # only in the pt catalog
    assert br.more(3) == "+3 outros"


def _compile(po_text: str, directory: Path, language: str) -> None:
    po = directory / language / "LC_MESSAGES" / "homeboard.po"
    po.parent.mkdir(parents=True)
    po.write_text(po_text)
    po.with_suffix(".mo").write_bytes(i18n_script.compiled(po))


def test_a_missing_or_broken_translation_falls_back_to_english(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    header = (
        'msgid ""\nmsgstr ""\n"Language: de\\n"\n"Plural-Forms: nplurals=2; plural=(n != 1);\\n"\n'
    )
    _compile(
        header
        + textwrap.dedent(
            """
            msgid "Busy"
            msgstr "Belegt"

            msgid "{name} unavailable"
            msgstr "{nam} fehlt"

            msgid "+{n} more"
            msgid_plural "+{n} more"
            msgstr[0] "+{n} weiterer"
            msgstr[1] ""
            """
        ),
        tmp_path,
        "de",
    )
    monkeypatch.setattr(words_module, "LOCALE_DIR", tmp_path)
    for cached in (words_module.translations, words_module.words_for):
        cached.cache_clear()
    try:
        words = words_for("de")
        assert words.busy == "Belegt"  # translated
        assert words.no_events == "Nothing planned"  # missing: English
        assert words.unavailable == "{name} unavailable"  # a wrong placeholder: English
        assert words.more(2) == "+2 more"  # a plural not translated in every form: English
        assert words.days[0] == "Montag"  # CLDR's names whatever the catalog
        # A damaged catalog: English words, a warning, no crash.
        (tmp_path / "de" / "LC_MESSAGES" / "homeboard.mo").write_bytes(b"\x00" * 40)
        for cached in (words_module.translations, words_module.words_for):
            cached.cache_clear()
        assert words_for("de").busy == "Busy" and words_for("de").days[0] == "Montag"
    finally:
        for cached in (words_module.translations, words_module.words_for):
            cached.cache_clear()


# --------------------------------------------------------------------------- #
# The catalogs themselves
# --------------------------------------------------------------------------- #


def _read(po: Path) -> object:
    with po.open("rb") as fp:
        return read_po(fp)


def _key(message: object) -> tuple[str | None, str]:
    mid = message.id  # type: ignore[attr-defined]
    return message.context, mid[0] if isinstance(mid, tuple) else mid  # type: ignore[attr-defined]


def test_every_phrase_in_the_code_is_in_the_template_and_every_catalog() -> None:
    used = {
        (context, msgid if isinstance(msgid, str) else msgid[0])
        for _file, _line, msgid, _comments, context in extract_from_dir(
            str(ROOT / "homeboard"),
            # The code, and the household page's templates (as babel.cfg maps them).
            method_map=[("**.py", "python"), ("**/templates/**.html", "jinja2")],
            keywords={**dict.fromkeys(("_", "gettext"), None), "ngettext": (1, 2),
                      "pgettext": ((1, "c"), 2), "npgettext": ((1, "c"), 2, 3)},
        )
    }  # fmt: skip
    assert len(used) > 100
    assert (None, "Refresh now") in used  # a phrase of the page's templates
    template = {_key(m) for m in _read(LOCALE / "homeboard.pot") if m.id}  # type: ignore[attr-defined]
    assert used == template, "run scripts/i18n.py"
    for po in sorted(LOCALE.glob("*/LC_MESSAGES/homeboard.po")):
        assert {_key(m) for m in _read(po) if m.id} == template, f"{po}: run scripts/i18n.py"  # type: ignore[attr-defined]


def test_the_catalogs_own_build_extracts_the_template(tmp_path: Path) -> None:
    # scripts/i18n.py with babel.cfg finds every phrase, the page's templates' too: running
    # it would not drop a phrase from the template (and so from every catalog).
    fresh = tmp_path / "homeboard.pot"
    i18n_script.extract(fresh)
    assert i18n_script._phrases(fresh) == i18n_script._phrases(LOCALE / "homeboard.pot")


def test_the_required_languages_ship() -> None:
    assert set(REQUIRED) <= set(LANGUAGES)


def test_the_shipped_mo_files_are_compiled_from_the_po_files() -> None:
    pos = sorted(LOCALE.glob("*/LC_MESSAGES/homeboard.po"))
    assert sorted(p.parts[-3] for p in pos) == sorted(set(LANGUAGES) - {"en"})
    for po in pos:
        assert po.with_suffix(".mo").read_bytes() == i18n_script.compiled(po), (
            f"{po.with_suffix('.mo')} is out of date: run scripts/i18n.py"
        )
    out = io.BytesIO()
    write_mo(out, _read(pos[0]))  # type: ignore[arg-type]
    assert out.getvalue()


@pytest.mark.parametrize("language", sorted(set(LANGUAGES) - {"en", "pt_BR"}))
def test_each_catalog_is_complete_and_keeps_the_placeholders(language: str) -> None:
    catalog = _read(LOCALE / language / "LC_MESSAGES" / "homeboard.po")
    for message in catalog:  # type: ignore[attr-defined]
        if not message.id:
            continue
        english = message.id if isinstance(message.id, tuple) else (message.id,)
        forms = message.string if isinstance(message.string, tuple) else (message.string,)
        assert all(forms), f"{language}: {english[0]!r} is not translated"
        assert not message.fuzzy, f"{language}: {english[0]!r} is fuzzy"
        allowed = set().union(*(words_module._placeholders(e) or set() for e in english))
        for form in forms:
            assert words_module._placeholders(form) is not None, (language, form)
            assert words_module._placeholders(form) <= allowed, (language, english[0], form)
        if len(forms) == 1 or not message.pluralizable:
            # A phrase without a number keeps every placeholder (the name, the time).
            assert words_module._placeholders(forms[0]) == allowed, (language, forms[0])


# --------------------------------------------------------------------------- #
# Whole boards
# --------------------------------------------------------------------------- #


@pytest.mark.parametrize("language", [*LANGUAGES, "ar_EG", "en_GB", "mr", "ro"])
def test_the_demo_renders_in_every_language(language: str) -> None:
    config = dataclasses.replace(demo_config(), language=language, clock=None)
    for scenario in ("default", "stale", "dst"):
        moment = demo_moment(config, scenario)
        state = compose(config, demo_snapshots(config, moment, scenario=scenario), moment)
        image = render(state, (800, 480))
        assert image.size == (800, 480)
    words = words_for(language)
    shown = {s.text for s in texts_of(state)}
    # The board's words and CLDR's names, not English, are what is drawn.
    assert words.days[state.date.weekday()] in shown
    assert words.date(state.date) in shown
