"""pytest plugin: fail the session if anything in it connects to 127.0.0.1:8545.

Port 8545 is where `provenance node start` and brownie's default development network listen: the
user running the tests may have a node there, with state they care about. The suite starts its own
nodes on free ports and must never reach for that one. Two checks, for the whole session:

- if the port is free when the session starts, a sentinel listener takes it and records every
  connection, whichever process makes it (the tests, brownie, a CLI subprocess, a node);
- whether or not the port was free, an audit hook records every connect() to it from this process.
  When the user's node holds the port, this is what can be checked without touching the node.

Connections from processes outside the session (found through /proc on Linux: neither this process
nor a descendant, nor carrying this session's marker in their environment) are reported but do not
fail it; connections that cannot be attributed do. `PROVENANCE_GUARDED_PORT` moves the check to
another port (the guard's own tests use that).
"""

from __future__ import annotations

import os
import socket
import sys
import threading
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

PORT_ENV = "PROVENANCE_GUARDED_PORT"
MARKER_ENV = "PROVENANCE_TEST_SESSION"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "0.0.0.0", "::", "::ffff:127.0.0.1"}


@dataclass(frozen=True)
class Contact:
    """One connection (or attempt) to the guarded port."""

    how: str
    during: str  # the test that was running
    process: str  # who connected, when known
    ours: bool | None  # from this session? None = could not tell


class PortGuard:
    def __init__(self, port: int) -> None:
        self.port = port
        self.name = f"port {port} guard"
        self.marker = uuid.uuid4().hex
        self.contacts: list[Contact] = []
        self.current = "(collection / between tests)"
        self.sentinel: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._active = False

    # ------------------------------------------------------------------ life cycle

    def start(self) -> None:
        os.environ[MARKER_ENV] = self.marker
        self._active = True
        sys.addaudithook(self._audit)  # cannot be removed: `stop` makes it inert
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", self.port))
            sock.listen(64)
        except OSError:
            sock.close()  # taken (the user's node?): leave it alone
            return
        sock.settimeout(0.1)
        self.sentinel = sock
        self._thread = threading.Thread(target=self._serve, name=self.name, daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._active = False
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if self.sentinel is not None:
            self.sentinel.close()

    @property
    def failures(self) -> list[Contact]:
        return [c for c in self.contacts if c.ours is not False]

    # ------------------------------------------------------------------ recording

    def _record(self, contact: Contact) -> None:
        with self._lock:
            self.contacts.append(contact)

    def _serve(self) -> None:
        assert self.sentinel is not None
        while not self._stop.is_set():
            try:
                conn, peer = self.sentinel.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with conn:  # the client is still connected while we look it up
                pid = _owner_of(peer[1], self.port)
                ours = None if pid is None else self._is_ours(pid)
                self._record(
                    Contact(
                        how=f"connection to the sentinel from {peer[0]}:{peer[1]}",
                        during=self.current,
                        process=_describe(pid),
                        ours=ours,
                    )
                )

    def _audit(self, event: str, args: tuple[Any, ...]) -> None:
        if event != "socket.connect" or not self._active:
            return
        address = args[1]
        if (
            isinstance(address, tuple)
            and len(address) >= 2
            and address[1] == self.port
            and (str(address[0]) in LOCAL_HOSTS or str(address[0]).startswith("127."))
        ):
            self._record(
                Contact(
                    how=f"connect() to {address[0]}:{address[1]} from the test process",
                    during=self.current,
                    process=_describe(os.getpid()),
                    ours=True,
                )
            )

    def _is_ours(self, pid: int) -> bool:
        if pid == os.getpid() or _environ_of(pid).get(MARKER_ENV) == self.marker:
            return True
        seen = set()
        while pid > 1 and pid not in seen:
            seen.add(pid)
            pid = _parent_of(pid)
            if pid == os.getpid():
                return True
        return False

    # ------------------------------------------------------------------ pytest hooks

    def pytest_report_header(self) -> str:
        return f"{self.name}: the session fails if anything in it connects to 127.0.0.1:{self.port}"

    def pytest_sessionstart(self) -> None:
        self.start()

    def pytest_runtest_logstart(self, nodeid: str) -> None:
        self.current = nodeid

    def pytest_runtest_logfinish(self, nodeid: str) -> None:
        self.current = f"(after {nodeid})"

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        self.stop()
        if self.failures and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        lines = self.report()
        if not lines:
            where = (
                "a sentinel listened there"
                if self.sentinel is not None
                else "in use by another program, left alone; this process never connected to it"
            )
            terminalreporter.write_line(f"{self.name}: no connection ({where})")
            return
        terminalreporter.section(self.name, sep="=", red=bool(self.failures))
        for line in lines:
            terminalreporter.write_line(line)

    # ------------------------------------------------------------------ report

    def report(self) -> list[str]:
        lines = []
        if self.failures:
            lines += [
                f"FAILED {self.name}: the test session connected to 127.0.0.1:{self.port}, where "
                "`provenance node start` and brownie's default development network listen (a "
                "user's node there may hold state they care about). Tests must start their own "
                "nodes on free ports (see tests/test_brownie.py for brownie).",
                *(f"  - {c.how}, during {c.during} ({c.process})" for c in self.failures),
            ]
        outsiders = [c for c in self.contacts if c.ours is False]
        if outsiders:
            lines += [
                f"{self.name}: connections from processes outside this test session (ignored):",
                *(f"  - {c.how}, during {c.during} ({c.process})" for c in outsiders),
            ]
        return lines


# ---------------------------------------------------------------------- /proc (Linux)


def _owner_of(client_port: int, server_port: int) -> int | None:
    """The pid holding the client end of a TCP connection to 127.0.0.1:server_port."""
    inode = None
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            rows = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            fields = row.split()
            local, remote = fields[1], fields[2]
            if (
                int(local.rsplit(":", 1)[1], 16) == client_port
                and int(remote.rsplit(":", 1)[1], 16) == server_port
            ):
                inode = fields[9]
                break
        if inode:
            break
    if not inode or inode == "0":
        return None
    target = f"socket:[{inode}]"
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            for fd in os.scandir(f"/proc/{entry.name}/fd"):
                if os.readlink(fd.path) == target:
                    return int(entry.name)
        except OSError:
            continue
    return None


def _parent_of(pid: int) -> int:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0
    return int(stat.rsplit(")", 1)[1].split()[1])


def _environ_of(pid: int) -> dict[str, str]:
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return {}
    pairs = (item.split(b"=", 1) for item in raw.split(b"\0") if b"=" in item)
    return {k.decode(errors="replace"): v.decode(errors="replace") for k, v in pairs}


def _describe(pid: int | None) -> str:
    if pid is None:
        return "process unknown"
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        command = " ".join(a.decode(errors="replace") for a in argv if a)[:160]
    except OSError:
        command = "?"
    return f"pid {pid}: {command}"


# ---------------------------------------------------------------------- pytest hooks


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(PortGuard(int(os.environ.get(PORT_ENV) or 8545)), "port-guard")
