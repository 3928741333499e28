"""The household page's words, in the board's languages (see ``homeboard.i18n``)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class PageWords:
    """Every sentence the page shows, with ``{placeholders}``."""

    title: str
    password: str
    log_in: str
    log_out: str
    wrong_password: str
    too_many: str  # {minutes}
    frame_alt: str
    no_frame: str
    on_panel: str  # {when}
    test_pattern: str
    cleared: str
    data_changed: str  # {when}
    data_never: str
    refresh_now: str
    refresh_asked: str  # {when}
    refresh_running: str  # {when}
    refresh_twice: str
    refresh_done: str  # {outcome} {seconds}
    refresh_failed: str  # {error}
    refresh_not_taken: str
    refresh_no_redis: str
    redis_down: str
    sources: str
    weather: str
    special_days: str
    fresh: str
    stale: str
    unavailable: str
    fetched: str  # {age}
    never_fetched: str
    cut: str
    server_said: str  # {code}
    hint_password: str
    hint_address: str
    hint_server: str
    hint_network: str
    hint_file: str
    last_refreshes: str
    no_refreshes: str
    durations: str  # {fetch} {render} {push}
    next_run: str  # {when}
    next_unknown: str
    counters: str
    outcomes: dict[str, str]
    counter_names: dict[str, str]
    now: str
    seconds_ago: str  # {n}
    minutes_ago: str
    hours_ago: str
    days_ago: str
    in_minutes: str  # {n}


EN = PageWords(
    title="Home Board",
    password="Password",
    log_in="Log in",
    log_out="Log out",
    wrong_password="Wrong password.",
    too_many="Too many wrong passwords: try again in {minutes} min.",
    frame_alt="The frame on the panel now",
    no_frame="No frame kept yet: the next push to the panel shows here.",
    on_panel="On the panel since {when}",
    test_pattern="test pattern",
    cleared="cleared panel",
    data_changed="Data last changed {when}",
    data_never="No data yet",
    refresh_now="Refresh now",
    refresh_asked="Refresh asked for {when}; waiting for the service…",
    refresh_running="A refresh is running (since {when}).",
    refresh_twice="A refresh is already running or waiting: not asked for twice.",
    refresh_done="Refresh done: {outcome} in {seconds} s.",
    refresh_failed="Refresh failed: {error}",
    refresh_not_taken="The service did not take the refresh in time: is it running?",
    refresh_no_redis="Could not ask for a refresh: the board's Redis is not answering.",
    redis_down="The board's Redis is not answering, so nothing can be shown now. "
    "Is redis-server running?",
    sources="Sources",
    weather="Weather",
    special_days="Special days",
    fresh="up to date",
    stale="out of date",
    unavailable="no data",
    fetched="fetched {age}",
    never_fetched="never fetched",
    cut="cut short: too large",
    server_said="the server said {code}",
    hint_password="check the password file",
    hint_address="check the address",
    hint_server="the server has trouble; it is tried again at every refresh",
    hint_network="check the network",
    hint_file="check the file",
    last_refreshes="Last refreshes",
    no_refreshes="No refresh yet.",
    durations="fetch {fetch} s, render {render} s, push {push} s",
    next_run="Next scheduled refresh: {when}",
    next_unknown="Next scheduled refresh: unknown (is the service running?)",
    counters="Counters",
    outcomes={
        "pushed": "new frame",
        "unchanged": "unchanged",
        "deferred": "deferred",
        "skipped-locked": "skipped (another was running)",
        "failed": "failed",
    },
    counter_names={
        "started": "started",
        "completed": "completed",
        "skipped_locked": "skipped",
        "expired": "expired",
        "pushes": "pushes",
        "unchanged": "unchanged",
    },
    now="just now",
    seconds_ago="{n} s ago",
    minutes_ago="{n} min ago",
    hours_ago="{n} h ago",
    days_ago="{n} d ago",
    in_minutes="in {n} min",
)

DE = PageWords(
    title="Home Board",
    password="Passwort",
    log_in="Anmelden",
    log_out="Abmelden",
    wrong_password="Falsches Passwort.",
    too_many="Zu viele falsche Passwörter: in {minutes} Min. erneut versuchen.",
    frame_alt="Das Bild, das die Anzeige jetzt zeigt",
    no_frame="Noch kein Bild gespeichert: das nächste erscheint hier.",
    on_panel="Auf der Anzeige seit {when}",
    test_pattern="Testbild",
    cleared="gelöschte Anzeige",
    data_changed="Daten zuletzt geändert {when}",
    data_never="Noch keine Daten",
    refresh_now="Jetzt aktualisieren",
    refresh_asked="Aktualisierung angefordert {when}; der Dienst ist gleich dran…",
    refresh_running="Eine Aktualisierung läuft (seit {when}).",
    refresh_twice="Eine Aktualisierung läuft oder wartet schon: nicht doppelt angefordert.",
    refresh_done="Aktualisiert: {outcome} in {seconds} s.",
    refresh_failed="Aktualisierung fehlgeschlagen: {error}",
    refresh_not_taken="Der Dienst hat die Aktualisierung nicht rechtzeitig angenommen: läuft er?",
    refresh_no_redis="Keine Aktualisierung möglich: Redis antwortet nicht.",
    redis_down="Redis antwortet nicht, daher kann gerade nichts angezeigt werden. "
    "Läuft redis-server?",
    sources="Quellen",
    weather="Wetter",
    special_days="Besondere Tage",
    fresh="aktuell",
    stale="veraltet",
    unavailable="keine Daten",
    fetched="abgerufen {age}",
    never_fetched="nie abgerufen",
    cut="gekürzt: zu groß",
    server_said="der Server antwortete {code}",
    hint_password="Passwortdatei prüfen",
    hint_address="Adresse prüfen",
    hint_server="der Server hat Probleme; bei jeder Aktualisierung neuer Versuch",
    hint_network="Netzwerk prüfen",
    hint_file="Datei prüfen",
    last_refreshes="Letzte Aktualisierungen",
    no_refreshes="Noch keine Aktualisierung.",
    durations="Abruf {fetch} s, Zeichnen {render} s, Anzeige {push} s",
    next_run="Nächste geplante Aktualisierung: {when}",
    next_unknown="Nächste geplante Aktualisierung: unbekannt (läuft der Dienst?)",
    counters="Zähler",
    outcomes={
        "pushed": "neues Bild",
        "unchanged": "unverändert",
        "deferred": "verschoben",
        "skipped-locked": "übersprungen (eine andere lief)",
        "failed": "fehlgeschlagen",
    },
    counter_names={
        "started": "gestartet",
        "completed": "beendet",
        "skipped_locked": "übersprungen",
        "expired": "verfallen",
        "pushes": "neue Bilder",
        "unchanged": "unverändert",
    },
    now="gerade eben",
    seconds_ago="vor {n} s",
    minutes_ago="vor {n} Min.",
    hours_ago="vor {n} Std.",
    days_ago="vor {n} T.",
    in_minutes="in {n} Min.",
)

FR = PageWords(
    title="Home Board",
    password="Mot de passe",
    log_in="Se connecter",
    log_out="Se déconnecter",
    wrong_password="Mot de passe incorrect.",
    too_many="Trop de mots de passe incorrects : réessayez dans {minutes} min.",
    frame_alt="L'image affichée sur l'écran",
    no_frame="Aucune image gardée pour l'instant : la prochaine s'affichera ici.",
    on_panel="Sur l'écran depuis {when}",
    test_pattern="mire de test",
    cleared="écran effacé",
    data_changed="Données modifiées {when}",
    data_never="Pas encore de données",
    refresh_now="Actualiser",
    refresh_asked="Actualisation demandée {when} ; le service s'en occupe…",
    refresh_running="Une actualisation est en cours (depuis {when}).",
    refresh_twice="Une actualisation est déjà en cours ou en attente : pas demandée deux fois.",
    refresh_done="Actualisé : {outcome} en {seconds} s.",
    refresh_failed="Échec de l'actualisation : {error}",
    refresh_not_taken="Le service n'a pas pris l'actualisation à temps : tourne-t-il ?",
    refresh_no_redis="Impossible de demander une actualisation : Redis ne répond pas.",
    redis_down="Redis ne répond pas, rien ne peut être affiché pour l'instant. "
    "redis-server tourne-t-il ?",
    sources="Sources",
    weather="Météo",
    special_days="Jours spéciaux",
    fresh="à jour",
    stale="pas à jour",
    unavailable="aucune donnée",
    fetched="reçues {age}",
    never_fetched="jamais reçues",
    cut="tronquées : trop volumineuses",
    server_said="le serveur a répondu {code}",
    hint_password="vérifiez le fichier du mot de passe",
    hint_address="vérifiez l'adresse",
    hint_server="le serveur a un problème ; nouvel essai à chaque actualisation",
    hint_network="vérifiez le réseau",
    hint_file="vérifiez le fichier",
    last_refreshes="Dernières actualisations",
    no_refreshes="Aucune actualisation pour l'instant.",
    durations="données {fetch} s, dessin {render} s, écran {push} s",
    next_run="Prochaine actualisation prévue : {when}",
    next_unknown="Prochaine actualisation prévue : inconnue (le service tourne-t-il ?)",
    counters="Compteurs",
    outcomes={
        "pushed": "nouvelle image",
        "unchanged": "inchangée",
        "deferred": "reportée",
        "skipped-locked": "sautée (une autre était en cours)",
        "failed": "échec",
    },
    counter_names={
        "started": "lancées",
        "completed": "terminées",
        "skipped_locked": "sautées",
        "expired": "expirées",
        "pushes": "nouvelles images",
        "unchanged": "inchangées",
    },
    now="à l'instant",
    seconds_ago="il y a {n} s",
    minutes_ago="il y a {n} min",
    hours_ago="il y a {n} h",
    days_ago="il y a {n} j",
    in_minutes="dans {n} min",
)

ES = PageWords(
    title="Home Board",
    password="Contraseña",
    log_in="Entrar",
    log_out="Salir",
    wrong_password="Contraseña incorrecta.",
    too_many="Demasiadas contraseñas incorrectas: inténtelo de nuevo en {minutes} min.",
    frame_alt="La imagen que muestra la pantalla",
    no_frame="Aún no hay imagen guardada: la próxima aparecerá aquí.",
    on_panel="En la pantalla desde {when}",
    test_pattern="patrón de prueba",
    cleared="pantalla borrada",
    data_changed="Datos cambiados {when}",
    data_never="Aún no hay datos",
    refresh_now="Actualizar ahora",
    refresh_asked="Actualización pedida {when}; esperando al servicio…",
    refresh_running="Hay una actualización en curso (desde {when}).",
    refresh_twice="Ya hay una actualización en curso o en espera: no se pide dos veces.",
    refresh_done="Actualizado: {outcome} en {seconds} s.",
    refresh_failed="La actualización falló: {error}",
    refresh_not_taken="El servicio no tomó la actualización a tiempo: ¿está en marcha?",
    refresh_no_redis="No se pudo pedir la actualización: Redis no responde.",
    redis_down="Redis no responde, así que ahora no se puede mostrar nada. "
    "¿Está en marcha redis-server?",
    sources="Fuentes",
    weather="Tiempo",
    special_days="Días especiales",
    fresh="al día",
    stale="desactualizada",
    unavailable="sin datos",
    fetched="obtenida {age}",
    never_fetched="nunca obtenida",
    cut="recortada: demasiado grande",
    server_said="el servidor respondió {code}",
    hint_password="revise el archivo de la contraseña",
    hint_address="revise la dirección",
    hint_server="el servidor tiene problemas; se reintenta en cada actualización",
    hint_network="revise la red",
    hint_file="revise el archivo",
    last_refreshes="Últimas actualizaciones",
    no_refreshes="Aún no hay actualizaciones.",
    durations="datos {fetch} s, dibujo {render} s, pantalla {push} s",
    next_run="Próxima actualización prevista: {when}",
    next_unknown="Próxima actualización prevista: desconocida (¿está en marcha el servicio?)",
    counters="Contadores",
    outcomes={
        "pushed": "imagen nueva",
        "unchanged": "sin cambios",
        "deferred": "aplazada",
        "skipped-locked": "omitida (otra estaba en curso)",
        "failed": "fallida",
    },
    counter_names={
        "started": "iniciadas",
        "completed": "terminadas",
        "skipped_locked": "omitidas",
        "expired": "caducadas",
        "pushes": "imágenes nuevas",
        "unchanged": "sin cambios",
    },
    now="ahora mismo",
    seconds_ago="hace {n} s",
    minutes_ago="hace {n} min",
    hours_ago="hace {n} h",
    days_ago="hace {n} d",
    in_minutes="en {n} min",
)

NL = PageWords(
    title="Home Board",
    password="Wachtwoord",
    log_in="Inloggen",
    log_out="Uitloggen",
    wrong_password="Verkeerd wachtwoord.",
    too_many="Te veel verkeerde wachtwoorden: probeer het over {minutes} min. opnieuw.",
    frame_alt="Het beeld dat het scherm nu toont",
    no_frame="Nog geen beeld bewaard: het volgende verschijnt hier.",
    on_panel="Op het scherm sinds {when}",
    test_pattern="testbeeld",
    cleared="leeg scherm",
    data_changed="Gegevens laatst gewijzigd {when}",
    data_never="Nog geen gegevens",
    refresh_now="Nu verversen",
    refresh_asked="Verversen gevraagd {when}; wachten op de dienst…",
    refresh_running="Er loopt een verversing (sinds {when}).",
    refresh_twice="Er loopt of wacht al een verversing: niet twee keer gevraagd.",
    refresh_done="Ververst: {outcome} in {seconds} s.",
    refresh_failed="Verversen mislukt: {error}",
    refresh_not_taken="De dienst nam de verversing niet op tijd aan: draait hij?",
    refresh_no_redis="Kon geen verversing vragen: Redis antwoordt niet.",
    redis_down="Redis antwoordt niet, dus er kan nu niets getoond worden. Draait redis-server?",
    sources="Bronnen",
    weather="Weer",
    special_days="Bijzondere dagen",
    fresh="actueel",
    stale="verouderd",
    unavailable="geen gegevens",
    fetched="opgehaald {age}",
    never_fetched="nooit opgehaald",
    cut="ingekort: te groot",
    server_said="de server antwoordde {code}",
    hint_password="controleer het wachtwoordbestand",
    hint_address="controleer het adres",
    hint_server="de server heeft problemen; elke verversing probeert het opnieuw",
    hint_network="controleer het netwerk",
    hint_file="controleer het bestand",
    last_refreshes="Laatste verversingen",
    no_refreshes="Nog geen verversing.",
    durations="ophalen {fetch} s, tekenen {render} s, scherm {push} s",
    next_run="Volgende geplande verversing: {when}",
    next_unknown="Volgende geplande verversing: onbekend (draait de dienst?)",
    counters="Tellers",
    outcomes={
        "pushed": "nieuw beeld",
        "unchanged": "ongewijzigd",
        "deferred": "uitgesteld",
        "skipped-locked": "overgeslagen (een andere liep)",
        "failed": "mislukt",
    },
    counter_names={
        "started": "gestart",
        "completed": "voltooid",
        "skipped_locked": "overgeslagen",
        "expired": "verlopen",
        "pushes": "nieuwe beelden",
        "unchanged": "ongewijzigd",
    },
    now="zojuist",
    seconds_ago="{n} s geleden",
    minutes_ago="{n} min geleden",
    hours_ago="{n} uur geleden",
    days_ago="{n} d geleden",
    in_minutes="over {n} min",
)

SV = PageWords(
    title="Home Board",
    password="Lösenord",
    log_in="Logga in",
    log_out="Logga ut",
    wrong_password="Fel lösenord.",
    too_many="För många felaktiga lösenord: försök igen om {minutes} min.",
    frame_alt="Bilden som skärmen visar nu",
    no_frame="Ingen bild sparad än: nästa visas här.",
    on_panel="På skärmen sedan {when}",
    test_pattern="testbild",
    cleared="tömd skärm",
    data_changed="Data senast ändrade {when}",
    data_never="Inga data än",
    refresh_now="Uppdatera nu",
    refresh_asked="Uppdatering begärd {when}; väntar på tjänsten…",
    refresh_running="En uppdatering pågår (sedan {when}).",
    refresh_twice="En uppdatering pågår eller väntar redan: inte begärd två gånger.",
    refresh_done="Uppdaterad: {outcome} på {seconds} s.",
    refresh_failed="Uppdateringen misslyckades: {error}",
    refresh_not_taken="Tjänsten tog inte emot uppdateringen i tid: körs den?",
    refresh_no_redis="Kunde inte begära en uppdatering: Redis svarar inte.",
    redis_down="Redis svarar inte, så inget kan visas just nu. Körs redis-server?",
    sources="Källor",
    weather="Väder",
    special_days="Särskilda dagar",
    fresh="aktuell",
    stale="inaktuell",
    unavailable="inga data",
    fetched="hämtad {age}",
    never_fetched="aldrig hämtad",
    cut="avkortad: för stor",
    server_said="servern svarade {code}",
    hint_password="kontrollera lösenordsfilen",
    hint_address="kontrollera adressen",
    hint_server="servern har problem; varje uppdatering försöker igen",
    hint_network="kontrollera nätverket",
    hint_file="kontrollera filen",
    last_refreshes="Senaste uppdateringar",
    no_refreshes="Ingen uppdatering än.",
    durations="hämtning {fetch} s, ritning {render} s, skärm {push} s",
    next_run="Nästa schemalagda uppdatering: {when}",
    next_unknown="Nästa schemalagda uppdatering: okänd (körs tjänsten?)",
    counters="Räknare",
    outcomes={
        "pushed": "ny bild",
        "unchanged": "oförändrad",
        "deferred": "uppskjuten",
        "skipped-locked": "överhoppad (en annan pågick)",
        "failed": "misslyckad",
    },
    counter_names={
        "started": "startade",
        "completed": "klara",
        "skipped_locked": "överhoppade",
        "expired": "utgångna",
        "pushes": "nya bilder",
        "unchanged": "oförändrade",
    },
    now="nyss",
    seconds_ago="för {n} s sedan",
    minutes_ago="för {n} min sedan",
    hours_ago="för {n} h sedan",
    days_ago="för {n} d sedan",
    in_minutes="om {n} min",
)

PAGE_WORDS: dict[str, PageWords] = {"en": EN, "de": DE, "fr": FR, "es": ES, "nl": NL, "sv": SV}


def page_words(language: str) -> PageWords:
    """The page's words in ``language`` (a CLDR identifier: ``de_AT`` uses ``de``), else English."""
    if language in PAGE_WORDS:
        return PAGE_WORDS[language]
    base = language.replace("-", "_").split("_", 1)[0].lower()
    return PAGE_WORDS.get(base, EN)


__all__ = ["PAGE_WORDS", "PageWords", "page_words"]
