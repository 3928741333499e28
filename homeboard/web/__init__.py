"""``homeboard web``: the household page, a small locked web page on the home network.

It shows the frame on the panel now, how current each source is, the last refreshes
and the counters, and can ask the service for a refresh. It reads the board's Redis
only (like ``homeboard status``): it never renders, never opens the panel and never
goes to the network.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from homeboard.errors import ConfigError, HomeboardError

if TYPE_CHECKING:
    from homeboard.config import Config

log = logging.getLogger("homeboard.web")

#: Worker threads of the WSGI server: enough for a household, small on a Pi Zero.
THREADS = 4


def serve(config: Config) -> None:
    """Serve the page on ``web.listen`` until stopped (SIGTERM or Ctrl-C)."""
    import waitress

    from homeboard.config.fields import _is_loopback
    from homeboard.web.app import create_app
    from homeboard.web.security import read_password

    web = config.web
    where = str(config.path) if config.path else "config"
    password = read_password(web.password_file) if web.password_file is not None else None
    if password is None and not _is_loopback(web.host):
        # The loader refuses this already; a Config built in code must not slip through.
        raise ConfigError(
            [
                f"{where}: web.listen: '{web.host}' is reachable from other "
                "machines: set web.password_file"
            ]
        )
    app = create_app(config, password=password)
    log.info(
        "household page on http://%s/ (%s)",
        web.listen,
        "password required" if password else "no password: this machine only",
    )
    try:
        waitress.serve(
            app,
            listen=web.listen,
            threads=THREADS,
            ident="homeboard",
            clear_untrusted_proxy_headers=False,
            _quiet=True,
        )
    except OSError as exc:
        raise HomeboardError(f"cannot listen on {web.listen}: {exc.strerror or exc}") from None


__all__ = ["serve"]
