"""Sign-in, sessions, roles and CSRF: every route is covered, found from app.routes."""

from __future__ import annotations

import os
import re
import stat
import threading
from datetime import timedelta
from typing import Any

import pytest
from fastapi.routing import APIRoute
from review_support import PASSWORD, Site, csrf_of, login, token
from sqlmodel import select

from intake.settings import Settings
from review.app import create_app
from review.secret import SECRET_FILE, secret_key
from storage.db import session_scope
from storage.tables import AuditEvent, ReviewUser

PUBLIC = {"/login", "/health"}
# Values for path parameters, so every route can be called.
PATH_VALUES = {
    "reference": "SIRG-2026-0001",
    "name": "olly",
    "message_id": "1",
    "attachment_id": "1",
    "meeting_id": "1",
    "item_id": "1",
    "decision_id": "1",
    "kind": "panel_notified",
    "index": "0",
}


def flat_routes(routes: list[Any]) -> list[APIRoute]:
    """Every APIRoute, also inside included routers (newer FastAPI keeps an included
    router as one lazy entry in app.routes; none of ours has a prefix)."""
    out: list[APIRoute] = []
    for route in routes:
        if isinstance(route, APIRoute):
            out.append(route)
        elif hasattr(route, "original_router"):
            assert not route.include_context.prefix
            out.extend(flat_routes(route.original_router.routes))
        else:
            raise AssertionError(f"unexpected route type {route!r}: cover it in this test")
    return out


def routes(site: Site) -> list[tuple[str, str]]:
    """(method, concrete path) of every route the app has, except HEAD."""
    out = []
    for route in flat_routes(list(site.app.routes)):
        path = route.path
        for param, value in PATH_VALUES.items():
            path = path.replace("{" + param + "}", value)
        assert "{" not in path, f"add a value for {route.path} to PATH_VALUES"
        for method in sorted(route.methods - {"HEAD"}):
            out.append((method, path))
    return out


def test_every_route_but_login_and_health_needs_a_session(site: Site) -> None:
    client = site.client()
    checked = 0
    for method, path in routes(site):
        if path in PUBLIC:
            continue
        response = client.request(method, path, follow_redirects=False)
        if method == "GET":
            assert response.status_code == 303, (method, path)
            assert response.headers["location"].startswith("/login?next="), path
        else:
            assert response.status_code == 401, (method, path)
        checked += 1
    assert checked >= 12  # the app really has its pages (guards against an empty list)
    health = client.get("/health")
    assert health.status_code == 200 and health.json()["status"] == "ok"
    assert "@" not in health.text  # no addresses on a page anyone may read
    assert client.get("/login").status_code == 200


def test_a_forged_or_tampered_cookie_is_no_session(site: Site) -> None:
    client = site.client("olly")
    value = next(iter(client.cookies.values()))
    forged = site.client()
    forged.cookies.set("lscp_review", value[:-2] + ("AA" if not value.endswith("AA") else "BB"))
    assert forged.get("/", follow_redirects=False).status_code == 303


def test_a_viewer_cannot_change_anything(site: Site) -> None:
    client = site.client("vera")
    csrf = token(client)
    posts = [(m, p) for m, p in routes(site) if m == "POST" and p not in ("/login", "/logout")]
    assert len(posts) >= 6
    for method, path in posts:
        response = client.request(
            method, path, data={"csrf_token": csrf, "to_status": "ready_for_sirg", "key": "x"}
        )
        assert response.status_code == 403, path
    # Reading is allowed; admin pages are not.
    assert client.get("/referrals/SIRG-2026-0001").status_code == 200
    for path in ("/audit", "/audit.csv", "/admin/users", "/admin/settings"):
        assert client.get(path).status_code == 403, path


def test_an_officer_cannot_reach_admin_pages(site: Site) -> None:
    client = site.client("olly")
    for path in ("/audit", "/audit.csv", "/admin/users", "/admin/settings"):
        assert client.get(path).status_code == 403, path
    response = client.post(
        "/admin/users",
        data={"csrf_token": token(client), "name": "eve", "role": "admin", "password": PASSWORD},
    )
    assert response.status_code == 403


def test_a_post_without_a_valid_csrf_token_is_refused(site: Site) -> None:
    client = site.client("ada")
    good = token(client)
    for method, path in routes(site):
        if method != "POST":
            continue
        for data in ({}, {"csrf_token": "forged"}, {"csrf_token": good[:-1]}):
            response = client.request(method, path, data=data, follow_redirects=False)
            assert response.status_code == 403, (path, data)
    # From another site, even with the token (a page that stole it cannot use it).
    response = client.post(
        "/referrals/SIRG-2026-0001/assign",
        data={"csrf_token": good, "assignee": "olly"},
        headers={"Origin": "https://evil.example"},
    )
    assert response.status_code == 403
    with session_scope(site.engine) as db:
        assert not db.exec(select(AuditEvent).where(AuditEvent.action == "assigned")).all()


def test_the_sign_in_form_itself_needs_its_token(site: Site) -> None:
    client = site.client()
    client.get("/login")
    response = client.post("/login", data={"name": "olly", "password": PASSWORD})
    assert response.status_code == 403
    assert "uid" not in str(client.cookies)


def test_sign_in_and_out(site: Site) -> None:
    client = site.client()
    response = login(client, "olly")
    assert response.status_code == 303 and response.headers["location"] == "/"
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    page = client.get("/")
    assert page.status_code == 200 and "olly" in page.text
    response = client.post("/logout", data={"csrf_token": csrf_of(page.text)})
    assert response.status_code == 200 and "Sign in" in response.text
    assert client.get("/", follow_redirects=False).status_code == 303
    with session_scope(site.engine) as db:
        actions = [e.action for e in db.exec(select(AuditEvent).where(AuditEvent.actor == "olly"))]
    assert "login" in actions and "logout" in actions


def test_after_sign_in_the_user_goes_where_they_were_going_but_never_off_site(site: Site) -> None:
    client = site.client()
    first = client.get("/referrals/SIRG-2026-0002", follow_redirects=False)
    assert first.headers["location"] == "/login?next=%2Freferrals%2FSIRG-2026-0002"
    page = client.get(first.headers["location"])
    response = client.post(
        "/login",
        data={
            "name": "olly",
            "password": PASSWORD,
            "csrf_token": csrf_of(page.text),
            "next": "/referrals/SIRG-2026-0002",
        },
        follow_redirects=False,
    )
    assert response.headers["location"] == "/referrals/SIRG-2026-0002"
    for target in ("//evil.example/", "https://evil.example/", "/\\evil.example"):
        other = site.client()
        page = other.get("/login")
        response = other.post(
            "/login",
            data={
                "name": "olly",
                "password": PASSWORD,
                "csrf_token": csrf_of(page.text),
                "next": target,
            },
            follow_redirects=False,
        )
        assert response.headers["location"] == "/", target


def test_secure_cookies_when_configured(site: Site, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(
        data_dir=tmp_path, database_url=str(site.engine.url), review_secure_cookies=True
    )
    app = create_app(settings, engine=site.engine)
    from fastapi.testclient import TestClient

    client = TestClient(app, base_url="https://testserver")
    response = login(client, "olly")
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("__Host-lscp_review=")
    assert "Secure" in cookie and "HttpOnly" in cookie and "Path=/" in cookie


def test_five_failures_pause_sign_in_from_that_address(site: Site) -> None:
    client = site.client()
    for _ in range(5):
        response = login(client, "olly", "wrong password!!")
        assert response.status_code == 200 and "did not work" in response.text
    # Paused: even the right password is refused from here, without being checked.
    response = login(client, "olly")
    assert response.status_code == 429 and "Try again in 1 minute" in response.text
    assert response.headers["retry-after"] == "60"
    site.clock.advance(seconds=59)
    assert login(client, "olly").status_code == 429
    site.clock.advance(seconds=1)
    response = login(client, "olly")
    assert response.status_code == 303
    with session_scope(site.engine) as db:
        actions = [
            (e.action, e.detail)
            for e in db.exec(
                select(AuditEvent).where(AuditEvent.actor == "olly").order_by(AuditEvent.id)
            )
        ]
    assert actions.count(("login failed", "wrong password")) == 5
    assert actions.count(("login refused", "throttled")) == 2
    assert actions[-1] == ("login", None)


def test_an_unknown_name_gets_the_same_answer_and_its_text_is_not_kept(site: Site) -> None:
    client = site.client()
    response = login(client, "my-secret-password-typed-in-the-wrong-box")
    assert response.status_code == 200 and "did not work" in response.text
    with session_scope(site.engine) as db:
        events = db.exec(select(AuditEvent).where(AuditEvent.action == "login failed")).all()
    assert [(e.actor, e.detail) for e in events] == [("unknown", "unknown user name")]
    assert not any("secret" in (e.detail or "") for e in events)


def test_password_hashes_are_argon2id(site: Site) -> None:
    with session_scope(site.engine) as db:
        hashes = [u.password_hash for u in db.exec(select(ReviewUser))]
    assert len(hashes) == 3
    assert all(h.startswith("$argon2id$") for h in hashes)
    assert len(set(hashes)) == 3  # salted: the same password, three different hashes
    assert all(PASSWORD not in h for h in hashes)


def test_disabling_or_resetting_a_user_ends_their_sessions(site: Site) -> None:
    from review.users import disable_user, enable_user, reset_user

    client = site.client("olly")
    assert client.get("/").status_code == 200
    reset_user(site.engine, "olly", "another long password")
    assert client.get("/", follow_redirects=False).status_code == 303
    assert login(client, "olly", "another long password").status_code == 303
    disable_user(site.engine, "olly")
    assert client.get("/", follow_redirects=False).status_code == 303
    assert login(client, "olly", "another long password").status_code == 200  # refused
    enable_user(site.engine, "olly")
    assert login(client, "olly", "another long password").status_code == 303


def test_a_session_ends_after_the_idle_time(site: Site) -> None:
    client = site.client("olly")
    assert client.get("/").status_code == 200
    # The idle limit is checked on the cookie's signature time (real time), so sign a
    # cookie as if it were made an hour and a bit ago.
    from itsdangerous import URLSafeTimedSerializer

    serializer = URLSafeTimedSerializer(
        secret_key("", site.settings.data_dir), salt="lscp-review-session"
    )
    old = client.cookies["lscp_review"]
    data = serializer.loads(old)
    import time
    from unittest import mock

    with mock.patch.object(time, "time", return_value=time.time() - 3700):
        stale = serializer.dumps(data)
    client.cookies.set("lscp_review", stale)
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 303 and "ended=1" in response.headers["location"]


def test_the_secret_key_is_made_once_and_kept_private(tmp_path) -> None:  # type: ignore[no-untyped-def]
    key = secret_key("", tmp_path)
    path = tmp_path / SECRET_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert secret_key("", tmp_path) == key and len(key) >= 48
    os.chmod(path, 0o644)
    assert secret_key("", tmp_path) == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert secret_key("configured", tmp_path) == "configured"


def test_security_headers_on_every_page(site: Site) -> None:
    client = site.client("olly")
    for path in ("/login", "/", "/referrals/SIRG-2026-0001"):
        headers = client.get(path).headers
        csp = headers["content-security-policy"]
        assert "default-src 'none'" in csp and "script-src" not in csp
        assert re.search(r"style-src 'sha256-[A-Za-z0-9+/=]+'", csp)
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["cache-control"] == "no-store"


@pytest.mark.parametrize("path", ["/docs", "/openapi.json", "/redoc"])
def test_no_api_explorer(site: Site, path: str) -> None:
    assert site.client("ada").get(path).status_code == 404


def test_sign_ins_being_checked_at_once_from_one_address_never_block_it(site: Site) -> None:
    """An office behind one address at nine o'clock: attempts still being checked are
    counted, but only a failure blocks; past IN_FLIGHT at once, the next waits briefly."""
    from storage import users

    now = site.clock()
    with session_scope(site.engine) as db:
        admitted = [
            users.admit(db, "10.0.0.9", "olly", now) for _ in range(users.FREE_FAILURES + 3)
        ]
    assert admitted == [None] * (users.FREE_FAILURES + 3)  # all checked: none has failed
    with session_scope(site.engine) as db:
        for _ in range(users.IN_FLIGHT - 3):
            assert users.admit(db, "10.0.0.9", None, now) is None
        assert users.admit(db, "10.0.0.9", None, now) == now + users.IN_FLIGHT_DELAY
        users.failed(db, "10.0.0.9", None, now)  # one of them fails: now the address waits
        assert users.admit(db, "10.0.0.9", None, now) == now + timedelta(minutes=15)


def test_officers_signing_in_together_from_one_address_all_get_in(site: Site) -> None:
    """Found by bench/load.py: six right passwords at the same moment from one address
    (no X-Forwarded-For, or one office's NAT) gave some of them "Too many failed sign-ins"."""
    from review.users import add_user

    names = [f"officer{n}" for n in range(6)]
    for name in names:
        add_user(site.engine, name, "officer", PASSWORD)
    clients = {name: site.client() for name in names}
    tokens = {name: csrf_of(clients[name].get("/login").text) for name in names}
    start = threading.Barrier(len(names))
    results: dict[str, int] = {}

    def sign_in(name: str) -> None:
        start.wait()
        response = clients[name].post(
            "/login",
            data={"name": name, "password": PASSWORD, "csrf_token": tokens[name], "next": "/"},
            follow_redirects=False,
        )
        results[name] = response.status_code

    threads = [threading.Thread(target=sign_in, args=(name,)) for name in names]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {name: 303 for name in names}
