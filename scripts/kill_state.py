"""kill -9 during state snapshots: does the node's state ever get damaged?

Starts a `provenance node` (Anvil under its snapshot keeper) in a temporary data directory, grows
its state to `--size-mb` (contract code set on many accounts), then repeats: mine a block, ask for
a snapshot (SIGUSR1 to the keeper), SIGKILL Anvil and its keeper at a random moment within the
time a snapshot takes, check the state file, start the node again from it. A kill "during a
save" is one after which the state file was not replaced (the snapshot was cut short).

Counts as a corruption: a state file that is not a complete snapshot, a node that does not start
from it, or a chain that went back before the last completed snapshot.

    python scripts/kill_state.py --during-saves 20 --size-mb 20   # the long run: 20+ kills
                                                                  # inside saves (about a minute)
    python scripts/kill_state.py --kills 4 --size-mb 3            # what the test suite runs

`--kills N` kills N times wherever the kills land; `--during-saves N` goes on (after `--kills`)
until N of the kills landed inside a save.

`--anvil-own-saves` runs the same kills against Anvil saving its own state (`--state FILE
--state-interval 1`, what `provenance node` did before): the baseline the keeper replaces.

Prints the figures (and `--json`); exits 1 if anything was corrupted (except in the baseline).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import signal
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from provenance import node
from provenance.snapshots import check_state, rpc

CODE_BYTES = 24_000


@dataclass
class Figures:
    kills: int = 0
    during_save: int = 0  # the snapshot in progress was cut short
    after_save: int = 0  # the snapshot had completed when the kill landed
    corruptions: int = 0
    state_bytes: int = 0
    snapshot_seconds: float = 0.0
    problems: list[str] = field(default_factory=list)


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _grow(url: str, size_mb: float) -> None:
    """Set contract code on enough accounts that the state dump is about `size_mb` MB."""
    accounts = max(1, int(size_mb * 1_000_000 / (2 * CODE_BYTES)))
    for i in range(accounts):
        address = "0x" + (0xC0DE0000 + i).to_bytes(20, "big").hex()
        code = "0x" + (bytes([i % 256]) * CODE_BYTES).hex()
        rpc(url, "anvil_setCode", [address, code], 30.0)


def _block(url: str) -> int:
    return int(str(rpc(url, "eth_blockNumber", [], 10.0)), 16)


def _kill(info: node.NodeInfo) -> None:
    for pid in (info.node_pid, info.pid):
        if pid > 0:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
    for pid in (info.pid, info.node_pid):
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and node.port_in_use(info.port):
        time.sleep(0.02)  # the killed node's socket closes when the kernel has reaped it


def run(kills: int, size_mb: float, root: Path, seed: int = 1, during_saves: int = 0) -> Figures:
    """The experiment (see the module docstring) in data directory `root`: `kills` kills, then
    more until `during_saves` of them landed inside a save (at most 10 × that many in all)."""
    rng = random.Random(seed)
    figures = Figures()
    port = _free_port()
    info = node.start("anvil", port, root, fresh=True, state_interval=0)
    state = Path(info.state_path)
    try:
        _grow(info.url, size_mb)
        # One clean snapshot first, to know what a save costs.
        started = time.monotonic()
        node.snapshot_now(root)
        while not state.exists():
            time.sleep(0.01)
        figures.snapshot_seconds = time.monotonic() - started
        figures.state_bytes = state.stat().st_size
        good_block = check_state(state).block or 0
        limit = max(kills, 10 * during_saves)
        while figures.kills < limit and (
            figures.kills < kills or figures.during_save < during_saves
        ):
            rpc(info.url, "evm_mine", [], 10.0)
            mined = _block(info.url)
            before = state.stat().st_mtime_ns
            node.snapshot_now(root)
            time.sleep(rng.uniform(0.0, 1.2 * figures.snapshot_seconds))
            _kill(info)
            figures.kills += 1
            check = check_state(state)
            if not check.ok:
                figures.corruptions += 1
                figures.problems.append(f"kill {figures.kills}: {check.problem}")
                break
            if state.stat().st_mtime_ns == before:
                figures.during_save += 1
            else:
                figures.after_save += 1
                good_block = check.block or good_block
            try:
                info = node.start("anvil", port, root, state_interval=0)
            except Exception as exc:  # the experiment reports, it does not stop on the first
                figures.corruptions += 1
                figures.problems.append(f"kill {figures.kills}: restart failed: {exc}")
                break
            now = _block(info.url)
            if now < good_block or now > mined:
                figures.corruptions += 1
                figures.problems.append(
                    f"kill {figures.kills}: restarted at block {now}, last good snapshot "
                    f"{good_block}, mined {mined}"
                )
    finally:
        node.stop(root, hard=True)
    return figures


def baseline(kills: int, size_mb: float, root: Path, seed: int = 1) -> Figures:
    """The same kills against Anvil's own periodic saves (`--state`, `--state-interval 1`)."""
    import subprocess

    rng = random.Random(seed)
    figures = Figures()
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    state = root / "anvil-own-state.json"
    argv = [str(node.find_binary("anvil")), "--port", str(port), "--state", str(state),
            "--state-interval", "1", "--silent"]  # fmt: skip
    for number in range(kills + 1):
        process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + 30
        while not node.rpc_ready(url) and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        if process.poll() is not None:
            error = (process.stderr.read() if process.stderr else b"").decode(errors="replace")
            figures.corruptions += 1
            figures.problems.append(f"kill {figures.kills}: anvil does not start: {error[:200]}")
            break
        if number == 0:
            _grow(url, size_mb)
            time.sleep(2.5)  # its first saves
            figures.state_bytes = state.stat().st_size if state.exists() else 0
        if number == kills:
            process.kill()
            break
        rpc(url, "evm_mine", [], 10.0)
        time.sleep(rng.uniform(0.0, 1.5))
        process.kill()
        process.wait()
        figures.kills += 1
        check = check_state(state)
        if not check.ok:
            figures.corruptions += 1
            figures.problems.append(f"kill {figures.kills}: {check.problem}")
            state.unlink()
    return figures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument(
        "--during-saves", type=int, default=0, help="go on until this many kills landed in a save"
    )
    parser.add_argument("--size-mb", type=float, default=20.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--anvil-own-saves", action="store_true", help="the baseline: Anvil saving itself"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="provenance-kill-") as tmp:
        if args.anvil_own_saves:
            figures = baseline(args.kills, args.size_mb, Path(tmp), args.seed)
        else:
            figures = run(args.kills, args.size_mb, Path(tmp), args.seed, args.during_saves)
    if args.json:
        print(json.dumps(asdict(figures), indent=2))
    else:
        print(f"kills                {figures.kills}")
        print(f"  during a save      {figures.during_save}")
        print(f"  after a save       {figures.after_save}")
        print(f"state size           {figures.state_bytes / 1e6:.1f} MB")
        print(f"one snapshot takes   {figures.snapshot_seconds:.2f} s")
        print(f"corruptions          {figures.corruptions}")
        for problem in figures.problems:
            print(f"  {problem}")
    if figures.during_save < args.during_saves:
        print(f"only {figures.during_save} kills landed inside a save (wanted {args.during_saves})")
        return 1
    return 1 if figures.corruptions and not args.anvil_own_saves else 0


if __name__ == "__main__":
    sys.exit(main())
