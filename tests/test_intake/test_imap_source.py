"""The IMAP mail source against a real Dovecot: TLS, XOAUTH2, PEEK, sizes, IDLE, UIDVALIDITY,
reconnection. Only the msal classes (which need Microsoft) are tested without a server.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import SecretStr

from intake.settings import Settings
from intake.sources.backoff import Backoff, backoff_delay
from intake.sources.base import Destination, FetchedMessage
from intake.sources.imap import ImapSource
from intake.sources.imap_connect import (
    SourceAuthFailed,
    SourceDisconnected,
    SourceInsecure,
    SourceUnavailable,
)
from intake.sources.oauth import (
    OUTLOOK_APP_SCOPE,
    OUTLOOK_DELEGATED_SCOPE,
    MsalClientCredentials,
    MsalRefreshToken,
    StaticToken,
    TokenError,
    token_provider_from_settings,
)
from servers import free_port, unavailable
from servers.dovecot import USER, DovecotServer, find_dovecot
from servers.oauth_stub import OAuthStub

GOOD_TOKEN = "good-token-7f3a"
WATCHED = "Referrals"  # a non-INBOX folder, so a test can delete and recreate it


# -- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def oauth_stub() -> Iterator[OAuthStub]:
    with OAuthStub(GOOD_TOKEN, USER) as stub:
        yield stub


@pytest.fixture(scope="module")
def tls_dovecot(oauth_stub: OAuthStub) -> Iterator[DovecotServer]:
    """Dovecot with a self-signed certificate (IMAPS + STARTTLS) and XOAUTH2 via the stub."""
    binary = find_dovecot()
    if binary is None:
        unavailable("dovecot is not installed (apt-get install dovecot-imapd)")
    with DovecotServer(binary, tls=True, oauth_introspection_url=oauth_stub.url) as server:
        yield server


@pytest.fixture
def server(tls_dovecot: DovecotServer) -> DovecotServer:
    """The module's Dovecot with every folder empty and the test folder present and empty."""
    with tls_dovecot.client() as client:
        if not client.folder_exists(WATCHED):
            client.create_folder(WATCHED)
    tls_dovecot.empty_folders(("INBOX", "Processed", "Quarantine", "Ignored", WATCHED))
    return tls_dovecot


def make_settings(server: DovecotServer, **overrides: Any) -> Settings:
    """Plain IMAP to the test server, fast reconnection, the test folder watched."""
    values: dict[str, Any] = dict(
        mail_source="imap",
        imap_host=server.host,
        imap_port=server.port,
        imap_security="none",
        imap_user=server.user,
        imap_password=SecretStr(server.password),
        imap_folder=WATCHED,
        imap_timeout=5.0,
        imap_reconnect_attempts=5,
        imap_reconnect_delay=0.02,
        imap_reconnect_max_delay=0.1,
    )
    values.update(overrides)
    return Settings(_env_file=None, **values)


@pytest.fixture
def open_sources() -> Iterator[Callable[..., ImapSource]]:
    """Make ImapSources that are closed after the test, whatever happens."""
    made: list[ImapSource] = []

    def make(settings: Settings, **kwargs: Any) -> ImapSource:
        made.append(ImapSource(settings, **kwargs))
        return made[-1]

    yield make
    for source in made:
        source.close()


def raw_message(subject: str, body: str = "Referral body.") -> bytes:
    return (
        f"From: School DSL <dsl@school.example>\r\n"
        f"To: {USER}\r\n"
        f"Subject: {subject}\r\n"
        f"Message-ID: <{subject.replace(' ', '-')}@school.example>\r\n"
        f"\r\n"
        f"{body}\r\n"
    ).encode()


def subject_of(fetched: FetchedMessage) -> str:
    match = re.search(rb"^Subject: (.*?)\r?$", fetched.raw, re.MULTILINE)
    assert match is not None
    return match.group(1).decode()


def flags(server: DovecotServer, folder: str) -> list[tuple[bytes, ...]]:
    with server.client() as client:
        client.select_folder(folder, readonly=True)
        uids = client.search("ALL")
        return [tuple(f) for f in client.get_flags(uids).values()] if uids else []


def later(delay: float, action: Callable[[], object]) -> threading.Timer:
    """Run `action` in a thread after `delay` seconds; join the result before the test ends."""
    timer = threading.Timer(delay, action)
    timer.daemon = True
    timer.start()
    return timer


def append_later(server: DovecotServer, raw: bytes, delay: float) -> threading.Timer:
    """APPEND to the watched folder from another connection after `delay` seconds."""
    return later(delay, lambda: server.append(raw, WATCHED))


# -- transport security --------------------------------------------------------------------


def test_implicit_tls_with_the_trusted_ca_file(
    server: DovecotServer, open_sources: Callable[..., ImapSource]
) -> None:
    server.append(raw_message("tls one"), WATCHED)
    assert server.ca_file is not None
    settings = make_settings(
        server, imap_security="ssl", imap_port=server.tls_port, imap_ca_file=server.ca_file
    )
    source = open_sources(settings)
    assert [subject_of(m) for m in source.fetch()] == ["tls one"]
    assert (source.tls_version() or "").startswith("TLSv1.")


def test_starttls_with_the_trusted_ca_file(
    server: DovecotServer, open_sources: Callable[..., ImapSource]
) -> None:
    server.append(raw_message("starttls one"), WATCHED)
    settings = make_settings(
        server,
        imap_security="starttls",
        imap_port=server.starttls_port,
        imap_ca_file=server.ca_file,
    )
    source = open_sources(settings)
    assert [subject_of(m) for m in source.fetch()] == ["starttls one"]
    assert (source.tls_version() or "").startswith("TLSv1.")


@pytest.mark.parametrize("security", ["ssl", "starttls"])
def test_an_untrusted_certificate_is_refused_without_retrying(
    server: DovecotServer, open_sources: Callable[..., ImapSource], security: str
) -> None:
    port = server.tls_port if security == "ssl" else server.starttls_port
    # No CA file: the system's CAs do not know the self-signed certificate.
    settings = make_settings(server, imap_security=security, imap_port=port)
    source = open_sources(settings)
    started = time.monotonic()
    with pytest.raises(SourceInsecure, match="certificate not trusted"):
        list(source.fetch())
    assert time.monotonic() - started < 1.0  # refused at once, not retried with backoff


def test_starttls_is_required_when_asked_for(
    dovecot: DovecotServer, open_sources: Callable[..., ImapSource]
) -> None:
    # The session Dovecot runs without TLS, so it does not offer STARTTLS.
    settings = make_settings(dovecot, imap_security="starttls", imap_folder="INBOX")
    with pytest.raises(SourceInsecure, match="does not offer STARTTLS"):
        list(open_sources(settings).fetch())


# -- sign-in -------------------------------------------------------------------------------


def test_xoauth2_with_a_good_token_logs_in(
    server: DovecotServer, oauth_stub: OAuthStub, open_sources: Callable[..., ImapSource]
) -> None:
    server.append(raw_message("oauth one"), WATCHED)
    asked_before = oauth_stub.requests
    settings = make_settings(
        server,
        imap_security="ssl",
        imap_port=server.tls_port,
        imap_ca_file=server.ca_file,
        imap_auth="xoauth2",
        imap_password=SecretStr(""),
        oauth_token=SecretStr(GOOD_TOKEN),
    )
    source = open_sources(settings)
    assert [subject_of(m) for m in source.fetch()] == ["oauth one"]
    assert oauth_stub.requests > asked_before  # Dovecot really asked the introspection stub
    assert source.token_expires_at is None  # a static token's expiry is not known


def test_xoauth2_with_a_bad_token_is_refused(
    server: DovecotServer, open_sources: Callable[..., ImapSource]
) -> None:
    settings = make_settings(server, imap_auth="xoauth2", oauth_token=SecretStr("stolen"))
    started = time.monotonic()
    with pytest.raises(SourceAuthFailed, match="xoauth2 sign-in refused") as caught:
        list(open_sources(settings).fetch())
    assert "stolen" not in str(caught.value)
    assert time.monotonic() - started < 1.0  # a refusal is not retried


def test_a_wrong_password_is_refused(
    server: DovecotServer, open_sources: Callable[..., ImapSource]
) -> None:
    settings = make_settings(server, imap_password=SecretStr("wrong"))
    with pytest.raises(SourceAuthFailed, match="password sign-in refused"):
        list(open_sources(settings).fetch())


# -- fetching ------------------------------------------------------------------------------


def test_fetch_peeks_so_messages_stay_unseen_and_finish_moves_them(
    server: DovecotServer, open_sources: Callable[..., ImapSource]
) -> None:
    raws = [raw_message(f"peek {n}") for n in range(3)]
    for raw in raws:
        server.append(raw, WATCHED)
    source = open_sources(make_settings(server))
    source.batch_size = 2  # two FETCH batches
    fetched = list(source.fetch())
    assert [m.raw for m in fetched] == raws
    assert all(m.oversize is None and m.arrived_at is not None for m in fetched)
    assert all(m.arrived_at.tzinfo is UTC for m in fetched if m.arrived_at)
    assert len({m.identity.uid for m in fetched}) == 3
    assert all(b"\\Seen" not in f for f in flags(server, WATCHED))

    assert source.finish(fetched[0].identity, Destination.PROCESSED) == "Processed"
    # Finishing again (e.g. after a crash before recording it) moves nothing, fails nothing.
    assert source.finish(fetched[0].identity, Destination.PROCESSED) == "Processed"
    assert source.finish(fetched[1].identity, Destination.QUARANTINE) == "Quarantine"
    assert server.messages("Processed") == [raws[0]]
    assert server.messages("Quarantine") == [raws[1]]
    assert server.messages(WATCHED) == [raws[2]]
    assert all(b"\\Seen" not in f for f in flags(server, "Processed"))


def _session_out_bytes(server: DovecotServer, sessions_before: int) -> int:
    """Bytes Dovecot sent in the session that logged out after `sessions_before` others."""
    assert server.root is not None
    log_file = server.root / "dovecot.log"
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        outs = re.findall(r"Logged out in=\d+ out=(\d+)", log_file.read_text())
        if len(outs) > sessions_before:
            return int(outs[sessions_before])
        time.sleep(0.05)
    raise AssertionError("Dovecot did not log the session's end")


def test_an_oversize_message_is_not_downloaded_only_its_header(
    server: DovecotServer, open_sources: Callable[..., ImapSource]
) -> None:
    small = raw_message("small one")
    big = raw_message("big one", body="BIGBODY " * 25_000)  # about 200 kB
    server.append(small, WATCHED)
    server.append(big, WATCHED)
    assert server.root is not None
    sessions_before = len(re.findall(r"Logged out in=", (server.root / "dovecot.log").read_text()))

    source = open_sources(make_settings(server, max_message_bytes=10_000))
    first, second = list(source.fetch())
    source.close()

    assert first.raw == small and first.oversize is None
    assert second.oversize == len(big)
    assert second.raw.endswith(b"\r\n\r\n") and b"Subject: big one" in second.raw
    assert b"BIGBODY" not in second.raw
    # The server's own count of bytes sent proves the body never crossed the wire.
    assert _session_out_bytes(server, sessions_before) < 20_000
    assert all(b"\\Seen" not in f for f in flags(server, WATCHED))


# -- waiting for mail ----------------------------------------------------------------------


@pytest.mark.parametrize("security", ["none", "ssl"])
def test_wait_for_mail_wakes_on_an_append_from_another_connection(
    server: DovecotServer, open_sources: Callable[..., ImapSource], security: str
) -> None:
    port = server.tls_port if security == "ssl" else server.port
    settings = make_settings(
        server, imap_security=security, imap_port=port, imap_ca_file=server.ca_file
    )
    source = open_sources(settings)
    assert list(source.fetch()) == []
    appender = append_later(server, raw_message("arrives during idle"), delay=0.3)
    started = time.monotonic()
    assert source.wait_for_mail(timeout=10) is True
    assert time.monotonic() - started < 2.0
    appender.join()
    assert [subject_of(m) for m in source.fetch()] == ["arrives during idle"]


def test_wait_for_mail_times_out_and_renews_idle(
    server: DovecotServer, open_sources: Callable[..., ImapSource]
) -> None:
    source = open_sources(make_settings(server))
    source.idle_renew = 0.2  # renew IDLE several times within the wait
    started = time.monotonic()
    assert source.wait_for_mail(timeout=0.7) is False
    assert 0.6 < time.monotonic() - started < 1.5
    # Still listening after renewals: mail arriving in a later IDLE round wakes it.
    appender = append_later(server, raw_message("after renewals"), delay=0.5)
    assert source.wait_for_mail(timeout=5) is True
    appender.join()


@pytest.mark.parametrize("recheck", [0.05, 0.0])
def test_wait_for_mail_rechecks_with_noop_only_when_asked(
    server: DovecotServer, open_sources: Callable[..., ImapSource], recheck: float
) -> None:
    # Dovecot holds an IDLE notice back for half a second; a NOOP is answered at once. With
    # a recheck the NOOP finds the mail first; without one only the notice wakes the wait.
    source = open_sources(make_settings(server))
    assert list(source.fetch()) == []
    answers: list[bool] = []
    ask = source._recheck

    def counted(client: Any) -> bool:
        answers.append(ask(client))
        return answers[-1]

    source._recheck = counted  # type: ignore[method-assign]
    appender = append_later(server, raw_message("found by a recheck"), delay=0.3)
    assert source.wait_for_mail(timeout=10, recheck=recheck) is True
    appender.join()
    if recheck:
        assert answers and answers[-1] is True and not any(answers[:-1])
        assert len(answers) >= 3  # asked every 50 ms while nothing had come
    else:
        assert answers == []
    assert [subject_of(m) for m in source.fetch()] == ["found by a recheck"]


def test_wait_for_mail_returns_at_once_for_mail_not_yet_fetched(
    server: DovecotServer, open_sources: Callable[..., ImapSource]
) -> None:
    source = open_sources(make_settings(server))
    server.append(raw_message("one"), WATCHED)
    (one,) = source.fetch()
    assert source.wait_for_mail(timeout=0) is False  # "one" has been seen
    server.append(raw_message("two"), WATCHED)  # arrives between fetch and wait
    assert source.wait_for_mail(timeout=5) is True
    assert [subject_of(m) for m in source.fetch()] == ["one", "two"]


def test_wait_for_mail_polls_with_noop_when_idle_is_off(
    server: DovecotServer, open_sources: Callable[..., ImapSource]
) -> None:
    source = open_sources(make_settings(server, imap_idle=False))
    source.noop_interval = 0.1
    assert list(source.fetch()) == []
    appender = append_later(server, raw_message("found by noop"), delay=0.3)
    started = time.monotonic()
    assert source.wait_for_mail(timeout=5) is True
    assert time.monotonic() - started < 2.0
    appender.join()
    assert source.wait_for_mail(timeout=0.3) is True  # not fetched yet: still new


def test_wait_for_mail_raises_when_the_connection_dies(
    server: DovecotServer, open_sources: Callable[..., ImapSource]
) -> None:
    source = open_sources(make_settings(server))
    assert list(source.fetch()) == []
    kicker = later(0.3, server.kick)
    started = time.monotonic()
    with pytest.raises(SourceDisconnected):
        source.wait_for_mail(timeout=10)
    assert time.monotonic() - started < 2.0
    kicker.join()
    server.append(raw_message("after the cut"), WATCHED)
    assert [subject_of(m) for m in source.fetch()] == ["after the cut"]  # reconnects


# -- UIDVALIDITY ---------------------------------------------------------------------------


def test_a_uidvalidity_change_before_finish_moves_nothing(
    server: DovecotServer,
    open_sources: Callable[..., ImapSource],
    caplog: pytest.LogCaptureFixture,
) -> None:
    def recreate_folder() -> None:
        with server.client() as client:
            client.delete_folder(WATCHED)
            client.create_folder(WATCHED)

    recreate_folder()  # UIDs from 1, so the clash below is certain
    raw, second = raw_message("moved folder"), raw_message("second")
    server.append(raw, WATCHED)
    server.append(second, WATCHED)
    source = open_sources(make_settings(server))
    messages = source.fetch()
    before = next(messages)  # both are downloaded; the runner handles the first

    # Someone deletes and recreates the folder: the same UIDs now number other messages.
    recreate_folder()
    for again in (raw_message("a different email"), raw, second):
        server.append(again, WATCHED)

    with caplog.at_level(logging.INFO, logger="intake.sources.imap"):
        stays = source.finish(before.identity, Destination.PROCESSED)
        rest = list(messages)
    assert stays == WATCHED
    assert server.messages("Processed") == []
    assert len(server.messages(WATCHED)) == 3
    assert rest == []  # the pass stops instead of handing out more stale identities
    assert "not moving uid" in caplog.text
    assert "moved folder" not in caplog.text and "school.example" not in caplog.text

    after = list(source.fetch())
    assert [subject_of(m) for m in after] == ["a different email", "moved folder", "second"]
    assert after[0].identity.uid == before.identity.uid  # what a blind MOVE would have taken
    assert {m.identity.uidvalidity for m in after} == {after[0].identity.uidvalidity}
    assert after[1].identity.uidvalidity != before.identity.uidvalidity
    assert source.finish(after[1].identity, Destination.PROCESSED) == "Processed"
    assert server.messages("Processed") == [raw]


# -- reconnection --------------------------------------------------------------------------


def test_a_connection_cut_mid_fetch_is_reopened_and_nothing_is_lost(
    server: DovecotServer, open_sources: Callable[..., ImapSource]
) -> None:
    subjects = [f"cut {n}" for n in range(5)]
    for subject in subjects:
        server.append(raw_message(subject), WATCHED)
    source = open_sources(make_settings(server))
    source.batch_size = 2
    messages = source.fetch()
    got = [next(messages)]
    server.kick()  # the server drops the session between two batches
    got += list(messages)
    assert [subject_of(m) for m in got] == subjects
    assert source.reconnects == 1
    for fetched in got:
        source.finish(fetched.identity, Destination.PROCESSED)
    assert len(server.messages("Processed")) == 5


def test_a_restarted_server_is_waited_for_with_backoff(
    server: DovecotServer, open_sources: Callable[..., ImapSource]
) -> None:
    server.append(raw_message("survives a restart"), WATCHED)
    source = open_sources(make_settings(server, imap_reconnect_attempts=8))
    assert source.wait_for_mail(timeout=0) is True  # connected; the message is not fetched yet
    server.kick()
    server.stop(remove_files=False)
    comeback = later(0.3, server.resume)  # down for a moment, then back
    try:
        (fetched,) = source.fetch()
    finally:
        comeback.join()
    assert subject_of(fetched) == "survives a restart"
    assert source.reconnects == 1


def test_giving_up_after_the_configured_attempts(open_sources: Callable[..., ImapSource]) -> None:
    settings = Settings(
        _env_file=None,
        imap_host="127.0.0.1",
        imap_port=free_port(),  # nothing listens there
        imap_security="none",
        imap_user=USER,
        imap_reconnect_attempts=2,
        imap_reconnect_delay=0.01,
        imap_reconnect_max_delay=0.02,
    )
    with pytest.raises(SourceUnavailable, match=r"after 2 reconnection attempt\(s\)"):
        list(open_sources(settings).fetch())


def test_close_is_always_safe(
    server: DovecotServer, open_sources: Callable[..., ImapSource]
) -> None:
    source = open_sources(make_settings(server))
    source.close()  # never connected
    assert list(source.fetch()) == []
    server.kick()  # connection already dead
    source.close()
    source.close()
    assert list(source.fetch()) == []  # and it can connect again


# -- backoff (pure) ------------------------------------------------------------------------


def test_backoff_doubles_up_to_the_cap_with_jitter() -> None:
    assert backoff_delay(0, base=1.0, cap=60.0, rand=0.0) == 0.5
    assert backoff_delay(0, base=1.0, cap=60.0, rand=1.0) == 1.0
    assert backoff_delay(3, base=1.0, cap=60.0, rand=0.5) == 6.0  # 8 -> 4 + 2
    assert backoff_delay(10, base=1.0, cap=60.0, rand=1.0) == 60.0
    assert backoff_delay(10_000, base=1.0, cap=60.0, rand=0.0) == 30.0  # no overflow
    for attempt, rand in ((-1, 0.5), (0, 1.5)):
        with pytest.raises(ValueError):
            backoff_delay(attempt, base=1.0, cap=60.0, rand=rand)
    with pytest.raises(ValueError):
        Backoff(base=-1.0)


def test_backoff_class_counts_attempts_and_resets() -> None:
    backoff = Backoff(base=1.0, cap=4.0)
    delays = [backoff.next_delay() for _ in range(5)]
    ceilings = [1.0, 2.0, 4.0, 4.0, 4.0]
    assert all(c / 2 <= d <= c for d, c in zip(delays, ceilings, strict=True))
    assert backoff.attempt == 5
    backoff.reset()
    assert backoff.attempt == 0 and backoff.next_delay() <= 1.0


# -- OAuth token providers (no network) ----------------------------------------------------


class FakeConfidentialApp:
    """Stands in for msal.ConfidentialClientApplication: returns a prepared result dict."""

    def __init__(self, result: dict[str, Any]) -> None:
        self.result = result
        self.scopes: list[list[str]] = []

    def acquire_token_for_client(self, scopes: list[str]) -> dict[str, Any]:
        self.scopes.append(scopes)
        return self.result


class FakePublicApp:
    """Stands in for msal.PublicClientApplication (no cached account yet)."""

    def __init__(self, result: dict[str, Any]) -> None:
        self.result = result
        self.calls: list[tuple[str, list[str]]] = []

    def get_accounts(self) -> list[dict[str, Any]]:
        return []

    def acquire_token_silent(self, scopes: list[str], account: object) -> None:
        raise AssertionError("no account, so no silent attempt")

    def acquire_token_by_refresh_token(
        self, refresh_token: str, scopes: list[str]
    ) -> dict[str, Any]:
        self.calls.append((refresh_token, scopes))
        return self.result


AADSTS_ERROR = {
    "error": "invalid_client",
    "error_description": "AADSTS7000215: Invalid client secret provided.\r\n"
    "Trace ID: 0000\r\nCorrelation ID: 1111\r\nTimestamp: 2026-01-01 00:00:00Z",
    "error_codes": [7000215],
}


def test_static_token_hands_out_the_token_and_hides_it() -> None:
    expiry = datetime(2030, 1, 1, tzinfo=UTC)
    provider = StaticToken("abc123", expires_at=expiry)
    assert provider.token() == "abc123"
    assert provider.expires_at == expiry
    assert "abc123" not in repr(provider)
    with pytest.raises(ValueError):
        StaticToken("")


def test_client_credentials_builds_nothing_until_asked_and_uses_the_outlook_scope() -> None:
    provider = MsalClientCredentials("contoso.onmicrosoft.com", "client-id", "s3cret")
    assert provider.scopes == [OUTLOOK_APP_SCOPE] == ["https://outlook.office365.com/.default"]
    assert provider.authority == "https://login.microsoftonline.com/contoso.onmicrosoft.com"
    assert provider._app is None  # msal (which calls Microsoft) is only built on first use
    assert "s3cret" not in repr(provider)
    with pytest.raises(ValueError, match="tenant"):
        MsalClientCredentials("", "client-id", "s3cret")
    with pytest.raises(ValueError, match="client id"):
        MsalClientCredentials("contoso", "", "s3cret")


def test_client_credentials_token_and_expiry() -> None:
    app = FakeConfidentialApp({"access_token": "at-1", "expires_in": 3599, "token_type": "Bearer"})
    provider = MsalClientCredentials("contoso", "client-id", "s3cret", app=app)
    assert provider.token() == "at-1"
    assert app.scopes == [[OUTLOOK_APP_SCOPE]]
    assert provider.expires_at is not None
    expected = datetime.now(UTC) + timedelta(seconds=3599)
    assert abs((provider.expires_at - expected).total_seconds()) < 5


def test_client_credentials_error_says_what_microsoft_said_without_the_secret() -> None:
    provider = MsalClientCredentials(
        "contoso", "client-id", "s3cret", app=FakeConfidentialApp(AADSTS_ERROR)
    )
    with pytest.raises(TokenError) as caught:
        provider.token()
    message = str(caught.value)
    assert "invalid_client" in message and "AADSTS7000215" in message
    assert "Trace ID" not in message and "s3cret" not in message


def test_refresh_token_flow_scope_and_error() -> None:
    app = FakePublicApp({"access_token": "at-2", "expires_in": "600"})
    provider = MsalRefreshToken("", "client-id", "rt-secret", app=app)
    assert provider.tenant == "organizations"
    assert provider.token() == "at-2"
    assert app.calls == [("rt-secret", [OUTLOOK_DELEGATED_SCOPE])]
    assert "rt-secret" not in repr(provider)

    failing = MsalRefreshToken(
        "contoso", "client-id", "rt-secret", app=FakePublicApp({"error": "invalid_grant"})
    )
    with pytest.raises(TokenError, match="refresh token.*invalid_grant"):
        failing.token()


def test_the_token_provider_follows_the_settings() -> None:
    def settings(**values: Any) -> Settings:
        return Settings(_env_file=None, imap_auth="xoauth2", **values)

    assert isinstance(token_provider_from_settings(settings(oauth_token="t")), StaticToken)
    refresh = token_provider_from_settings(
        settings(oauth_tenant="contoso", oauth_client_id="id", oauth_refresh_token="rt")
    )
    assert isinstance(refresh, MsalRefreshToken)
    secret = token_provider_from_settings(
        settings(oauth_tenant="contoso", oauth_client_id="id", oauth_client_secret="cs")
    )
    assert isinstance(secret, MsalClientCredentials)
    with pytest.raises(ValueError, match="INTAKE_OAUTH_TOKEN"):
        token_provider_from_settings(settings())
