"""Attacks that belong to the server process, over real HTTP on 127.0.0.1: oversized request
heads, and a login lockout that several worker processes and a restart must all keep."""

import socket
import sys
import time
from pathlib import Path

import httpx
import psutil
import pytest

from tests.server.conftest import ADMIN_PASSWORD, LiveServer, StartLiveServer

SERVE = [sys.executable, "-m", "resentry_server", "serve"]
# The documented way to run Resentry under uvicorn itself.
UVICORN = [
    sys.executable,
    *("-m", "uvicorn", "--factory", "resentry_server:create_app"),
    *("--http", "resentry_server:HttpProtocol"),
]
CAP = 32 * 1024  # the default RESENTRY_MAX_REQUEST_HEADER_BYTES


def _port(server: LiveServer) -> int:
    return int(server.base_url.rsplit(":", 1)[1].split("/")[0])


def _exchange(port: int, head: bytes) -> bytes:
    """Send a request head and read the whole answer (the server closes after a 431)."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head)
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.endswith(b"}"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk
        return answer


def _sent_before_cut(port: int, total: int) -> int:
    """Stream a never-ending header of up to ``total`` bytes; how much was sent before the
    server closed the connection."""
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(b"GET /health/ HTTP/1.1\r\nHost: x\r\nX-Big: ")
        block = b"a" * 65536
        try:
            while sent < total:
                sent += sock.send(block)
        except (BrokenPipeError, ConnectionResetError):
            pass
    return sent


@pytest.mark.parametrize("argv", [SERVE, UVICORN], ids=["resentry-serve", "uvicorn-factory"])
def test_request_heads_over_the_cap_answer_431_before_being_buffered(
    start_live_server: StartLiveServer, tmp_path: Path, argv: list[str]
) -> None:
    """A head over 32 KiB answers 431 with a JSON detail and the connection closes; one
    under the cap is served; a 64 MB header is cut off early, memory stays flat, and
    ``/health/`` answers meanwhile."""
    server = start_live_server(data_dir=tmp_path / "data", argv=argv)
    port = _port(server)
    small = b"GET /health/ HTTP/1.1\r\nHost: x\r\nX-Pad: " + b"a" * (CAP // 2) + b"\r\n\r\n"
    assert _exchange(port, small).startswith(b"HTTP/1.1 200")
    big = b"POST /api/1/store/ HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (CAP + 1024)
    answer = _exchange(port, big)
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]
    assert b'"detail":"the request line and headers are larger' in answer
    many_headers = b"GET /health/ HTTP/1.1\r\n" + b"X-A: b\r\n" * (CAP // 8 + 100)
    assert _exchange(port, many_headers).startswith(b"HTTP/1.1 431 ")
    process = psutil.Process(server.process.pid)
    workers = process.children() or [process]
    rss_before = sum(worker.memory_info().rss for worker in workers)
    assert _sent_before_cut(port, 64 * 1024 * 1024) < 16 * 1024 * 1024
    rss_after = sum(worker.memory_info().rss for worker in workers)
    assert rss_after - rss_before < 16 * 1024 * 1024
    assert httpx.get(f"{server.base_url}/health/", timeout=10).status_code == 200


def _login(server: LiveServer, password: str) -> int:
    with httpx.Client(timeout=30) as client:  # a new connection, so any worker may answer
        response = client.post(
            f"{server.base_url}/api/v1/auth/login",
            json={"username": "admin", "password": password},
        )
    return response.status_code


def test_lockout_holds_across_two_workers_and_a_restart(
    start_live_server: StartLiveServer, tmp_path: Path
) -> None:
    """After three failures, every later login answers 429 whichever of two worker
    processes takes it, and still after the server restarts."""
    data_dir = tmp_path / "data"
    limits = {"RESENTRY_LOGIN_MAX_FAILURES": "3", "RESENTRY_LOGIN_LOCKOUT_SECONDS": "600"}
    server = start_live_server(data_dir=data_dir, argv=[*SERVE, "--workers", "2"], **limits)
    deadline = time.monotonic() + 60
    while len(psutil.Process(server.process.pid).children()) < 2:
        assert time.monotonic() < deadline, "the two workers did not start"
        time.sleep(0.1)
    server.create_user("admin", ADMIN_PASSWORD, admin=True)
    assert [_login(server, "wrong") for _ in range(3)] == [401, 401, 401]
    assert [_login(server, ADMIN_PASSWORD) for _ in range(8)] == [429] * 8
    assert server.stop() == 0
    restarted = start_live_server(data_dir=data_dir, argv=SERVE, **limits)
    assert _login(restarted, ADMIN_PASSWORD) == 429
