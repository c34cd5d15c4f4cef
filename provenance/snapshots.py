"""Anvil state snapshots that survive kill -9 at any moment, and the keeper process that takes them.

Anvil's own `--state-interval` rewrites its state file in place, so a kill during a save leaves a
truncated file and the next start fails on it. Instead, `provenance node start` runs Anvil under
a small keeper (`python -m provenance.snapshots keep …`, standard library only) that:

- starts Anvil with `--load-state` of the last good snapshot (and no dumping of its own);
- every `interval` seconds, when the chain's head moved, asks Anvil for its state
  (`anvil_dumpState`: gzip-compressed JSON), checks that it is complete (gzip CRC and JSON
  parse), writes it to a temporary file, fsyncs it and renames it over the state file — the
  previous snapshot is kept as `<state>.prev.json` (hard link, replaced atomically too);
- on SIGTERM (`provenance node stop`) takes a last snapshot and stops Anvil; on SIGUSR1 takes a
  snapshot at once; exits when Anvil dies.

At every moment the state file is either the old complete snapshot or the new complete one: a
kill of Anvil during a dump loses the dump, a kill of the keeper during a write leaves a stray
temporary file. `check_state` tells a damaged file (written by something else) from a good one,
so `node start` can say how to go on.
"""

from __future__ import annotations

import argparse
import contextlib
import gzip
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass
from pathlib import Path

#: Seconds a dump may take (a large chain is tens of MB).
DUMP_TIMEOUT = 120.0
#: Snapshot at least this often even when the head did not move (balances set by RPC…).
IDLE_SNAPSHOT_SECONDS = 60.0


def previous_path(state: Path) -> Path:
    return state.with_name(state.stem + ".prev" + state.suffix)


@dataclass(frozen=True)
class StateCheck:
    """What is in a state file: `ok`, its latest block number, or why it is damaged."""

    path: Path
    ok: bool
    block: int | None = None
    problem: str = ""
    size: int = 0


def check_state(path: Path) -> StateCheck:
    """Whether `path` holds a complete Anvil state snapshot (parsed, not trusted by size)."""
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return StateCheck(path, False, problem="missing")
    except OSError as exc:
        return StateCheck(path, False, problem=exc.strerror or str(exc))
    try:
        data = json.loads(raw)
    except ValueError as exc:
        return StateCheck(path, False, problem=f"not complete JSON ({exc})", size=len(raw))
    if not isinstance(data, dict) or "accounts" not in data:
        return StateCheck(path, False, problem="not an Anvil state snapshot", size=len(raw))
    number = data.get("best_block_number")
    block = int(number, 16) if isinstance(number, str) else number
    return StateCheck(path, True, block if isinstance(block, int) else None, size=len(raw))


def rpc(url: str, method: str, params: list[object], timeout: float) -> object:
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
    request = urllib.request.Request(url, body, {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        answer = json.loads(response.read())
    if "error" in answer:
        raise RuntimeError(f"{method}: {answer['error']}")
    return answer["result"]


def dump(url: str, timeout: float = DUMP_TIMEOUT) -> bytes:
    """Anvil's whole state as JSON bytes, checked complete; raises if anything is off."""
    result = rpc(url, "anvil_dumpState", [], timeout)
    if not isinstance(result, str) or not result.startswith("0x"):
        raise RuntimeError("anvil_dumpState returned no hex data")
    data = gzip.decompress(bytes.fromhex(result[2:]))  # the CRC proves the stream complete
    json.loads(data)
    return data


def write_snapshot(state: Path, data: bytes) -> None:
    """Replace `state` by `data` atomically, keeping the current file as the previous one."""
    fd, tmp = tempfile.mkstemp(dir=state.parent, prefix=f".{state.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if state.exists():
            prev = previous_path(state)
            link = state.with_name(f".{prev.name}.{os.getpid()}.link")
            link.unlink(missing_ok=True)
            os.link(state, link)
            os.replace(link, prev)
        os.replace(tmp, state)
        dirfd = os.open(state.parent, os.O_RDONLY)
        try:
            os.fsync(dirfd)
        finally:
            os.close(dirfd)
    finally:
        Path(tmp).unlink(missing_ok=True)


def snapshot(url: str, state: Path) -> int:
    """Dump and write one snapshot; returns its size."""
    data = dump(url)
    write_snapshot(state, data)
    return len(data)


class Keeper:
    """Runs Anvil and snapshots its state (see the module docstring)."""

    def __init__(self, command: list[str], url: str, state: Path, interval: float) -> None:
        self.command = command
        self.url = url
        self.state = state
        self.interval = interval
        self.process: subprocess.Popen[bytes] | None = None
        self.stopping = threading.Event()
        self.wanted = threading.Event()
        self.wake = threading.Event()  # set by either signal: the loop reacts at once
        self.lock = threading.Lock()
        self.head: object = None
        self.last = 0.0  # when a snapshot was last considered
        self.written = 0.0  # when one was last written

    def run(self) -> int:
        def stop(*_: object) -> None:
            self.stopping.set()
            self.wake.set()

        def want(*_: object) -> None:
            self.wanted.set()
            self.wake.set()

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGUSR1, want)
        self.process = subprocess.Popen(self.command, stdin=subprocess.DEVNULL)
        self.last = time.monotonic()
        while not self.stopping.is_set():
            if self.process.poll() is not None:
                log(f"anvil exited (code {self.process.returncode}); the keeper stops")
                return 3
            due = self.interval > 0 and time.monotonic() - self.last >= self.interval
            if self.wanted.is_set() or due:
                forced = self.wanted.is_set()
                self.wanted.clear()
                self.take(force=forced)
            self.wake.wait(0.2)
            self.wake.clear()
        self.take(force=True)
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        return 0

    def take(self, *, force: bool) -> None:
        self.last = time.monotonic()
        try:
            head = rpc(self.url, "eth_getBlockByNumber", ["latest", False], 5.0)
        except (OSError, ValueError, RuntimeError, urllib.error.URLError):
            return
        key = head.get("hash") if isinstance(head, dict) else head
        idle = time.monotonic() - self.written > IDLE_SNAPSHOT_SECONDS
        if not force and key == self.head and not idle:
            return
        with self.lock:
            try:
                size = snapshot(self.url, self.state)
            except (OSError, ValueError, RuntimeError, EOFError, zlib.error) as exc:
                log(f"snapshot failed, the previous one stays: {exc}")
                return
        self.head = key
        self.written = time.monotonic()
        log(f"snapshot {size} bytes at head {key}")


def log(message: str) -> None:
    stamp = time.strftime("%Y-%m-%d %H:%M:%S")
    with contextlib.suppress(OSError):
        print(f"[keeper {stamp}] {message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m provenance.snapshots")
    sub = parser.add_subparsers(dest="command", required=True)
    keep = sub.add_parser("keep", help="run Anvil and snapshot its state")
    keep.add_argument("--url", required=True)
    keep.add_argument("--state", required=True, type=Path)
    keep.add_argument("--interval", type=float, default=1.0)
    keep.add_argument("anvil", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = [a for a in args.anvil if a != "--"]
    return Keeper(command, args.url, args.state, args.interval).run()


if __name__ == "__main__":
    sys.exit(main())
