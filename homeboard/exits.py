"""Why the service stopped: its own exit statuses, and what systemd says of the unit.

``homeboard status`` puts both in plain words. The process records its own reason on the
way out (``record_exit``, through a recorder the service installs: the state directory's
``last_exit.json``), so the reason is known even without systemd; what the process cannot
see (the kernel's OOM killer, SIGKILL, systemd giving up restarting it) comes from
``systemctl show``, asked with a short timeout, and nothing is said when it cannot answer.
"""

from __future__ import annotations

import logging
import shutil
import signal
import subprocess
from collections.abc import Callable, Mapping
from typing import Any

log = logging.getLogger("homeboard.exits")

#: A bad config: restarting cannot fix it (``RestartPreventExitStatus=2``).
EXIT_CONFIG = 2
#: A refresh could not be stopped (``homeboard.service``).
EXIT_HUNG = 70
#: The worker could not be made to take refreshes from Redis again.
EXIT_WEDGED = 75
#: The scheduler thread ended on its own.
EXIT_BEAT_DIED = 76

#: The product's exit statuses in plain words.
EXIT_MEANINGS: dict[int, str] = {
    0: "stopped normally",
    1: "an unexpected error (see the journal)",
    EXIT_CONFIG: "a bad config file (check-config says why)",
    EXIT_HUNG: "a refresh hung and could not be stopped",
    EXIT_WEDGED: "the worker stopped taking refreshes from Redis",
    EXIT_BEAT_DIED: "the scheduler thread died",
}

#: ``systemctl show``'s ``Result`` in plain words (a ``{}`` is filled by the caller).
RESULTS: dict[str, str] = {
    "exit-code": "{exit}",
    "signal": "killed by {signal}",
    "core-dump": "crashed ({signal}, core dumped)",
    "watchdog": "the systemd watchdog stopped it (watchdog)",
    "timeout": "it did not start or stop in time (timeout)",
    "start-limit-hit": "start-limit-hit after {restarts} restarts: systemd gave up restarting "
    "it (last exit: {exit})",
    "oom-kill": "killed by the kernel for using too much memory (oom-kill)",
    "resources": "systemd could not set it up: a missing directory, user or file (resources)",
}

#: The unit's properties ``status`` asks for.
PROPERTIES = (
    "LoadState",
    "ActiveState",
    "SubState",
    "Result",
    "ExecMainStatus",
    "ExecMainCode",
    "NRestarts",
    "ActiveEnterTimestamp",
    "StateChangeTimestamp",
)
#: Longest wait for ``systemctl show`` (status must answer at once).
SYSTEMCTL_TIMEOUT = 3.0
#: ``ExecMainCode``: how the main process ended (``siginfo_t.si_code``).
CLD_EXITED, CLD_KILLED, CLD_DUMPED = 1, 2, 3

_recorder: Callable[[int, str, str | None], object] | None = None


def exit_words(code: int) -> str:
    """``exit 76: the scheduler thread died``; a status above 128 is a signal's."""
    if code in EXIT_MEANINGS:
        return f"exit {code}: {EXIT_MEANINGS[code]}"
    if 128 < code < 128 + 65:
        return f"exit {code}: ended by {signal_name(code - 128)}"
    return f"exit {code}"


def signal_name(number: int) -> str:
    """``SIGKILL`` for 9 (the number when Python does not know it)."""
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


# --------------------------------------------------------------------------- its own reason


def set_recorder(recorder: Callable[[int, str, str | None], object] | None) -> None:
    """Install what ``record_exit`` calls (the service: its state directory)."""
    global _recorder
    _recorder = recorder


def record_exit(code: int, detail: str | None = None) -> None:
    """Record why this process is about to exit (best effort: never raises)."""
    if _recorder is None:
        return
    try:
        _recorder(code, exit_words(code), detail)
    except Exception as exc:  # noqa: BLE001 - exiting must never fail because of this
        log.warning("could not record the exit reason: %s", exc)


def last_exit_words(record: Mapping[str, Any] | None) -> str | None:
    """``2026-12-01T20:00:00+00:00: exit 76: the scheduler thread died (ValueError: …)``."""
    if not record or not isinstance(record.get("reason"), str):
        return None
    detail = f" ({record['detail']})" if record.get("detail") else ""
    return f"{record.get('time', '?')}: {record['reason']}{detail}"


# --------------------------------------------------------------------------- systemd


def systemd_unit(unit: str, *, timeout: float = SYSTEMCTL_TIMEOUT) -> dict[str, str] | None:
    """The unit's properties from ``systemctl show``, or None when systemd cannot say."""
    systemctl = shutil.which("systemctl")
    if systemctl is None:
        return None
    try:
        proc = subprocess.run(
            [systemctl, "show", unit, "--no-pager", f"--property={','.join(PROPERTIES)}"],
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        log.debug("systemctl show %s: %s", unit, exc)
        return None
    if proc.returncode != 0:
        # e.g. "System has not been booted with systemd" in a container
        log.debug("systemctl show %s: exit %d: %s", unit, proc.returncode, proc.stderr.strip())
        return None
    props: dict[str, str] = {}
    for line in proc.stdout.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            props[key.strip()] = value.strip()
    if props.get("LoadState", "loaded") != "loaded" or "ActiveState" not in props:
        return None  # not installed here (not-found), or an answer we do not understand
    return props


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None and value != "" else None
    except ValueError:
        return None


def main_exit(props: Mapping[str, str]) -> str | None:
    """How the last main process ended: ``exit 1: …``, ``SIGKILL`` (None if unknown)."""
    code = _int(props.get("ExecMainCode"))
    status = _int(props.get("ExecMainStatus"))
    if status is None or code not in (CLD_EXITED, CLD_KILLED, CLD_DUMPED):
        return None
    if code == CLD_EXITED:
        return exit_words(status)
    return signal_name(status)


def unit_words(props: Mapping[str, str]) -> str:
    """The unit's state in plain words, with why it stopped when it did not end well."""
    active = props.get("ActiveState", "")
    sub = props.get("SubState", "")
    result = props.get("Result", "success")
    restarts = _int(props.get("NRestarts")) or 0
    last = main_exit(props)
    if result in RESULTS:
        why: str | None = RESULTS[result].format(
            exit=last or "unknown",
            signal=last or "a signal",
            restarts=restarts,
        )
    elif result and result != "success":
        why = f"it ended badly ({result})"
    else:
        why = None
    again = f", restarted {restarts} time{'s' if restarts != 1 else ''}" if restarts else ""
    if active == "active":
        since = props.get("ActiveEnterTimestamp")
        return "running" + (f" since {since}" if since else "") + again
    if active == "failed":
        return f"failed — {why or last or 'unknown reason'}"
    if active == "activating" and sub == "auto-restart":
        return f"restarting after a failure — {why or last or 'unknown reason'}{again}"
    if active == "inactive":
        if why:
            return f"stopped — {why}"
        return "stopped" + (f" ({last})" if last else "")
    return {"activating": "starting", "deactivating": "stopping", "reloading": "reloading"}.get(
        active, active or "unknown"
    )


def service_status(
    props: Mapping[str, str] | None, last_exit: Mapping[str, Any] | None, *, unit: str
) -> dict[str, Any] | None:
    """The ``service`` object of ``status --json`` (None when nothing is known)."""
    if props is None and not last_exit:
        return None
    words = unit_words(props) if props is not None else None
    return {
        "unit": unit if props is not None else None,
        "summary": words,
        "state": props.get("ActiveState") if props is not None else None,
        "sub_state": props.get("SubState") if props is not None else None,
        "result": props.get("Result") if props is not None else None,
        "restarts": _int(props.get("NRestarts")) if props is not None else None,
        "since": (props.get("StateChangeTimestamp") or None) if props is not None else None,
        "last_exit": dict(last_exit) if last_exit else None,
    }


__all__ = [
    "EXIT_BEAT_DIED",
    "EXIT_CONFIG",
    "EXIT_HUNG",
    "EXIT_MEANINGS",
    "EXIT_WEDGED",
    "PROPERTIES",
    "RESULTS",
    "exit_words",
    "last_exit_words",
    "main_exit",
    "record_exit",
    "service_status",
    "set_recorder",
    "signal_name",
    "systemd_unit",
    "unit_words",
]
