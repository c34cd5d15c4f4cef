"""Start, stop and inspect a local development node (Anvil by default, or Ganache).

The node runs in the background with a pid file and keeps its chain in a state file under the
data directory, so a stopped and restarted node still has every contract and record.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from pathlib import Path

from provenance.chain import DEV_MNEMONIC
from provenance.config import data_dir, write_json_atomic
from provenance.exceptions import NodeError

ENGINES = ("anvil", "ganache")
DEFAULT_PORT = 8545
HOST = "127.0.0.1"
INSTALL_HINT = "run `npm ci` in the project (installs @foundry-rs/anvil and ganache)"
ANVIL_CHAIN_ID = 31337
GANACHE_CHAIN_ID = 1337


@dataclass(frozen=True)
class NodeInfo:
    """What `provenance node start` recorded about the running node."""

    engine: str
    pid: int
    port: int
    state_path: str
    log_path: str

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"


def node_dir(root: Path | None = None) -> Path:
    path = (root or data_dir()) / "node"
    path.mkdir(parents=True, exist_ok=True)
    return path


def find_binary(engine: str, project_root: Path | None = None) -> Path:
    """Locate the engine's executable: the project's node_modules first, then PATH."""
    if engine not in ENGINES:
        raise NodeError(f"unknown engine {engine!r}: choose one of {', '.join(ENGINES)}")
    roots = [Path.cwd(), project_root or Path(__file__).resolve().parent.parent]
    for root in roots:
        if engine == "anvil":
            # The native binary itself, not the node launcher, so the pid file names the real node.
            for native in sorted((root / "node_modules" / "@foundry-rs").glob("anvil-*/bin/anvil")):
                if os.access(native, os.X_OK):
                    return native
        launcher = root / "node_modules" / ".bin" / engine
        if launcher.exists():
            return launcher
    found = shutil.which(engine)
    if found:
        return Path(found)
    raise NodeError(f"{engine} is not installed: {INSTALL_HINT}")


def command(
    engine: str, binary: Path, port: int, state: Path, state_interval: int = 1
) -> list[str]:
    if engine == "anvil":
        # --state loads the file at start and saves it on SIGTERM/SIGINT; --state-interval also
        # saves every N seconds so a SIGKILL loses at most N seconds (the outbox resends those).
        # Each save writes the whole chain, so a long-lived busy node may want a longer interval.
        interval = ["--state-interval", str(state_interval)] if state_interval > 0 else []
        return [
            str(binary), "--host", HOST, "--port", str(port), "--chain-id", str(ANVIL_CHAIN_ID),
            "--mnemonic", DEV_MNEMONIC, "--accounts", "10", "--balance", "10000",
            "--state", str(state), *interval, "--silent",
        ]  # fmt: skip
    return [
        str(binary), "--server.host", HOST, "--server.port", str(port),
        "--chain.hardfork", "shanghai", "--chain.chainId", str(GANACHE_CHAIN_ID),
        "--wallet.mnemonic", DEV_MNEMONIC, "--wallet.totalAccounts", "10",
        "--wallet.defaultBalance", "10000", "--database.dbPath", str(state),
        "--logging.quiet",
    ]  # fmt: skip


def port_in_use(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex((HOST, port)) == 0


def rpc_ready(url: str, timeout: float = 0.5) -> bool:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return "result" in json.loads(response.read())
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - someone else's process
        return True
    # A zombie child (started by this very process and exited) is not alive.
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True


def _record_path(root: Path | None) -> Path:
    return node_dir(root) / "node.json"


def status(root: Path | None = None) -> NodeInfo | None:
    """The running node recorded in the data directory, or None (a stale record is removed)."""
    path = _record_path(root)
    if not path.exists():
        return None
    info = NodeInfo(**json.loads(path.read_text()))
    if not _pid_alive(info.pid):
        path.unlink(missing_ok=True)
        return None
    return info


def start(
    engine: str = "anvil",
    port: int = DEFAULT_PORT,
    root: Path | None = None,
    *,
    fresh: bool = False,
    state_interval: int = 1,
    timeout: float = 30.0,
) -> NodeInfo:
    """Start a node in the background and wait until it answers JSON-RPC.

    Anvil saves its chain every `state_interval` seconds (0: only when stopped cleanly); Ganache
    writes every block to its database.
    """
    running = status(root)
    if running:
        raise NodeError(
            f"a {running.engine} node is already running (pid {running.pid}, {running.url}): "
            "stop it first with `provenance node stop`"
        )
    binary = find_binary(engine)
    if port_in_use(port):
        raise NodeError(f"port {port} on {HOST} is already in use: pick another with --port")
    directory = node_dir(root)
    state = directory / (f"{engine}-state.json" if engine == "anvil" else f"{engine}-db")
    if fresh and state.exists():
        shutil.rmtree(state) if state.is_dir() else state.unlink()
    log = directory / f"{engine}.log"
    with open(log, "ab") as log_file:
        process = subprocess.Popen(
            command(engine, binary, port, state, state_interval),
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # survives the CLI process; stopped by pid
        )
    info = NodeInfo(engine, process.pid, port, str(state), str(log))
    url = info.url
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text(errors="replace").strip().splitlines()[-3:]
            raise NodeError(
                f"{engine} exited at start (code {process.returncode}): {' | '.join(tail)}"
            )
        if rpc_ready(url):
            write_json_atomic(_record_path(root), asdict(info))
            return info
        time.sleep(0.05)
    process.kill()
    raise NodeError(f"{engine} did not answer on {url} within {timeout:.0f} s; see {log}")


def stop(root: Path | None = None, *, timeout: float = 15.0, hard: bool = False) -> NodeInfo | None:
    """Stop the recorded node (SIGTERM lets it save its state; `hard` sends SIGKILL)."""
    info = status(root)
    if info is None:
        return None
    os.kill(info.pid, signal.SIGKILL if hard else signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _pid_alive(info.pid) and time.monotonic() < deadline:
        _reap(info.pid)
        time.sleep(0.05)
    if _pid_alive(info.pid):
        os.kill(info.pid, signal.SIGKILL)
    _reap(info.pid)
    _record_path(root).unlink(missing_ok=True)
    return info


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
