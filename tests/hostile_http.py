"""A real local HTTP server that answers the way hostile or broken feeds do.

Used by tests/test_sources_http.py and benchmarks/bench_hostile_http.py. Every
answer is bounded in time (``max_seconds``) and stops when the client hangs up, so
a test that fails never leaves a server streaming forever.

Paths:
  /ok.ics           a small calendar
  /gzip-chunked     the same, gzip-compressed and chunked (a well-behaved nginx)
  /drip             headers at once, then one byte every ``drip_interval`` s
  /endless          200 without a length, "X" forever (until the client leaves)
  /endless-503      the same with status 503 (retried by urllib3, which drains it)
  /huge-declared    Content-Length of 10 GB, then bytes
  /bomb             gzip of ``bomb_size`` zero bytes (about 1/1000 of that on the wire)
  /loop             302 to itself
  /to-file          302 to file:///etc/passwd
  /to-ftp           302 to ftp://example.org/cal.ics
  /latin1           a calendar in ISO-8859-1, labelled so
  /latin1-unlabelled  the same without a charset
  /utf16            a calendar in UTF-16 with its BOM, labelled text/calendar only
  /echo-userinfo    404 whose JSON message echoes the URL with user:password@
"""

from __future__ import annotations

import json
import threading
import time
import zlib
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CALENDAR = (
    "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//hostile//EN\r\n"
    "BEGIN:VEVENT\r\nUID:1@test\r\nDTSTAMP:20250101T000000Z\r\n"
    "DTSTART;VALUE=DATE:20250120\r\nDTEND;VALUE=DATE:20250121\r\n"
    "SUMMARY:{title}\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)
# What people write in feeds that are not UTF-8: accents, the euro sign, ß.
LATIN1_TITLE = "Fête à l'école – Grüße"
UTF16_TITLE = "Geburtstag von Jürgen 🎂"


def calendar(title: str = "Zumba") -> str:
    """A one-event calendar: an all-day event on Monday 2025-01-20."""
    return CALENDAR.format(title=title)


def gzip_bomb(size: int) -> bytes:
    """gzip of ``size`` zero bytes, made in 1 MB steps (never ``size`` bytes in memory)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(1024 * 1024)
    parts = []
    left = size
    while left > 0:
        step = min(left, len(zeros))
        parts.append(packer.compress(zeros[:step]))
        left -= step
    parts.append(packer.flush())
    return b"".join(parts)


class HostileServer:
    """A ThreadingHTTPServer on a free loopback port serving the answers above."""

    def __init__(self, *, drip_interval: float = 0.1, max_seconds: float = 30.0,
                 bomb_size: int = 200 * 1024 * 1024) -> None:
        self.drip_interval = drip_interval
        self.max_seconds = max_seconds
        self.bomb_size = bomb_size
        self._bomb: bytes | None = None
        self.requests: Counter[str] = Counter()
        self.sent: Counter[str] = Counter()  # body bytes written, per path
        self._server: ThreadingHTTPServer | None = None

    @property
    def bomb(self) -> bytes:
        """The gzip bomb (made once)."""
        if self._bomb is None:
            self._bomb = gzip_bomb(self.bomb_size)
        return self._bomb

    def url(self, path: str, *, userinfo: str = "") -> str:
        """The address of ``path`` on this server."""
        assert self._server is not None
        at = f"{userinfo}@" if userinfo else ""
        return f"http://{at}127.0.0.1:{self._server.server_address[1]}{path}"

    def __enter__(self) -> HostileServer:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:  # noqa: N802 - http.server's naming
                path = self.path.split("?", 1)[0]
                fake.requests[path] += 1
                try:
                    fake.answer(self, path)
                except OSError:
                    pass  # the client hung up: what a capped reader does

            # CalDAV asks with PROPFIND and REPORT: the same answers.
            do_PROPFIND = do_REPORT = do_GET  # noqa: N815

            def log_message(self, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # a client that hung up mid-answer is what these answers are for

        self._server = Server(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        assert self._server is not None
        self._server.shutdown()
        self._server.server_close()

    # ------------------------------------------------------------------ answers

    def _head(self, h: BaseHTTPRequestHandler, status: int, headers: dict[str, str]) -> None:
        h.send_response(status)
        for key, value in headers.items():
            h.send_header(key, value)
        h.end_headers()

    def _body(self, h: BaseHTTPRequestHandler, path: str, data: bytes) -> None:
        h.wfile.write(data)
        self.sent[path] += len(data)

    def _stream(self, h: BaseHTTPRequestHandler, path: str, chunk: bytes,
                interval: float = 0.0) -> None:
        ends = time.monotonic() + self.max_seconds
        while time.monotonic() < ends:
            self._body(h, path, chunk)
            h.wfile.flush()
            if interval:
                time.sleep(interval)
        h.close_connection = True

    def answer(self, h: BaseHTTPRequestHandler, path: str) -> None:
        """Write the answer for ``path``."""
        cal = "text/calendar"
        if path == "/ok.ics":
            body = calendar().encode()
            self._head(h, 200, {"Content-Type": cal, "Content-Length": str(len(body))})
            self._body(h, path, body)
        elif path == "/gzip-chunked":
            # as nginx sends a compressed answer: gzip on the fly, chunked, no length
            packed = zlib.compressobj(6, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
            body = packed.compress(calendar("Chunked").encode() * 1) + packed.flush()
            self._head(h, 200, {"Content-Type": cal, "Content-Encoding": "gzip",
                                "Transfer-Encoding": "chunked"})
            for i in range(0, len(body), 7):
                piece = body[i:i + 7]
                self._body(h, path, b"%x\r\n%s\r\n" % (len(piece), piece))
            self._body(h, path, b"0\r\n\r\n")
        elif path == "/drip":
            self._head(h, 200, {"Content-Type": cal, "Content-Length": "1000000"})
            self._stream(h, path, b"B", self.drip_interval)
        elif path in ("/endless", "/endless-503"):
            status = 503 if path == "/endless-503" else 200
            self._head(h, status, {"Content-Type": cal, "Connection": "close"})
            self._stream(h, path, b"X" * 65536)
        elif path == "/huge-declared":
            self._head(h, 200, {"Content-Type": cal, "Content-Length": str(10 * 1024**3)})
            self._stream(h, path, b"X" * 65536)
        elif path == "/bomb":
            body = self.bomb
            self._head(h, 200, {"Content-Type": cal, "Content-Encoding": "gzip",
                                "Content-Length": str(len(body))})
            self._body(h, path, body)
        elif path in ("/loop", "/to-file", "/to-ftp"):
            target = {"/loop": self.url("/loop"), "/to-file": "file:///etc/passwd",
                      "/to-ftp": "ftp://example.org/cal.ics"}[path]
            self._head(h, 302, {"Location": target, "Content-Length": "0"})
        elif path in ("/latin1", "/latin1-unlabelled"):
            body = calendar(LATIN1_TITLE.replace("–", "-")).encode("latin-1")
            ctype = cal + ("; charset=ISO-8859-1" if path == "/latin1" else "")
            self._head(h, 200, {"Content-Type": ctype, "Content-Length": str(len(body))})
            self._body(h, path, body)
        elif path == "/utf16":
            body = calendar(UTF16_TITLE).encode("utf-16")  # with its BOM
            self._head(h, 200, {"Content-Type": cal, "Content-Length": str(len(body))})
            self._body(h, path, body)
        elif path == "/echo-userinfo":
            host = h.headers.get("Host", "")
            user = h.headers.get("X-Echo-User", "family:pa55word")
            body = json.dumps({"message": f"no calendar at {user}@{host}{h.path}"}).encode()
            self._head(h, 404, {"Content-Type": "application/json",
                                "Content-Length": str(len(body))})
            self._body(h, path, body)
        else:
            self._head(h, 404, {"Content-Length": "0"})
