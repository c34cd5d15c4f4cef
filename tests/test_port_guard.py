"""The port guard (tests/port_guard.py) fails a session that connects to the guarded port.

Each case runs a small pytest session in a subprocess with the guard on a free port of its own
(`PROVENANCE_GUARDED_PORT`), so that these tests never touch 8545 themselves.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.support import PROJECT_ROOT, free_port

CONNECT_IN_PROCESS = """
    import socket

    def test_connects():
        socket.create_connection(("127.0.0.1", PORT), timeout=2).close()
"""
CONNECT_FROM_A_CHILD = """
    import subprocess, sys

    def test_connects():
        code = "import socket, time; s = socket.create_connection(('127.0.0.1', PORT)); "
        code += "time.sleep(0.5)"
        subprocess.run([sys.executable, "-c", code], check=True)
"""
PROBE_ONLY = """
    import socket

    def test_connects():
        with socket.socket() as sock:
            sock.connect_ex(("127.0.0.1", PORT))
"""
NO_CONNECTION = """
    def test_nothing():
        assert True
"""


def write_session(tmp_path: Path, port: int, source: str) -> list[str]:
    (tmp_path / "pytest.ini").write_text("[pytest]\n")
    (tmp_path / "test_inner.py").write_text(textwrap.dedent(source).replace("PORT", str(port)))
    return [sys.executable, "-m", "pytest", "-p", "tests.port_guard", "-p", "no:cacheprovider"]


def session_env(port: int) -> dict[str, str]:
    path = os.pathsep.join(p for p in (str(PROJECT_ROOT), os.environ.get("PYTHONPATH")) if p)
    return dict(os.environ, PROVENANCE_GUARDED_PORT=str(port), PYTHONPATH=path)


def run_session(tmp_path: Path, port: int, source: str) -> subprocess.CompletedProcess[str]:
    argv = write_session(tmp_path, port, source)
    return subprocess.run(
        argv, cwd=tmp_path, env=session_env(port), capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    "source",
    [CONNECT_IN_PROCESS, CONNECT_FROM_A_CHILD, PROBE_ONLY],
    ids=["in-process", "child-process", "probe"],
)
def test_a_session_that_connects_to_the_free_port_fails_naming_the_check(
    tmp_path: Path, source: str
) -> None:
    port = free_port()
    result = run_session(tmp_path, port, source)
    assert result.returncode == 1, result.stdout + result.stderr
    assert f"FAILED port {port} guard" in result.stdout
    assert "1 passed" in result.stdout  # the test itself passed: the guard failed the session
    assert "test_inner.py::test_connects" in result.stdout


def test_when_the_port_is_taken_the_guard_leaves_it_alone_but_catches_this_process(
    tmp_path: Path,
) -> None:
    with socket.socket() as users_node:
        users_node.bind(("127.0.0.1", 0))
        users_node.listen(8)
        port = users_node.getsockname()[1]
        clean = run_session(tmp_path, port, NO_CONNECTION)
        assert clean.returncode == 0, clean.stdout + clean.stderr
        assert f"port {port} guard: no connection (in use by another program" in clean.stdout
        users_node.settimeout(0)
        with pytest.raises(BlockingIOError):
            users_node.accept()  # the guard never connected to it

        dirty = run_session(tmp_path, port, CONNECT_IN_PROCESS)
        assert dirty.returncode == 1, dirty.stdout + dirty.stderr
        assert f"FAILED port {port} guard" in dirty.stdout
        assert "from the test process" in dirty.stdout


def test_a_session_that_leaves_the_port_alone_passes(tmp_path: Path) -> None:
    port = free_port()
    result = run_session(tmp_path, port, NO_CONNECTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"port {port} guard: no connection (a sentinel listened there)" in result.stdout


@pytest.mark.skipif(sys.platform != "linux", reason="connections are attributed through /proc")
def test_connections_from_outside_the_session_are_reported_not_failed(tmp_path: Path) -> None:
    port = free_port()
    flag = tmp_path / "done"
    source = f"""
        import time
        from pathlib import Path

        def test_waits_for_an_outsider():
            deadline = time.monotonic() + 60
            while not Path({str(flag)!r}).exists() and time.monotonic() < deadline:
                time.sleep(0.05)
    """
    argv = write_session(tmp_path, port, source)
    session = subprocess.Popen(
        argv, cwd=tmp_path, env=session_env(port), stdout=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 60
        while True:  # this process is the outsider: it is the session's parent, not its child
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    time.sleep(0.5)  # stay connected while the sentinel looks us up
                break
            except OSError:
                assert time.monotonic() < deadline, "the inner session's sentinel never listened"
                time.sleep(0.05)
        flag.touch()
        out, _ = session.communicate(timeout=120)
    finally:
        session.kill()
    assert session.returncode == 0, out
    assert "connections from processes outside this test session (ignored)" in out
    assert f"pid {os.getpid()}" in out
