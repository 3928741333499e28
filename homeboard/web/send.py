"""Send one 'refresh now' to the service, in a process of its own (``python -m``).

The page itself never loads Celery: its broker client costs about 7 MB, which the page
would then keep for good. This short-lived process loads it, sends the service's own
refresh task as beat does (``tasks.send_refresh``), and exits: 0 when sent (printing the
message's expiry in seconds), 1 (with one line on stderr) when not.
"""

from __future__ import annotations

import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    """``python -m homeboard.web.send CONFIG``."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m homeboard.web.send CONFIG", file=sys.stderr)
        return 2
    from homeboard.config import load_config
    from homeboard.errors import HomeboardError
    from homeboard.tasks import expires_seconds, refresh_sender, send_refresh

    try:
        config = load_config(Path(args[0]))
        send_refresh(refresh_sender(config), config, trigger="web")
    except HomeboardError as exc:
        print(str(exc).splitlines()[0] if str(exc) else type(exc).__name__, file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 - one line for the page's log, never a traceback
        print(f"{type(exc).__name__}: {exc}".splitlines()[0], file=sys.stderr)
        return 1
    print(f"{expires_seconds(config):g}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
