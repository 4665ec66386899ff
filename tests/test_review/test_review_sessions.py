"""Sessions kept on the server, sign-in throttling, admins and themselves, Secure cookies."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from unittest import mock

import pytest
from fastapi.testclient import TestClient
from review_support import Site, csrf_of, login, token
from sqlmodel import col, select

import review.auth
from intake.settings import Settings
from review.app import create_app
from storage.db import session_scope
from storage.tables import AuditEvent, LoginThrottle, ReviewSession, ReviewUser

THROTTLED = "Too many failed sign-ins"
WRONG = "not the password!"
STRANGER = ("203.0.113.9", 4444)
OFFICE = ("10.0.0.2", 123)


def sessions_of(site: Site, name: str) -> list[ReviewSession]:
    with session_scope(site.engine) as db:
        user = db.exec(select(ReviewUser).where(ReviewUser.name == name)).one()
        return list(
            db.exec(
                select(ReviewSession)
                .where(ReviewSession.user_id == user.id)
                .order_by(col(ReviewSession.created_at))
            )
        )


def throttle(site: Site, key: str) -> LoginThrottle | None:
    with session_scope(site.engine) as db:
        return db.get(LoginThrottle, key)


# --------------------------------------------------------------------------- sessions


def test_a_copied_cookie_is_dead_after_sign_out(site: Site) -> None:
    client = site.client("olly")
    page = client.get("/")
    assert page.status_code == 200
    copied = client.cookies["lscp_review"]
    csrf = csrf_of(page.text)
    assert client.post("/logout", data={"csrf_token": csrf}).status_code == 200

    replay = site.client()
    replay.cookies.set("lscp_review", copied)
    response = replay.get("/", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    response = replay.post(
        "/referrals/SIRG-2026-0001/assign",
        data={"csrf_token": csrf, "assignee": "olly"},
        follow_redirects=False,
    )
    assert response.status_code == 401
    with session_scope(site.engine) as db:
        assert not db.exec(select(AuditEvent).where(AuditEvent.action == "assigned")).all()
    [row] = sessions_of(site, "olly")
    assert row.ended_at is not None
    assert len(row.id) == 64 and copied.find(row.id) == -1  # only a hash of the token


def test_signing_out_in_one_browser_leaves_the_other_signed_in(site: Site) -> None:
    desk = site.client("olly")
    laptop = site.client("olly")
    assert desk.post("/logout", data={"csrf_token": token(desk)}).status_code == 200
    assert laptop.get("/", follow_redirects=False).status_code == 200
    assert desk.get("/", follow_redirects=False).status_code == 303
    assert [r.ended_at is None for r in sessions_of(site, "olly")] == [False, True]


def test_disabling_or_resetting_ends_the_session_rows(site: Site) -> None:
    from review.users import disable_user, reset_user

    client = site.client("olly")
    site.client("olly")  # a second browser
    reset_user(site.engine, "olly", "another long password")
    rows = sessions_of(site, "olly")
    assert len(rows) == 2 and all(r.ended_at is not None for r in rows)
    assert client.get("/", follow_redirects=False).status_code == 303
    assert login(client, "olly", "another long password").status_code == 303
    disable_user(site.engine, "olly")
    rows = sessions_of(site, "olly")
    assert len(rows) == 3 and all(r.ended_at is not None for r in rows)
    assert client.get("/", follow_redirects=False).status_code == 303


def test_a_session_ends_after_twelve_hours_however_busy(site: Site) -> None:
    client = site.client("olly")
    for _ in range(14):  # busy all day: a page every 50 minutes, 11 h 40 in all
        site.clock.advance(minutes=50)
        assert client.get("/", follow_redirects=False).status_code == 200
    site.clock.advance(minutes=21)
    assert client.get("/", follow_redirects=False).status_code == 303
    [row] = sessions_of(site, "olly")
    assert row.ended_at == site.clock.now


def test_a_session_without_activity_ends_on_the_server_too(site: Site) -> None:
    client = site.client("olly")
    site.clock.advance(minutes=60)
    assert client.get("/", follow_redirects=False).status_code == 200
    site.clock.advance(minutes=62)  # the idle time, and the minute the cookie may lag
    assert client.get("/", follow_redirects=False).status_code == 303
    [row] = sessions_of(site, "olly")
    assert row.ended_at == site.clock.now


def test_an_idle_cookie_ends_its_session_row(site: Site) -> None:
    import time

    from itsdangerous import URLSafeTimedSerializer

    from review.secret import secret_key

    client = site.client("olly")
    serializer = URLSafeTimedSerializer(
        secret_key("", site.settings.data_dir), salt="lscp-review-session"
    )
    data = serializer.loads(client.cookies["lscp_review"])
    with mock.patch.object(time, "time", return_value=time.time() - 3700):
        stale = serializer.dumps(data)
    client.cookies.set("lscp_review", stale)
    response = client.get("/", follow_redirects=False)
    assert response.status_code == 303 and "ended=1" in response.headers["location"]
    [row] = sessions_of(site, "olly")
    assert row.ended_at is not None


# --------------------------------------------------------------------------- throttling


def test_a_stranger_cannot_lock_the_officer_out(site: Site) -> None:
    stranger = site.client(client=STRANGER)
    checked = mock.patch.object(review.auth, "verify_password", wraps=review.auth.verify_password)
    with checked as verify:
        answers = [login(stranger, "olly", WRONG) for _ in range(20)]
        assert verify.call_count == 5  # after five failures nothing more is checked
    assert all("did not work" in r.text for r in answers[:5])
    assert all(r.status_code == 429 and THROTTLED in r.text for r in answers[5:])
    # Even the right password is refused from the stranger's address...
    refused = login(stranger, "olly")
    assert refused.status_code == 429 and THROTTLED in refused.text
    # ...while olly, from the office, signs in at once.
    office = site.client(client=OFFICE)
    assert login(office, "olly").status_code == 303
    assert office.get("/").status_code == 200


def test_the_delays_grow_and_stop_at_fifteen_minutes(site: Site) -> None:
    client = site.client(client=STRANGER)
    for _ in range(4):
        assert login(client, "olly", WRONG).status_code == 200
    waits = []
    for _ in range(6):
        response = login(client, "olly", WRONG)
        assert "did not work" in response.text  # this one was checked
        row = throttle(site, "ip:203.0.113.9")
        assert row is not None and row.blocked_until is not None
        wait = row.blocked_until - site.clock.now
        waits.append(wait)
        minutes = int(wait.total_seconds()) // 60
        refused = login(client, "olly", WRONG)
        assert refused.status_code == 429 and f"Try again in {minutes} minute" in refused.text
        site.clock.advance(seconds=wait.total_seconds() - 1)
        assert login(client, "olly", WRONG).status_code == 429
        site.clock.advance(seconds=1)
    assert waits == [timedelta(minutes=m) for m in (1, 2, 4, 8, 15, 15)]


def test_success_resets_the_address_and_the_account(site: Site) -> None:
    client = site.client(client=STRANGER)
    for _ in range(5):
        login(client, "olly", WRONG)
    assert login(client, "olly").status_code == 429
    site.clock.advance(minutes=1)
    assert login(client, "olly").status_code == 303
    for key in ("ip:203.0.113.9", "user:olly"):
        row = throttle(site, key)
        assert row is None or (row.failures == 0 and row.blocked_until is None), key
    # Five free tries again.
    other = site.client(client=STRANGER)
    for _ in range(4):
        assert login(other, "olly", WRONG).status_code == 200
    assert login(other, "olly").status_code == 303


def test_failures_are_forgotten_after_a_day(site: Site) -> None:
    client = site.client(client=STRANGER)
    for _ in range(4):
        login(client, "olly", WRONG)
    site.clock.advance(hours=24, seconds=1)
    for _ in range(4):
        assert "did not work" in login(client, "olly", WRONG).text
    row = throttle(site, "ip:203.0.113.9")
    assert row is not None and row.failures == 4 and row.blocked_until is None


def test_guessing_from_many_addresses_is_slowed_by_the_account(site: Site) -> None:
    guessers = [site.client(client=(f"198.51.100.{n}", 1000)) for n in range(1, 7)]
    for guesser in guessers[:5]:
        assert "did not work" in login(guesser, "olly", WRONG).text
    # The account has had five failures: an address that has failed itself waits...
    with mock.patch.object(review.auth, "verify_password") as verify:
        again = login(guessers[0], "olly", WRONG)
        assert verify.call_count == 0
    assert again.status_code == 429 and THROTTLED in again.text
    # ...a short time only.
    row = throttle(site, "user:olly")
    assert row is not None and row.blocked_until is not None
    assert row.blocked_until - site.clock.now <= timedelta(minutes=1)
    # From an address with no failures of its own the right password works at once.
    assert login(site.client(client=OFFICE), "olly").status_code == 303


def test_an_admin_sees_a_delayed_account_and_can_lift_the_delay(site: Site) -> None:
    guessers = [site.client(client=(f"198.51.100.{n}", 1000)) for n in range(1, 7)]
    for guesser in guessers[:5]:
        login(guesser, "olly", WRONG)
    assert login(guessers[0], "olly", WRONG).status_code == 429
    admin = site.client("ada")
    page = admin.get("/admin/users")
    assert "Sign-in delayed until" in page.text and "Lift the delay" in page.text
    response = admin.post(
        "/admin/users/olly", data={"csrf_token": csrf_of(page.text), "action": "unlock"}
    )
    assert response.status_code in (200, 303)
    assert throttle(site, "user:olly") is None
    assert "Sign-in delayed until" not in admin.get("/admin/users").text
    assert "did not work" in login(guessers[0], "olly", WRONG).text  # checked again at once


def test_an_unknown_name_is_counted_by_address_but_its_text_is_not_kept(site: Site) -> None:
    client = site.client(client=STRANGER)
    login(client, "my-secret-password-typed-in-the-wrong-box", WRONG)
    with session_scope(site.engine) as db:
        keys = [row.key for row in db.exec(select(LoginThrottle))]
    assert keys == ["ip:203.0.113.9"]


# --------------------------------------------------------------------------- admins


@pytest.mark.parametrize("typed", ["ADA", "Ada", " ada "])
def test_an_admin_cannot_demote_or_disable_themselves_in_another_case(
    site: Site, typed: str
) -> None:
    client = site.client("ada")
    csrf = token(client, "/admin/users")
    path = "/admin/users/" + typed.replace(" ", "%20")
    page = client.post(path, data={"csrf_token": csrf, "action": "role", "role": "viewer"})
    assert "Ask another admin" in page.text
    page = client.post(path, data={"csrf_token": csrf, "action": "disable"})
    assert "Ask another admin" in page.text
    with session_scope(site.engine) as db:
        ada = db.exec(select(ReviewUser).where(ReviewUser.name == "ada")).one()
    assert ada.active and ada.role == "admin"
    assert client.get("/admin/users").status_code == 200


# --------------------------------------------------------------------------- cookies


def test_cookies_are_secure_unless_turned_off(
    site: Site, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("INTAKE_REVIEW_SECURE_COOKIES", raising=False)
    settings = Settings(_env_file=None, data_dir=tmp_path, database_url=str(site.engine.url))
    assert settings.review_secure_cookies
    client = TestClient(create_app(settings, engine=site.engine), base_url="https://testserver")
    cookie = login(client, "olly").headers["set-cookie"]
    assert cookie.startswith("__Host-lscp_review=") and "; Secure" in cookie
    assert client.get("/").status_code == 200

    monkeypatch.setenv("INTAKE_REVIEW_SECURE_COOKIES", "false")
    assert not Settings(_env_file=None).review_secure_cookies
    assert "Secure" not in site.client().get("/login").headers["set-cookie"]
