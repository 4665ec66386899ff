"""Virus scanning of attachments through a clamd daemon (stdlib sockets only).

Outcomes, and what the caller should do with them:

* ``ScanResult(clean=True)``: go on processing.
* ``ScanResult(clean=False, signature=NAME)``: infected; quarantine, never parse.
* ``ScanResult(clean=False, signature=SIZE_LIMIT_EXCEEDED)``: clamd refused the size; the
  content is not known to be clean, so quarantine it for a person.
* ``ScannerUnavailable`` raised: nothing is known about the content; leave the message where
  it is and try again later (never skip the scan, never quarantine for this alone).
"""

from __future__ import annotations

import socket
from dataclasses import dataclass

__all__ = ["SIZE_LIMIT_EXCEEDED", "ClamdScanner", "ScanResult", "ScannerUnavailable"]

# Bytes per INSTREAM chunk: small enough to stay well under any StreamMaxLength, large enough
# that the 4-byte headers do not matter.
CHUNK_SIZE = 64 * 1024
# clamd's reply is short ("stream: <signature> FOUND"); anything much longer is not clamd.
MAX_REPLY = 4096
# The signature reported when clamd refuses the stream for its StreamMaxLength.
SIZE_LIMIT_EXCEEDED = "size limit exceeded"


class ScannerUnavailable(Exception):
    """clamd could not give a verdict (down, timed out, or answered something unexpected)."""


@dataclass(frozen=True)
class ScanResult:
    """clamd's verdict: ``clean``, or not clean with the ``signature`` that matched."""

    clean: bool
    signature: str | None = None


class ClamdScanner:
    """Client for clamd at ``host:port`` (``[v6addr]:port`` too) or a unix socket path."""

    def __init__(self, address: str, timeout: float = 30.0) -> None:
        self.address = address
        self.timeout = timeout
        self._target = _parse_address(address)

    def ping(self) -> bool:
        """True if clamd answers PING with PONG."""
        try:
            return self._command(b"zPING\0") == "PONG"
        except ScannerUnavailable:
            return False

    def scan(self, data: bytes) -> ScanResult:
        """Scan ``data`` with zINSTREAM; raises ScannerUnavailable when there is no verdict."""
        reply = self._command(b"zINSTREAM\0", data)
        if reply == "stream: OK":
            return ScanResult(clean=True)
        if reply.startswith("stream: ") and reply.endswith(" FOUND"):
            signature = reply[len("stream: ") : -len(" FOUND")].strip()
            if signature:
                return ScanResult(clean=False, signature=signature)
        # Not ScannerUnavailable: retrying cannot help, the same bytes exceed the same limit
        # every time and the message would wait forever. The content is unscanned, so it is not
        # clean either: the caller quarantines it for a person.
        if reply.startswith("INSTREAM size limit exceeded"):
            return ScanResult(clean=False, signature=SIZE_LIMIT_EXCEEDED)
        # Any other "... ERROR" (out of memory, database reload, ...) is clamd's own trouble:
        # no verdict, so the message waits rather than being judged on a guess.
        raise ScannerUnavailable(f"clamd at {self.address} replied {reply!r}")

    # -- wire protocol ---------------------------------------------------------------------

    def _connect(self) -> socket.socket:
        try:
            if isinstance(self._target, str):
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                try:
                    sock.settimeout(self.timeout)
                    sock.connect(self._target)
                except BaseException:
                    sock.close()
                    raise
            else:
                sock = socket.create_connection(self._target, timeout=self.timeout)
        except OSError as exc:  # refused, no such socket file, timeout, name not found
            raise ScannerUnavailable(f"cannot connect to clamd at {self.address}: {exc}") from exc
        return sock

    def _command(self, command: bytes, stream: bytes | None = None) -> str:
        """Send one z-command (plus a chunked stream, if given) and return the reply text."""
        with self._connect() as sock:
            try:
                sock.sendall(command)
                if stream is not None:
                    self._send_stream(sock, stream)
            except (BrokenPipeError, ConnectionResetError):
                # clamd closes the connection as soon as the stream passes StreamMaxLength,
                # while we are still sending; its reply is usually already in our buffer.
                pass
            except OSError as exc:  # timeout or other socket trouble
                raise ScannerUnavailable(f"sending to clamd at {self.address}: {exc}") from exc
            return self._read_reply(sock)

    @staticmethod
    def _send_stream(sock: socket.socket, data: bytes) -> None:
        view = memoryview(data)
        for start in range(0, len(view), CHUNK_SIZE):
            chunk = view[start : start + CHUNK_SIZE]
            sock.sendall(len(chunk).to_bytes(4, "big"))
            sock.sendall(chunk)
        sock.sendall(b"\0\0\0\0")  # zero-length chunk: end of stream

    def _read_reply(self, sock: socket.socket) -> str:
        # z-commands end their reply with NUL; read until that (or until clamd closes).
        reply = b""
        try:
            while b"\0" not in reply and len(reply) < MAX_REPLY:
                part = sock.recv(MAX_REPLY)
                if not part:
                    break
                reply += part
        except OSError as exc:
            raise ScannerUnavailable(f"reading from clamd at {self.address}: {exc}") from exc
        text = reply.split(b"\0", 1)[0].decode("utf-8", errors="replace").strip()
        if not text:
            raise ScannerUnavailable(f"clamd at {self.address} closed without a reply")
        return text


def _parse_address(address: str) -> str | tuple[str, int]:
    """Return a unix socket path (any value containing "/") or a (host, port) pair."""
    if "/" in address:
        return address
    host, sep, port = address.rpartition(":")
    if host.startswith("[") and host.endswith("]"):  # [::1]:3310
        host = host[1:-1]
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"clamd address must be host:port or a socket path, got {address!r}")
    return host, int(port)
