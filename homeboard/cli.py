"""The ``homeboard`` command line (click): the commands the README lists, and their exit codes."""

from __future__ import annotations

import json
import logging
import os
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from homeboard.errors import ConfigError, HomeboardError, UsageError

if TYPE_CHECKING:
    from homeboard.config import Config
    from homeboard.model import BoardState, Snapshot

log = logging.getLogger("homeboard")


@dataclass
class CliContext:
    """What the group passes to its commands."""

    config_path: str | None = None
    debug: bool = False

    def config_file(self) -> Path:
        """The config file to use, by the documented lookup order."""
        from homeboard.config import find_config_path

        return find_config_path(self.config_path)

    def load(self) -> Config:
        """Load and validate the config file (ConfigError, exit 2, when it is bad)."""
        from homeboard.config import load_config

        return load_config(self.config_file())

    def load_checked(self) -> Config:
        """``load``, then ask the holidays package about the country, as check-config does."""
        config = self.load()
        if config.holidays is not None:
            # Whether the holidays package knows the country is only known by asking it;
            # the loader leaves that (a slow import) to the commands that use the config.
            from homeboard.sources.special import check_holidays

            problem = check_holidays(config.holidays)
            if problem:
                raise ConfigError([f"{self.config_file()}: holidays: {problem}"])
        return config


def _set_config(ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    if value is not None:
        ctx.ensure_object(CliContext).config_path = value


def config_option(func: Callable[..., Any]) -> Callable[..., Any]:
    """``--config F`` after the sub-command too (``homeboard render --config F``)."""
    return click.option(
        "--config",
        "config_path",
        type=click.Path(dir_okay=False),
        expose_value=False,
        callback=_set_config,
        is_eager=True,
        help="Config file (default: lookup order).",
    )(func)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    envvar="HOMEBOARD_CONFIG",
    type=click.Path(dir_okay=False),
    help="Config file; else $HOMEBOARD_CONFIG, /etc/homeboard/config.yaml, ./config.yaml.",
)
@click.option("--debug", is_flag=True, help="Show tracebacks and debug logs.")
@click.version_option(package_name="homeboard")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, debug: bool) -> None:
    """Home Board: a family's e-paper hallway board."""
    obj = ctx.ensure_object(CliContext)
    obj.config_path = obj.config_path or config_path
    obj.debug = debug
    logging.basicConfig(
        level=logging.DEBUG if debug else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


# --------------------------------------------------------------------------- #
# Shared pieces
# --------------------------------------------------------------------------- #


def parse_now(value: str | None, config: Config) -> datetime:
    """``--now``: an ISO 8601 moment; without an offset it is the board's local time."""
    if value is None:
        return datetime.now(config.tz)
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise UsageError(f"--now: not an ISO 8601 date or time: {value!r}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=config.tz)
    return moment


def _look_config(obj: CliContext) -> Config | None:
    """The config by the usual lookup, or None when there is none anywhere (demo only).

    A file named by ``--config`` or ``$HOMEBOARD_CONFIG`` must exist; the default places
    may all be empty, and then the demo draws with its own household's settings.
    """
    explicit = obj.config_path is not None or bool(os.environ.get("HOMEBOARD_CONFIG"))
    if not explicit:
        from homeboard.config.reader import DEFAULT_CONFIG_PATHS

        if not any(Path(p).is_file() for p in DEFAULT_CONFIG_PATHS):
            return None
    return obj.load()


def board_inputs(
    obj: CliContext,
    *,
    demo: bool,
    now_text: str | None,
    scenario: str | None,
) -> tuple[Config, dict[str, Snapshot], datetime]:
    """The config, the source snapshots and the moment for ``render`` and ``state``."""
    if scenario is not None:
        demo = True
    if demo:
        from homeboard.demo import demo_config, demo_snapshots

        base = _look_config(obj)
        config = demo_config(base)
        now = parse_now(now_text, config)
        try:
            snapshots = demo_snapshots(config, now, scenario=scenario or "default")
        except ValueError as exc:
            raise UsageError(f"--scenario: {exc}") from None
        return config, snapshots, now
    config = obj.load_checked()
    now = parse_now(now_text, config)
    return config, fetch_live(config, now), now


def fetch_live(config: Config, now: datetime) -> dict[str, Snapshot]:
    """Fetch every source once, with no cache (render/state without Redis), in bounded time.

    The whole fetch gets a refresh's budget: slow sources fail alone ("no time left"), and
    the command ends, as a refresh does.
    """
    from homeboard.service import fetch_budget
    from homeboard.sources import build_sources, fetch_all, make_session

    with make_session(config) as session:
        return fetch_all(
            build_sources(config),
            {},
            session=session,
            now=now,
            force=True,
            budget=fetch_budget(config),
        )


def panel_for(config: Config, panel: str | None) -> str:
    """The panel a preview is drawn for: ``--panel``, else the configured one."""
    import drivers

    if panel is None:
        panel = (
            config.display.driver
            if config.display.driver in drivers.PANELS
            else config.display.panel
        )
    if panel not in drivers.PANELS:
        raise UsageError(
            f"--panel: unknown panel {panel!r}; choose from {', '.join(drivers.PANELS)}"
        )
    return panel


def compose_state(config: Config, snapshots: dict[str, Snapshot], now: datetime) -> BoardState:
    """Compose the BoardState (a thin wrapper so commands read the same)."""
    from homeboard.model import compose

    return compose(config, snapshots, now)


_now_option = click.option(
    "--now", "now_text", metavar="ISO", help="Draw the board as at this moment (ISO 8601)."
)
_demo_option = click.option("--demo", is_flag=True, help="Use the bundled demo data (offline).")
_scenario_option = click.option(
    "--scenario",
    metavar="NAME",
    default=None,
    help="A demo scenario (implies --demo): default, plain, busy, long, no-weather, stale, dst,"
    " i18n (titles in the configured language: th, hi, ar, he, ja, pt_BR).",
)


# --------------------------------------------------------------------------- #
# Commands
# --------------------------------------------------------------------------- #


@cli.command()
@config_option
@_demo_option
@_scenario_option
@_now_option
@click.option(
    "--panel", default=None, metavar="NAME", help="Panel to draw for (default: the configured one)."
)
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(dir_okay=False, writable=True),
    help="PNG file to write.",
)
@click.pass_obj
def render(
    obj: CliContext,
    demo: bool,
    scenario: str | None,
    now_text: str | None,
    panel: str | None,
    out: str,
) -> None:
    """Write a true-colour PNG preview of exactly what the panel would show."""
    import drivers
    from homeboard.render import render as draw

    config, snapshots, now = board_inputs(obj, demo=demo, now_text=now_text, scenario=scenario)
    state = compose_state(config, snapshots, now)
    name = panel_for(config, panel)
    frame = draw(state, drivers.PANELS[name], orientation=config.layout.orientation)
    # Round-trip through the panel's bytes so the preview is what the panel receives.
    shown = drivers.unpack(drivers.pack(frame, name), name)
    if config.layout.orientation == "portrait":
        shown = shown.transpose(drivers.PORTRAIT_TO_PANEL_INVERSE)
    path = Path(out)
    tmp = path.with_name(path.name + ".tmp")
    try:
        shown.convert("RGB").save(tmp, format="PNG")
        os.replace(tmp, path)
    except OSError as exc:
        if tmp.parent.is_dir():
            tmp.unlink(missing_ok=True)
        raise HomeboardError(f"cannot write {path}: {exc.strerror or exc}") from None
    click.echo(f"wrote {path} ({shown.width}x{shown.height}, {name})", err=True)


@cli.command()
@config_option
@_demo_option
@_scenario_option
@_now_option
@click.option("--json", "as_json", is_flag=True, help="Print the BoardState as JSON.")
@click.pass_obj
def state(
    obj: CliContext, demo: bool, scenario: str | None, now_text: str | None, as_json: bool
) -> None:
    """Print the composed BoardState: days, events, weather, sources' freshness."""
    from homeboard.model import state_to_json

    config, snapshots, now = board_inputs(obj, demo=demo, now_text=now_text, scenario=scenario)
    board = compose_state(config, snapshots, now)
    data = state_to_json(board)
    if as_json:
        click.echo(json.dumps({"now": now.isoformat(), **data}, indent=2, ensure_ascii=False))
        return
    click.echo(f"{board.date.isoformat()} ({board.timezone})")
    if board.current is not None:
        click.echo(f"  now: {board.current.temperature}° {board.current.category}")
    for day in board.days:
        fc = day.forecast
        weather = f"{fc.category} {fc.high}/{fc.low}" if fc else "no forecast"
        click.echo(
            f"{day.date.isoformat()}  {weather}"
            + (f"  [{day.special.message}]" if day.special else "")
        )
        for ev in day.events:
            when = "all day" if ev.all_day else ev.start.strftime("%H:%M")  # type: ignore[union-attr]
            flag = " (underway)" if ev.underway else ""
            click.echo(f"    {when:>8}  {ev.title} — {ev.label}{flag}")
    for src in board.sources:
        click.echo(
            f"source {src.name}: {src.status}" + (f" ({src.last_error})" if src.last_error else "")
        )


@cli.command("check-config")
@config_option
@click.pass_obj
def check_config(obj: CliContext) -> None:
    """Validate the config file: exit 0, or 2 with one line per problem."""
    path = obj.config_file()
    config = obj.load_checked()
    for field, file in secret_files(config):
        if not file.is_file():
            # A warning, not an error: the file may be put in place after the config.
            click.echo(f"{path}: warning: {field}: no such file: {file}", err=True)
    shaped, why = _shaping()
    if not shaped:
        click.echo(f"{path}: warning: {why}", err=True)
    click.echo(f"{path}: ok")


def _shaping() -> tuple[bool, str]:
    """Whether complex scripts will be shaped on this machine, and why not."""
    from homeboard.render.text import shaping_available

    return shaping_available()


def secret_files(config: Config) -> list[tuple[str, Path]]:
    """The files the config names for credentials, keys and passwords, by field path."""
    files: list[tuple[str, Path]] = []
    if config.weather is not None and config.weather.api_key_file is not None:
        files.append(("weather.api_key_file", config.weather.api_key_file))
    if config.web.password_file is not None:
        files.append(("web.password_file", config.web.password_file))
    for i, cal in enumerate(config.calendars):
        base = f"calendars[{i}]"
        if cal.password_file is not None:
            files.append((f"{base}.password_file", cal.password_file))
        if cal.google is not None:
            files.append((f"{base}.google.credentials", cal.google.credentials))
        if cal.caldav is not None and cal.caldav.password_file is not None:
            files.append((f"{base}.caldav.password_file", cal.caldav.password_file))
    return files


@cli.group()
def auth() -> None:
    """Connect a calendar account."""


@auth.command("google")
@config_option
@click.argument("calendar")
@click.option(
    "--port", default=8765, show_default=True, help="Local port Google redirects the browser to."
)
@click.option("--browser", is_flag=True, help="Open the URL in a browser on this machine.")
@click.pass_obj
def auth_google(obj: CliContext, calendar: str, port: int, browser: bool) -> None:
    """Connect Google calendar CALENDAR (its config name) and save its OAuth token."""
    from homeboard.sources import run_google_auth

    config = obj.load()
    names = [c.name for c in config.calendars if c.google is not None]
    if calendar not in names:
        raise UsageError(
            f"no Google calendar named {calendar!r} in the config"
            + (f"; choose from {', '.join(names)}" if names else "")
        )
    path = run_google_auth(config, calendar, port=port, open_browser=browser)
    click.echo(f"saved the token to {path}")


@cli.command("config-schema")
def config_schema_command() -> None:
    """Print the JSON Schema of the config file (for editors)."""
    from homeboard.config import config_schema

    click.echo(json.dumps(config_schema(), indent=2))


# --------------------------------------------------------------------------- #
# The service: run, refresh, status, display
# --------------------------------------------------------------------------- #


@cli.command()
@config_option
@click.pass_obj
def run(obj: CliContext) -> None:
    """Run the service: the Celery worker with beat as a thread, in one process."""
    config = obj.load_checked()  # a bad config exits 2 here, before anything starts
    shaped, why = _shaping()
    if not shaped:
        logging.getLogger("homeboard").warning("%s", why)
        click.echo(f"warning: {why}", err=True)
    from homeboard.app import build_app
    from homeboard.tasks import run_worker

    sys.exit(run_worker(build_app(config), loglevel="DEBUG" if obj.debug else "INFO"))


@cli.command()
@config_option
@click.option(
    "--force",
    is_flag=True,
    help="Fetch every source now and push the frame even if it is unchanged.",
)
@click.pass_obj
def refresh(obj: CliContext, force: bool) -> None:
    """Refresh the board once, now, sharing the service's lock (no service needed)."""
    from homeboard.app import build_app
    from homeboard.service import RefreshInterrupted, release_on_signals
    from homeboard.service import refresh as run_refresh

    app = build_app(obj.load())
    try:
        # SIGTERM/SIGHUP (a closed SSH session, systemctl) end the refresh, not the process:
        # its lock is released on the way out instead of blocking refreshes for minutes.
        with release_on_signals():
            result = run_refresh(app, force=force, trigger="manual")
    except RefreshInterrupted as exc:
        click.echo(f"homeboard: refresh {exc}; the lock was released", err=True)
        sys.exit(128 + exc.signum)
    finally:
        app.close()
    rec = result.record
    if rec.outcome == "skipped-locked":
        # Not an error: the service is refreshing right now, and the panel is one resource.
        click.echo("a refresh is already running (another process holds the lock); nothing to do")
        return
    if rec.warning:
        click.echo(f"warning: {rec.warning}", err=True)
    total = rec.duration
    if rec.outcome == "failed":
        raise HomeboardError(f"refresh failed after {total:.1f} s: {rec.error}")
    if rec.outcome == "held":
        raise HomeboardError(f"refresh held: {rec.error}")
    short = f" (frame {rec.sha256[:12]})" if rec.sha256 else ""
    click.echo(f"{rec.outcome}{short} in {total:.1f} s: {result.detail}")
    if result.state is not None:
        for src in result.state.sources:
            if src.status != "fresh":
                why = f": {src.last_error}" if src.last_error else ""
                click.echo(f"  {src.name} {src.status}{why}")


def _age(seconds: float | None) -> str:
    """``3h ago``: the largest whole unit."""
    if seconds is None:
        return "never"
    whole = int(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if whole >= size:
            return f"{whole // size}{unit} ago"
    return f"{whole}s ago"


@cli.command()
@config_option
@click.option("--json", "as_json", is_flag=True, help="Print the status as JSON.")
@click.option(
    "--unit",
    default="homeboard.service",
    show_default=True,
    envvar="HOMEBOARD_UNIT",
    help="The systemd unit of the service, asked why it stopped ($HOMEBOARD_UNIT).",
)
@click.pass_obj
def status(obj: CliContext, as_json: bool, unit: str) -> None:
    """Show the last refreshes, the last push, each source's age and the next run."""
    import redis

    from homeboard.app import RedisUnavailable, build_app, safe_url
    from homeboard.exits import last_exit_words, service_status, systemd_unit

    config = obj.load()
    app = build_app(config)
    try:
        doc = app.store().status(config, app.now(), disk=app.disk())
    except redis.RedisError as exc:
        raise RedisUnavailable(
            f"Redis at {safe_url(config.redis_url)} did not answer ({type(exc).__name__}); "
            "is redis-server running?"
        ) from None
    finally:
        app.close()
    # Why the service stopped: systemd's word (OOM kill, gave up restarting) and its own.
    service = service_status(systemd_unit(unit), app.disk().last_exit(), unit=unit)
    doc["service"] = service
    if as_json:
        click.echo(json.dumps(doc, indent=2, ensure_ascii=False))
        return
    click.echo(f"board {doc['board']} at {doc['now']}")
    if service is not None:
        if service["summary"]:
            click.echo(f"service: {service['summary']}")
        if (last_exit := last_exit_words(service["last_exit"])) is not None:
            click.echo(f"service last exited: {last_exit}")
    last = doc["last_refresh"]
    if last is None:
        click.echo("last refresh: never")
    else:
        err = f" ({last['error']})" if last.get("error") else ""
        if last.get("warning"):
            err += f" [{last['warning']}]"
        click.echo(
            f"last refresh: {last['outcome']}{err}, {last['started_at']} → {last['ended_at']}"
        )
    if doc["running"]:
        click.echo(f"running now: since {doc['running']['started_at']}")
    push = doc["last_push"]
    click.echo(
        f"last push: {push['time']} (frame {str(push['sha256'])[:12]})"
        if push
        else "last push: never"
    )
    click.echo(
        f"next run: {doc['next_run'] or 'unknown (is the service running?)'}"
        + (" (overdue)" if doc.get("next_run_overdue") else "")
    )
    if doc.get("deferred_until"):
        click.echo(f"deferred frame: pushed at {doc['deferred_until']} (display.min_interval)")
    for fault in doc.get("faults", []):
        click.echo(f"FAULT: {fault}")
    for name, src in doc["sources"].items():
        err = f" — {src['last_error']}" if src["last_error"] else ""
        click.echo(f"source {name}: {src['status']}, fetched {_age(src['age_seconds'])}{err}")
    counters = ", ".join(f"{k} {v}" for k, v in doc["counters"].items())
    click.echo(f"counters: {counters}")


@cli.command()
@config_option
@click.pass_obj
def web(obj: CliContext) -> None:
    """Serve the household page (web.listen; web.password_file locks it)."""
    config = obj.load()  # a bad config (an open page on the network) exits 2 here
    from homeboard.web import serve

    serve(config)


@cli.group()
def display() -> None:
    """Drive the configured display directly (test pattern, clear)."""


def _panel_command(obj: CliContext, what: str) -> None:
    from homeboard.app import build_app
    from homeboard.service import RefreshInterrupted, release_on_signals, show_on_panel

    app = build_app(obj.load())
    try:
        with release_on_signals():
            result = show_on_panel(app, what)
    except RefreshInterrupted as exc:
        click.echo(f"homeboard: display {what} {exc}; the lock was released", err=True)
        sys.exit(128 + exc.signum)
    finally:
        app.close()
    if result.outcome == "skipped-locked":
        raise HomeboardError(f"the panel is busy: {result.detail}")
    click.echo(f"{result.detail} on {app.config.display.driver} in {result.record.push_s:.1f} s")


@display.command("test")
@config_option
@click.pass_obj
def display_test(obj: CliContext) -> None:
    """Show the test pattern (the next refresh draws the board again)."""
    _panel_command(obj, "test")


@display.command("clear")
@config_option
@click.pass_obj
def display_clear(obj: CliContext) -> None:
    """Clear the panel to white (the next refresh draws the board again)."""
    _panel_command(obj, "clear")


# --------------------------------------------------------------------------- #
# Entry point
# --------------------------------------------------------------------------- #


def main(argv: list[str] | None = None) -> None:
    """Run the CLI; a HomeboardError becomes one clear line on stderr and its exit code."""
    args = sys.argv[1:] if argv is None else argv
    debug = "--debug" in args or bool(os.environ.get("HOMEBOARD_DEBUG"))
    try:
        cli.main(args=args, prog_name="homeboard", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except ConfigError as exc:
        if debug:
            traceback.print_exc()
        for line in exc.problems:
            click.echo(line, err=True)
        sys.exit(exc.exit_code)
    except HomeboardError as exc:
        if debug:
            traceback.print_exc()
        click.echo(f"homeboard: error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - the last line of defence: one line, exit 1
        if debug:
            raise
        click.echo(f"homeboard: unexpected error: {exc!r} (run with --debug for details)", err=True)
        sys.exit(1)
