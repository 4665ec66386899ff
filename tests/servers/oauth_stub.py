"""A tiny OAuth2 token-introspection server (RFC 7662 style) for Dovecot's oauth2 passdb.

Dovecot, configured with ``introspection_mode = post``, POSTs ``token=...`` to ``url``;
this answers ``{"active": true, "username": USER}`` for the one good token and
``{"active": false}`` for anything else. It only listens on 127.0.0.1.
"""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from urllib.parse import parse_qs


class _Handler(BaseHTTPRequestHandler):
    server: _StubHTTPServer

    def do_POST(self) -> None:  # noqa: N802 (http.server's naming)
        length = int(self.headers.get("Content-Length") or 0)
        form = parse_qs(self.rfile.read(length).decode("utf-8", "replace"))
        token = (form.get("token") or [""])[0]
        # introspection_mode = auth sends the token as a bearer header instead: accept both.
        auth = self.headers.get("Authorization", "")
        if not token and auth.lower().startswith("bearer "):
            token = auth[7:].strip()
        self._answer(token)

    def do_GET(self) -> None:  # noqa: N802
        # introspection_mode = get appends the token to the URL path.
        self._answer(self.path.rsplit("/", 1)[-1])

    def _answer(self, token: str) -> None:
        stub = self.server.stub
        with stub.lock:
            stub.requests += 1
        if token == stub.good_token:
            body: dict[str, object] = {"active": True, "username": stub.username}
        else:
            body = {"active": False}
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Keep test output quiet (the default writes every request to stderr)."""


class _StubHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    stub: OAuthStub


class OAuthStub:
    """Introspection endpoint on 127.0.0.1 and a free port; use as a context manager."""

    def __init__(self, good_token: str, username: str) -> None:
        self.good_token = good_token
        self.username = username
        self.requests = 0  # how many introspection calls were answered
        self.lock = threading.Lock()
        self._server: _StubHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """The introspection URL to give Dovecot."""
        if self._server is None:
            raise RuntimeError("OAuthStub not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}/introspect"

    def start(self) -> None:
        """Bind a free port and serve in a daemon thread."""
        server = _StubHTTPServer(("127.0.0.1", 0), _Handler)
        server.stub = self
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop serving; safe to call twice."""
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> OAuthStub:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
