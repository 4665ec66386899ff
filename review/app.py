"""The review web app: FastAPI, server-rendered pages, one session cookie.

`create_app` wires the pieces: the session gate (nobody reaches a page signed out), the
CSRF check before every POST, role checks in the routes, security headers on every
response, and an access log that carries no personal data.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from urllib.parse import quote

from fastapi import Depends, FastAPI, Request
from fastapi.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from sqlalchemy import Engine
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from intake.settings import Settings
from review.auth import CsrfFailed, Forbidden, LoginRequired, ServerSessions, csrf_guard
from review.render import CSS_HASH, page
from review.routes import (
    admin,
    audit,
    auth,
    conversation,
    dashboard,
    decisions,
    duplicates,
    keying,
    meetings,
    milestones,
    quarantine,
    queue,
    referral,
    scan_check,
)
from review.secret import secret_key
from review.sessions import SessionGate
from storage import crypto
from storage.clock import utcnow
from storage.db import make_engine, upgrade
from storage.heartbeat import health_report

log = logging.getLogger("review.access")

# Nothing loads from anywhere but here; the only style is our inlined stylesheet; no
# scripts at all. frame-src/object-src 'self' let a referral's PDF show in the page.
CSP = (
    "default-src 'none'; "
    f"style-src '{CSS_HASH}'; "
    "img-src 'self' data:; "
    "frame-src 'self'; object-src 'self'; "
    "form-action 'self'; frame-ancestors 'self'; base-uri 'none'"
)


class Hardening:
    """ASGI middleware: security headers on every response, and an access log line.

    The log line has the method, the path (never the query string, which may hold a
    searched child's name), the status and the time taken; no user, no address.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def send_hardened(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                headers.setdefault("Content-Security-Policy", CSP)
                headers.setdefault("X-Content-Type-Options", "nosniff")
                headers.setdefault("X-Frame-Options", "SAMEORIGIN")
                # References in addresses are not for other sites. ("no-referrer" would
                # also make browsers send "Origin: null" on our own forms.)
                headers.setdefault("Referrer-Policy", "same-origin")
                # Pages hold personal data: never kept in a shared or browser cache.
                headers.setdefault("Cache-Control", "no-store")
                headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
                headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
            await send(message)

        try:
            await self.app(scope, receive, send_hardened)
        finally:
            log.info(
                "%s %s %s %.0fms",
                scope["method"],
                scope["path"],
                status,
                (time.perf_counter() - started) * 1000,
            )


def create_app(
    settings: Settings,
    engine: Engine | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> FastAPI:
    """The review app for these settings (the database schema is brought up to date)."""
    # Stored emails and files may be encrypted at rest; the same keys as the worker's.
    crypto.configure(settings.encryption_keys.get_secret_value().split(","))
    if engine is None:
        engine = make_engine(settings.resolved_database_url)
    upgrade(engine)
    app = FastAPI(
        title="LSCP SIRG review queue",
        docs_url=None,  # no API explorer: every address is a page behind a sign-in
        redoc_url=None,
        openapi_url=None,
        dependencies=[Depends(csrf_guard)],
    )
    app.state.engine = engine
    app.state.clock = clock
    app.state.settings = settings
    for module in (
        auth,
        queue,
        referral,
        conversation,
        quarantine,
        keying,
        scan_check,
        dashboard,
        meetings,
        decisions,
        milestones,
        duplicates,
        audit,
        admin,
    ):
        app.include_router(module.router)

    @app.get("/health")
    def health() -> JSONResponse:
        """For load balancers and monitoring, without a sign-in: counts and times only.

        503 when the database does not answer or a worker cannot read its mailbox.
        """
        report = health_report(engine)
        workers = report.get("workers", [])
        healthy = report["database"] == "ok" and not any(w["failing_since"] for w in workers)
        # Which mailbox is a matter for the operator (`intake status`), not the public.
        report["workers"] = [{k: v for k, v in w.items() if k != "mailbox"} for w in workers]
        report["status"] = "ok" if healthy else "failing"
        return JSONResponse(report, status_code=200 if healthy else 503)

    @app.exception_handler(LoginRequired)
    def login_required(request: Request, _exc: LoginRequired) -> Response:
        if request.method in ("GET", "HEAD"):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse("/login?next=" + quote(target, safe=""), status_code=303)
        return PlainTextResponse("Sign in first.", status_code=401)

    @app.exception_handler(Forbidden)
    def forbidden(request: Request, exc: Forbidden) -> HTMLResponse:
        return page(
            request,
            "error.html",
            403,
            title="Not allowed",
            message=f"This needs the {exc.needed} role. Ask an admin if you need it.",
        )

    @app.exception_handler(CsrfFailed)
    def csrf_failed(request: Request, _exc: CsrfFailed) -> HTMLResponse:
        return page(
            request,
            "error.html",
            403,
            title="Form expired",
            message="The form was out of date or came from another site. Go back, reload "
            "the page and try again.",
        )

    @app.exception_handler(StarletteHTTPException)
    def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            return page(request, "error.html", 404, title="Not found", message=str(exc.detail))
        return PlainTextResponse(str(exc.detail), status_code=exc.status_code)

    # Added last = outermost: headers and the access log cover the gate's answers too.
    idle_seconds = settings.review_session_minutes * 60
    app.add_middleware(
        SessionGate,
        secret=secret_key(settings.review_secret.get_secret_value(), settings.data_dir),
        secure=settings.review_secure_cookies,
        idle_seconds=idle_seconds,
        store=ServerSessions(engine, clock, idle_seconds),
    )
    app.add_middleware(Hardening)
    return app
