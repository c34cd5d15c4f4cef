"""Start, stop and inspect a local development node (Anvil by default, or Ganache).

The node runs in the background and keeps its chain under the data directory, so a stopped and
restarted node still has every contract and record. Anvil runs under a keeper process
(`provenance.snapshots`) that writes state snapshots atomically and keeps the previous one, so a
kill -9 of Anvil or of the keeper at any moment never leaves a damaged state file; Ganache writes
every block to its own database.

The node record (`<data>/node/node.json`) stays after `node stop`: it says which chain (URL and
identity: chain id + genesis hash) this data directory works with. While it exists, a node that
is not running means "the chain is down" — writes are queued in the outbox — never "use another
chain". `stop(forget=True)` removes it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from provenance.chain import DEV_MNEMONIC, ChainIdentity
from provenance.config import data_dir, write_json_atomic
from provenance.exceptions import ConfigError, NodeError
from provenance.snapshots import check_state, previous_path

ENGINES = ("anvil", "ganache")
DEFAULT_PORT = 8545
HOST = "127.0.0.1"
INSTALL_HINT = "run `npm ci` in the project (installs @foundry-rs/anvil and ganache)"
ANVIL_CHAIN_ID = 31337
GANACHE_CHAIN_ID = 1337


@dataclass(frozen=True)
class NodeInfo:
    """What `provenance node start` recorded about the node.

    `pid` is the process to signal (Anvil's keeper, or Ganache), `node_pid` the node itself.
    """

    engine: str
    pid: int
    port: int
    state_path: str
    log_path: str
    node_pid: int = 0
    identity: dict[str, Any] = field(default_factory=dict)
    state_interval: int = 1
    started_at: float = 0.0

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def chain_identity(self) -> ChainIdentity | None:
        try:
            return ChainIdentity.from_json(self.identity) if self.identity else None
        except (KeyError, TypeError, ValueError):
            return None

    @property
    def running(self) -> bool:
        """The node answers requests: its process (and, for Anvil, the keeper's) is alive."""
        alive = _pid_alive(self.pid)
        if self.node_pid and self.node_pid != self.pid:
            alive = alive and _pid_alive(self.node_pid)
        return alive

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Any) -> NodeInfo:
        if not isinstance(data, dict):
            raise ValueError("expected a JSON object")
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})


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


#: Historical states Anvil may write to disk (older ones are dropped). Unbounded, and in the
#: shared `~/.foundry/anvil/tmp` it defaults to, a long chain's history took gigabytes per node
#: and outlived the node (76 GB after a day of test runs on this machine).
MAX_PERSISTED_STATES = 256


def anvil_cache(state: Path) -> Path:
    """Where the node of `state` keeps its persisted historical states: beside its state, in
    the node's own directory, emptied when it starts and stops (it is only a cache)."""
    return state.parent / "anvil-cache"


def command(engine: str, binary: Path, port: int, state: Path) -> list[str]:
    """The node's own command line. Anvil loads the last snapshot (if any) and never writes
    state itself: its keeper does (`provenance.snapshots`)."""
    if engine == "anvil":
        load = ["--load-state", str(state)] if state.exists() else []
        return [
            str(binary), "--host", HOST, "--port", str(port), "--chain-id", str(ANVIL_CHAIN_ID),
            "--mnemonic", DEV_MNEMONIC, "--accounts", "10", "--balance", "10000",
            "--cache-path", str(anvil_cache(state)),
            "--max-persisted-states", str(MAX_PERSISTED_STATES),
            *load, "--silent",
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


def _rpc(url: str, method: str, params: list[Any], timeout: float = 0.5) -> Any:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read()).get("result")


def rpc_ready(url: str, timeout: float = 0.5) -> bool:
    try:
        return _rpc(url, "eth_chainId", [], timeout) is not None
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _identity(url: str) -> ChainIdentity:
    chain_id = int(_rpc(url, "eth_chainId", [], 5.0), 16)
    genesis = _rpc(url, "eth_getBlockByNumber", ["0x0", False], 5.0)
    return ChainIdentity(chain_id, str(genesis["hash"]).lower())


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
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


def recorded(root: Path | None = None) -> NodeInfo | None:
    """The node this data directory is configured with (running or not), or None."""
    path = (root or data_dir()) / "node" / "node.json"
    if not path.exists():
        return None
    try:
        return NodeInfo.from_json(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError) as exc:
        raise ConfigError(
            f"the node record {path} is malformed ({exc}): run `provenance node stop --forget` "
            "and start the node again"
        ) from exc


def status(root: Path | None = None) -> NodeInfo | None:
    """The recorded node if it is running, else None (the record stays: see `recorded`)."""
    info = recorded(root)
    return info if info is not None and info.running else None


def _state_file(engine: str, directory: Path) -> Path:
    return directory / (f"{engine}-state.json" if engine == "anvil" else f"{engine}-db")


def start(
    engine: str = "anvil",
    port: int = DEFAULT_PORT,
    root: Path | None = None,
    *,
    fresh: bool = False,
    from_previous: bool = False,
    state_interval: int = 1,
    timeout: float = 30.0,
) -> NodeInfo:
    """Start a node in the background and wait until it answers JSON-RPC.

    Anvil is snapshotted every `state_interval` seconds when its chain moved (0: only at `stop`);
    Ganache writes every block to its database. A damaged Anvil state file is refused with the
    way out: `from_previous` (start from the previous snapshot) or `fresh` (an empty chain).
    """
    before = recorded(root)
    if before is not None and before.running:
        raise NodeError(
            f"a {before.engine} node is already running (pid {before.pid}, {before.url}): "
            "stop it first with `provenance node stop`"
        )
    binary = find_binary(engine)
    if port_in_use(port):
        raise NodeError(f"port {port} on {HOST} is already in use: pick another with --port")
    directory = node_dir(root)
    state = _state_file(engine, directory)
    if fresh:
        _discard(state)
    if engine == "anvil":
        _check_anvil_state(state, from_previous)
    known = before.chain_identity if before is not None else None
    for _attempt in range(3):
        info = _launch(engine, binary, port, directory, state, state_interval, timeout)
        identity = info.chain_identity
        # A fresh Anvil stamps its genesis block with the current second: started again within
        # the same second as the chain it replaces, it would have the same identity.
        if not (fresh and known is not None and identity == known):
            write_json_atomic(_record_path(root), info.to_json())
            return info
        _kill_group(info.pid)  # no last snapshot: this chain is discarded too
        _discard(state)
        time.sleep(1.1)
    raise NodeError("could not start a chain with a new genesis block")  # pragma: no cover


def _discard(state: Path) -> None:
    if state.is_dir():
        shutil.rmtree(state)
    else:
        state.unlink(missing_ok=True)
    previous_path(state).unlink(missing_ok=True)


def _check_anvil_state(state: Path, from_previous: bool) -> None:
    for stray in state.parent.glob(f".{state.name}.*.tmp"):  # a write cut short by a kill
        stray.unlink(missing_ok=True)
    if not state.exists() and not from_previous:
        return
    check = check_state(state)
    if check.ok and not from_previous:
        return
    prev = check_state(previous_path(state))
    if from_previous:
        if not prev.ok:
            raise NodeError(
                f"there is no intact previous snapshot ({prev.path}: {prev.problem}): start an "
                "empty chain with `provenance node start --fresh`"
            )
        if state.exists():
            state.replace(state.with_name(f"{state.stem}.damaged-{int(time.time())}.json"))
        shutil.copyfile(prev.path, state)
        return
    way_out = (
        f"`provenance node start --from-previous` starts from the previous snapshot {prev.path} "
        f"(block {prev.block}; later blocks are lost — `provenance outbox flush` sends again "
        "what this data directory signed), or `provenance node start --fresh` starts an empty "
        "chain"
        if prev.ok
        else "`provenance node start --fresh` starts an empty chain (no intact previous "
        "snapshot is left)"
    )
    raise NodeError(f"the node's state file {state} is damaged ({check.problem}): {way_out}")


def _launch(
    engine: str,
    binary: Path,
    port: int,
    directory: Path,
    state: Path,
    state_interval: int,
    timeout: float,
) -> NodeInfo:
    log = directory / f"{engine}.log"
    url = f"http://{HOST}:{port}"
    argv = command(engine, binary, port, state)
    if engine == "anvil":
        shutil.rmtree(anvil_cache(state), ignore_errors=True)  # a dead node's leftovers
        argv = [
            sys.executable, "-m", "provenance.snapshots", "keep", "--url", url,
            "--state", str(state), "--interval", str(state_interval), "--", *argv,
        ]  # fmt: skip
    env = {
        **os.environ,
        "PYTHONPATH": _package_root() + os.pathsep + os.environ.get("PYTHONPATH", ""),
    }
    with open(log, "ab") as log_file:
        process = subprocess.Popen(
            argv,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,  # survives the CLI process; stopped by pid
            env=env,
        )
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            tail = log.read_text(errors="replace").strip().splitlines()[-3:]
            raise NodeError(
                f"{engine} exited at start (code {process.returncode}): {' | '.join(tail)}"
            )
        if rpc_ready(url):
            identity = _identity(url)
            return NodeInfo(
                engine=engine,
                pid=process.pid,
                port=port,
                state_path=str(state),
                log_path=str(log),
                node_pid=_child_pid(process.pid) if engine == "anvil" else process.pid,
                identity=identity.to_json(),
                state_interval=state_interval,
                started_at=time.time(),
            )
        time.sleep(0.05)
    _kill_group(process.pid)
    raise NodeError(f"{engine} did not answer on {url} within {timeout:.0f} s; see {log}")


def _package_root() -> str:
    return str(Path(__file__).resolve().parent.parent)


def _child_pid(pid: int) -> int:
    """The pid of `pid`'s child (Anvil under its keeper), or 0."""
    with contextlib.suppress(OSError, ValueError):
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
        if children:
            return int(children[0])
    return 0


def stop(
    root: Path | None = None, *, timeout: float = 30.0, hard: bool = False, forget: bool = False
) -> NodeInfo | None:
    """Stop the recorded node (SIGTERM: Anvil's keeper takes a last snapshot; `hard` sends
    SIGKILL to both). Returns the node if it was running. The record stays unless `forget`."""
    info = recorded(root)
    if info is None:
        return None
    was_running = info.running
    if was_running or _pid_alive(info.pid) or _pid_alive(info.node_pid):
        if hard:
            _kill_group(info.pid)
            for pid in (info.node_pid,):
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    if pid > 0:
                        os.kill(pid, signal.SIGKILL)
        else:
            _terminate(info, timeout)
    if info.engine == "anvil" and info.state_path:
        shutil.rmtree(anvil_cache(Path(info.state_path)), ignore_errors=True)
    if forget:
        _record_path(root).unlink(missing_ok=True)
    return info if was_running else None


def _terminate(info: NodeInfo, timeout: float = 30.0) -> None:
    targets = [pid for pid in (info.pid, info.node_pid) if pid > 0 and _pid_alive(pid)]
    first = targets[:1] if _pid_alive(info.pid) else targets
    for pid in first:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while any(_pid_alive(pid) for pid in targets) and time.monotonic() < deadline:
        for pid in targets:
            _reap(pid)
        time.sleep(0.05)
    for pid in targets:
        if _pid_alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        _reap(pid)


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)
    _reap(pid)


def _reap(pid: int) -> None:
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def snapshot_now(root: Path | None = None) -> None:
    """Ask a running Anvil node's keeper for a snapshot at once (SIGUSR1)."""
    info = status(root)
    if info is None or info.engine != "anvil":
        raise NodeError("no Anvil node is running")
    os.kill(info.pid, signal.SIGUSR1)
