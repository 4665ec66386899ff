"""SMTP pipelining (RFC 2920) against a real server (aiosmtpd), offered and not offered."""

from __future__ import annotations

import socket
from email.message import EmailMessage
from typing import Any

import pytest

from notifications.transport import PermanentFailure, SmtpTransport, TemporaryFailure
from servers.smtp import SmtpServer

PIPELINED = pytest.mark.parametrize("pipelining", [True, False], ids=["pipelining", "plain"])


def _email(n: int, to: str = "referrer@nhs.test", body: str = "Thank you.\n") -> EmailMessage:
    message = EmailMessage()
    message["From"] = "sirg@lscp.test"
    message["To"] = to
    message["Subject"] = f"SIRG referral received {n}"
    message["Message-ID"] = f"<{n}.ack@lscp.test>"
    message.set_content(body)
    return message


def _transport(server: SmtpServer) -> SmtpTransport:
    return SmtpTransport(host=server.host, port=server.port, security="none", timeout=5)


@pytest.mark.parametrize(("pipelining", "writes"), [(True, 2), (False, 4)], ids=["on", "off"])
def test_an_email_takes_two_writes_when_the_server_pipelines_and_four_when_not(
    pipelining: bool, writes: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    with SmtpServer() as server:
        server.handler.pipelining = pipelining
        transport = _transport(server)
        transport.send(_email(1))  # connects and says EHLO
        client = transport._client
        assert client is not None
        ours = client.sock
        counted: list[bytes] = []
        real = socket.socket.sendall

        def sendall(self: socket.socket, data: Any, *args: Any) -> None:
            if self is ours:
                counted.append(bytes(data))
            real(self, data, *args)

        monkeypatch.setattr(socket.socket, "sendall", sendall)
        transport.send(_email(2))
        monkeypatch.undo()
        transport.close()
        assert len(server.wait_for(2)) == 2
    assert len(counted) == writes
    assert counted[0].lower().startswith(b"mail from:<sirg@lscp.test>")
    if pipelining:  # MAIL, RCPT and DATA in the first write
        assert counted[0].lower().count(b"\r\n") == 3 and b"rcpt to:" in counted[0].lower()


@PIPELINED
def test_refusals_are_told_apart_and_the_connection_goes_on(pipelining: bool) -> None:
    refusals = {"gone@nhs.test": "550 5.1.1 no such user", "full@nhs.test": "452 4.2.2 full"}
    with SmtpServer(fail_recipients=refusals) as server:
        server.handler.pipelining = pipelining
        transport = _transport(server)
        with pytest.raises(PermanentFailure, match="550"):
            transport.send(_email(1, to="gone@nhs.test"))
        with pytest.raises(TemporaryFailure, match="452"):
            transport.send(_email(2, to="full@nhs.test"))
        transport.send(_email(3))  # the same connection, reset after each refusal
        server.handler.data_reply = "554 5.6.0 message refused"
        with pytest.raises(PermanentFailure, match="554"):
            transport.send(_email(4))
        server.handler.data_reply = "451 4.3.0 try later"
        with pytest.raises(TemporaryFailure, match="451"):
            transport.send(_email(5))
        server.handler.data_reply = None
        transport.send(_email(6))
        transport.close()
        got = server.wait_for(2)
    assert [str(m.message["Message-ID"]) for m in got] == ["<3.ack@lscp.test>", "<6.ack@lscp.test>"]


@PIPELINED
def test_lines_that_start_with_a_dot_arrive_as_written(pipelining: bool) -> None:
    body = ".\n..two dots\n. a dot and a space\nlast line without a dot"
    with SmtpServer() as server:
        server.handler.pipelining = pipelining
        transport = _transport(server)
        transport.send(_email(1, body=body))
        transport.close()
        (got,) = server.wait_for(1)
    assert got.message.get_content().replace("\r\n", "\n").rstrip("\n") == body


def test_an_answer_read_late_comes_back_under_its_token_with_its_meaning() -> None:
    """`hand` does not wait for the server's last answer: it is read once the next email's
    commands are out (or when asked to wait), and a refusal then is still told apart."""
    with SmtpServer(data_reply="554 5.6.0 message refused") as server:
        transport = _transport(server)
        transport.hand(_email(1), "first")
        assert transport.answers(wait=False) == []  # not read yet: nothing waited for it
        transport.hand(_email(2), "second")
        ((token, failure),) = transport.answers(wait=False)
        assert token == "first" and isinstance(failure, PermanentFailure) and "554" in str(failure)
        ((token, failure),) = transport.answers(wait=True)
        assert token == "second" and isinstance(failure, PermanentFailure)
        server.handler.data_reply = "451 4.3.0 try later"
        transport.hand(_email(3), "third")
        ((token, failure),) = transport.answers(wait=True)
        assert token == "third" and isinstance(failure, TemporaryFailure) and "451" in str(failure)
        server.handler.data_reply = None
        transport.hand(_email(4), "fourth")
        transport.close()  # the answer still owed is read before QUIT
        assert transport.answers(wait=True) == [("fourth", None)]
        got = server.wait_for(1)
    assert [str(m.message["Message-ID"]) for m in got] == ["<4.ack@lscp.test>"]


def test_without_pipelining_an_email_handed_over_is_answered_at_once() -> None:
    with SmtpServer() as server:
        server.handler.pipelining = False
        transport = _transport(server)
        transport.hand(_email(1), "only")
        assert transport.answers(wait=False) == [] and len(server.wait_for(1)) == 1
        transport.close()
