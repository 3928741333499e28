"""Day and month names and the few words the board draws, per language.

A small table instead of the C library's locales: a Pi often has only ``C.UTF-8``
generated, and the frame must look the same wherever it is rendered.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Words:
    """The words of one language that appear on the frame."""

    days: tuple[str, ...]  # Monday first, as datetime.weekday()
    days_short: tuple[str, ...]
    months: tuple[str, ...]
    months_short: tuple[str, ...]
    today: str
    tomorrow: str
    more: str  # "+{n} more"
    all_day: str
    updated: str  # "Updated {time}"
    stale: str  # "{name} as of {when}"
    unavailable: str  # "{name} unavailable"
    cut: str  # "{name}: too large, cut" (a source past one of its caps, last good data kept)
    no_events: str
    weather: str  # the weather source's name in notes
    holidays: str  # the public holidays' name in notes
    feels_like: str
    birthday: str  # "Happy Birthday, {name}!"
    birthday_age: str  # "{name} turns {age}"
    anniversary: str  # "Happy Anniversary, {name}!"
    anniversary_years: str  # "{name}: {years} years"


_EN = Words(
    days=("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"),
    days_short=("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
    months=(
        "January", "February", "March", "April", "May", "June", "July",
        "August", "September", "October", "November", "December",
    ),
    months_short=(
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ),
    today="Today",
    tomorrow="Tomorrow",
    more="+{n} more",
    all_day="all day",
    updated="Updated {time}",
    stale="{name} as of {when}",
    unavailable="{name} unavailable",
    cut="{name}: too large, cut",
    no_events="Nothing planned",
    weather="Weather",
    holidays="Holidays",
    feels_like="feels {temp}",
    birthday="Happy Birthday, {name}!",
    birthday_age="{name} turns {age}",
    anniversary="Happy Anniversary, {name}!",
    anniversary_years="{name}: {years} years",
)

_DE = Words(
    days=("Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag", "Sonntag"),
    days_short=("Mo", "Di", "Mi", "Do", "Fr", "Sa", "So"),
    months=(
        "Januar", "Februar", "März", "April", "Mai", "Juni", "Juli",
        "August", "September", "Oktober", "November", "Dezember",
    ),
    months_short=(
        "Jan", "Feb", "Mär", "Apr", "Mai", "Jun", "Jul", "Aug", "Sep", "Okt", "Nov", "Dez",
    ),
    today="Heute",
    tomorrow="Morgen",
    more="+{n} weitere",
    all_day="ganztägig",
    updated="Stand {time}",
    stale="{name} von {when}",
    unavailable="{name} nicht verfügbar",
    cut="{name}: zu groß, gekürzt",
    no_events="Nichts geplant",
    weather="Wetter",
    holidays="Feiertage",
    feels_like="gefühlt {temp}",
    birthday="Alles Gute, {name}!",
    birthday_age="{name} wird {age}",
    anniversary="Alles Gute zum Jahrestag, {name}!",
    anniversary_years="{name}: {years} Jahre",
)

_FR = Words(
    days=("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"),
    days_short=("lun", "mar", "mer", "jeu", "ven", "sam", "dim"),
    months=(
        "janvier", "février", "mars", "avril", "mai", "juin", "juillet",
        "août", "septembre", "octobre", "novembre", "décembre",
    ),
    months_short=(
        "janv", "févr", "mars", "avr", "mai", "juin", "juil", "août", "sept", "oct", "nov", "déc",
    ),
    today="Aujourd'hui",
    tomorrow="Demain",
    more="+{n} autres",
    all_day="journée",
    updated="Mis à jour {time}",
    stale="{name} du {when}",
    unavailable="{name} indisponible",
    cut="{name} : trop volumineux, tronqué",
    no_events="Rien de prévu",
    weather="Météo",
    holidays="Jours fériés",
    feels_like="ressenti {temp}",
    birthday="Joyeux anniversaire, {name} !",
    birthday_age="{name} a {age} ans",
    anniversary="Joyeux anniversaire de mariage, {name} !",
    anniversary_years="{name} : {years} ans",
)

_ES = Words(
    days=("lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"),
    days_short=("lun", "mar", "mié", "jue", "vie", "sáb", "dom"),
    months=(
        "enero", "febrero", "marzo", "abril", "mayo", "junio", "julio",
        "agosto", "septiembre", "octubre", "noviembre", "diciembre",
    ),
    months_short=(
        "ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sept", "oct", "nov", "dic",
    ),
    today="Hoy",
    tomorrow="Mañana",
    more="+{n} más",
    all_day="todo el día",
    updated="Actualizado {time}",
    stale="{name} de {when}",
    unavailable="{name} no disponible",
    cut="{name}: demasiado grande, recortado",
    no_events="Nada previsto",
    weather="Tiempo",
    holidays="Festivos",
    feels_like="sensación {temp}",
    birthday="¡Feliz cumpleaños, {name}!",
    birthday_age="{name} cumple {age}",
    anniversary="¡Feliz aniversario, {name}!",
    anniversary_years="{name}: {years} años",
)

_NL = Words(
    days=("maandag", "dinsdag", "woensdag", "donderdag", "vrijdag", "zaterdag", "zondag"),
    days_short=("ma", "di", "wo", "do", "vr", "za", "zo"),
    months=(
        "januari", "februari", "maart", "april", "mei", "juni", "juli",
        "augustus", "september", "oktober", "november", "december",
    ),
    months_short=(
        "jan", "feb", "mrt", "apr", "mei", "jun", "jul", "aug", "sep", "okt", "nov", "dec",
    ),
    today="Vandaag",
    tomorrow="Morgen",
    more="+{n} meer",
    all_day="hele dag",
    updated="Bijgewerkt {time}",
    stale="{name} van {when}",
    unavailable="{name} niet beschikbaar",
    cut="{name}: te groot, ingekort",
    no_events="Niets gepland",
    weather="Weer",
    holidays="Feestdagen",
    feels_like="voelt als {temp}",
    birthday="Gefeliciteerd, {name}!",
    birthday_age="{name} wordt {age}",
    anniversary="Fijne trouwdag, {name}!",
    anniversary_years="{name}: {years} jaar",
)

_SV = Words(
    days=("måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag"),
    days_short=("mån", "tis", "ons", "tor", "fre", "lör", "sön"),
    months=(
        "januari", "februari", "mars", "april", "maj", "juni", "juli",
        "augusti", "september", "oktober", "november", "december",
    ),
    months_short=(
        "jan", "feb", "mar", "apr", "maj", "jun", "jul", "aug", "sep", "okt", "nov", "dec",
    ),
    today="Idag",
    tomorrow="Imorgon",
    more="+{n} till",
    all_day="heldag",
    updated="Uppdaterad {time}",
    stale="{name} från {when}",
    unavailable="{name} otillgänglig",
    cut="{name}: för stor, avkortad",
    no_events="Inget planerat",
    weather="Väder",
    holidays="Helgdagar",
    feels_like="känns som {temp}",
    birthday="Grattis på födelsedagen, {name}!",
    birthday_age="{name} fyller {age}",
    anniversary="Grattis på bröllopsdagen, {name}!",
    anniversary_years="{name}: {years} år",
)

WORDS: dict[str, Words] = {
    "en": _EN,
    "de": _DE,
    "fr": _FR,
    "es": _ES,
    "nl": _NL,
    "sv": _SV,
}
LANGUAGES: tuple[str, ...] = tuple(WORDS)


def words_for(language: str) -> Words:
    """Return the words of ``language``, falling back to English."""
    return WORDS.get(language, _EN)
