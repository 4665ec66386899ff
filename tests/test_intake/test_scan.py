"""ClamdScanner against a real clamd (whose only signature is the EICAR test file)."""

from __future__ import annotations

import hashlib
import io
import socket
import threading
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from intake.scan import SIZE_LIMIT_EXCEEDED, ClamdScanner, ScannerUnavailable, ScanResult
from servers import free_port
from servers.clamd import ClamdServer


@pytest.fixture
def scanner(clamd: ClamdServer) -> ClamdScanner:
    return ClamdScanner(clamd.address, timeout=10)


def zipped(name: str, data: bytes, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=compression) as archive:
        archive.writestr(name, data)
    return buffer.getvalue()


def test_fixture_builds_the_standard_eicar_file(clamd: ClamdServer) -> None:
    # The well-known MD5 of the 68-byte EICAR file: the halves were joined correctly.
    assert hashlib.md5(clamd.eicar).hexdigest() == "44d88612fea8a8f36de82e1278abb02f"


def test_ping(scanner: ClamdScanner) -> None:
    assert scanner.ping() is True


@pytest.mark.parametrize(
    "data",
    [b"Referral form, nothing to see here.\n", b"", bytes(range(256)) * 1000],
    ids=["text", "empty", "binary-over-one-chunk"],
)
def test_clean_content_is_clean(scanner: ClamdScanner, data: bytes) -> None:
    assert scanner.scan(data) == ScanResult(clean=True, signature=None)


def test_eicar_is_found_with_its_signature_name(scanner: ClamdScanner, clamd: ClamdServer) -> None:
    result = scanner.scan(clamd.eicar)
    assert result.clean is False
    assert result.signature == clamd.signature


@pytest.mark.parametrize(
    "compression", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED], ids=["stored", "deflated"]
)
def test_eicar_inside_a_zip_is_found(
    scanner: ClamdScanner, clamd: ClamdServer, compression: int
) -> None:
    result = scanner.scan(zipped("invoice.com", clamd.eicar, compression))
    assert result == ScanResult(clean=False, signature=clamd.signature)


def test_a_clean_zip_is_clean(scanner: ClamdScanner) -> None:
    assert scanner.scan(zipped("form.txt", b"just a form")).clean is True


def test_over_the_stream_limit_is_not_clean_and_not_unavailable(scanner: ClamdScanner) -> None:
    # The fixture's StreamMaxLength is 30M (MiB); clamd cuts the connection mid-upload.
    result = scanner.scan(b"\0" * (30 * 1024 * 1024 + 1))
    assert result == ScanResult(clean=False, signature=SIZE_LIMIT_EXCEEDED)
    assert scanner.ping() is True  # and clamd is still fine afterwards


def test_refused_connection_is_unavailable_quickly() -> None:
    scanner = ClamdScanner(f"127.0.0.1:{free_port()}", timeout=5)
    started = time.monotonic()
    with pytest.raises(ScannerUnavailable, match="cannot connect"):
        scanner.scan(b"anything")
    assert time.monotonic() - started < 1
    assert scanner.ping() is False


def test_missing_unix_socket_is_unavailable(tmp_path: Path) -> None:
    scanner = ClamdScanner(str(tmp_path / "clamd.ctl"))
    with pytest.raises(ScannerUnavailable):
        scanner.scan(b"anything")
    assert scanner.ping() is False


@pytest.fixture
def silent_server() -> Iterator[str]:
    """A listening socket that never answers: connect succeeds, the reply never comes."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", 0))
        server.listen(5)
        yield f"127.0.0.1:{server.getsockname()[1]}"


def test_silent_server_times_out_as_unavailable(silent_server: str) -> None:
    scanner = ClamdScanner(silent_server, timeout=0.3)
    started = time.monotonic()
    with pytest.raises(ScannerUnavailable):
        scanner.scan(b"anything")
    assert time.monotonic() - started < 2
    assert scanner.ping() is False


@pytest.mark.parametrize("address", ["clamd", "127.0.0.1", "127.0.0.1:", ":3310", "host:99999"])
def test_bad_address_is_rejected_at_construction(address: str) -> None:
    with pytest.raises(ValueError):
        ClamdScanner(address)


def test_ipv6_address_form_is_accepted() -> None:
    # Only the parsing: nothing listens there, so the scan is unavailable, not a ValueError.
    with pytest.raises(ScannerUnavailable):
        ClamdScanner(f"[::1]:{free_port()}", timeout=1).scan(b"x")


def answer_once(reply: bytes) -> str:
    """A one-connection fake clamd that reads the request and answers ``reply``."""
    server = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        with server, server.accept()[0] as conn:
            conn.settimeout(5)
            received = b""
            # Read until the zero-length terminator of INSTREAM (or the end of zPING).
            while not received.endswith((b"\0\0\0\0", b"zPING\0")):
                part = conn.recv(65536)
                if not part:
                    break
                received += part
            conn.sendall(reply)

    threading.Thread(target=serve, daemon=True).start()
    return f"127.0.0.1:{server.getsockname()[1]}"


@pytest.mark.parametrize(
    "reply",
    [b"stream: Can't allocate memory ERROR\0", b"UNKNOWN COMMAND\0", b"", b"stream: FOUND\0"],
    ids=["error", "unknown-command", "closed-without-reply", "found-without-name"],
)
def test_other_replies_are_unavailable_not_a_verdict(reply: bytes) -> None:
    with pytest.raises(ScannerUnavailable):
        ClamdScanner(answer_once(reply), timeout=5).scan(b"data")


def test_ping_with_a_wrong_answer_is_false() -> None:
    assert ClamdScanner(answer_once(b"PANG\0"), timeout=5).ping() is False
