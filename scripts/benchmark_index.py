"""Index sync throughput and memory on Anvil, from a chain holding up to 100,000 events.

    python scripts/benchmark_index.py                # 10k, 50k and 100k events
    python scripts/benchmark_index.py --quick        # 2k and 10k (a smoke run)

The chain is filled with the registry's bulk entry points (`createBatches`, `initiateHandoffs`,
`acceptHandoffs`, 200 batches a transaction: 3 events per batch). At each size a fresh index is
synced by `provenance index sync --json` in a child process; the table shows the sync's own time
and rate (from its JSON), the child's wall time (imports included) and its peak RSS (from
`wait4`), so that a flat memory shows as the same peak at every size. Goal: >= 5,000 events/s.

Results are printed as a Markdown table and written to build/benchmark-index.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount

from provenance import node
from provenance.chain import Chain, connect, dev_accounts
from provenance.deploy import Deployment, deploy
from provenance.gs1 import batch_id
from provenance.records import NewBatch, Role
from provenance.registry import RegistryClient
from provenance.transactions import Transactor

ROOT = Path(__file__).resolve().parent.parent
GTIN = "09506000134352"
PREFIX = "9506000"
CHUNK = 200  # batches per bulk transaction
ZERO = b"\0" * 32
GOAL = 5_000


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Filler:
    """Adds events to the chain with the bulk entry points, pipelined."""

    def __init__(self, chain: Chain, deployment: Deployment, data: Path) -> None:
        self.chain = chain
        self.operator, self.farm, self.carrier = dev_accounts(3)
        operator = RegistryClient.from_deployment(
            chain, deployment, Transactor(chain, self.operator, root=data)
        )
        operator.register_participant(self.farm.address, Role.PRODUCER)
        operator.register_participant(self.carrier.address, Role.CARRIER)
        operator.assign_prefix(self.farm.address, PREFIX)
        self.contract = operator.contract
        self.lots = 0
        w3 = chain.w3
        self.nonces = {a.address: w3.eth.get_transaction_count(a.address) for a in dev_accounts(3)}
        self.fees = {"maxFeePerGas": 2 * w3.eth.gas_price + 10**9, "maxPriorityFeePerGas": 10**9}
        self.gas: dict[str, int] = {}

    def _sign(self, account: LocalAccount, call: Any, kind: str) -> bytes:
        if kind not in self.gas:  # measured once, on the first (state-independent enough) call
            self.gas[kind] = int(call.estimate_gas({"from": account.address}) * 1.3)
        tx = call.build_transaction(
            {
                "from": account.address,
                "nonce": self.nonces[account.address],
                "gas": self.gas[kind],
                **self.fees,
            }
        )
        self.nonces[account.address] += 1
        return bytes(account.sign_transaction(tx).raw_transaction)

    def _send(self, raw: Sequence[bytes]) -> None:
        w3 = self.chain.w3
        # Anvil mines each transaction on arrival; waiting after every hundred keeps its pool small.
        for start in range(0, len(raw), 100):
            last = b""
            for item in raw[start : start + 100]:
                last = bytes(w3.eth.send_raw_transaction(item))
            receipt = self.chain.wait_for_receipt(last, timeout=600)
            assert receipt["status"] == 1, "a bulk transaction reverted"

    def add(self, events: int) -> int:
        """About `events` more events (3 per batch: created, handed off, accepted)."""
        batches = max(1, events // 3)
        added = 0
        while added < batches:
            count = min(CHUNK, batches - added)
            lots = [f"L{self.lots + i}" for i in range(count)]
            self.lots += count
            new = [NewBatch(GTIN, lot, 10).to_tuple() for lot in lots]
            ids = [bytes.fromhex(batch_id(GTIN, lot)[2:]) for lot in lots]
            # One transaction at a time for creation: the hand-off needs the batches to exist
            # when its gas is estimated the first time.
            self._send([self._sign(self.farm, self.contract.functions.createBatches(new), "c")])
            handoff = self.contract.functions.initiateHandoffs(
                ids, self.carrier.address, 0, 0, 0, False, ZERO
            )
            self._send([self._sign(self.farm, handoff, "h")])
            accept = self.contract.functions.acceptHandoffs(ids, ZERO)
            self._send([self._sign(self.carrier, accept, "a")])
            added += count
        return added * 3


def measure(url: str, record: Path, workdir: Path) -> dict[str, Any]:
    """`provenance index sync --json` into a fresh home, in a child process."""
    home = workdir / f"home-{time.monotonic_ns()}"
    (home / "deployments").mkdir(parents=True)
    (home / "deployments" / record.name).write_text(record.read_text())
    env = {**os.environ, "PROVENANCE_HOME": str(home), "PROVENANCE_RPC": url}
    out = home / "sync.json"
    started = time.perf_counter()
    with out.open("w") as handle:
        child = subprocess.Popen(
            [sys.executable, "-m", "provenance", "index", "sync", "--json"],
            env=env,
            cwd=ROOT,
            stdout=handle,
        )
        _, status, usage = os.wait4(child.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"index sync failed (exit {os.waitstatus_to_exitcode(status)})")
    result = json.loads(out.read_text())
    return {
        "events": result["events_added"],
        "sync_seconds": result["seconds"],
        "events_per_second": round(result["events_added"] / result["seconds"]),
        "process_seconds": round(wall, 2),
        "peak_rss_mib": round(usage.ru_maxrss / 1024, 1),  # Linux: KiB
        "pages": result["pages"],
        "http_requests": result["rpc"]["http_requests"],
        "index_mib": round(Path(result["path"]).stat().st_size / 2**20, 1),
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2k and 10k events (smoke run)")
    args = parser.parse_args(argv)
    sizes = (2_000, 10_000) if args.quick else (10_000, 50_000, 100_000)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        info = node.start("anvil", free_port(), data, fresh=True, state_interval=0)
        try:
            chain = connect(info.url)
            deployment = deploy(chain, dev_accounts(1)[0], root=data, save=True)
            record = data / "deployments" / f"{deployment.chain_id}.json"
            filler = Filler(chain, deployment, data)
            held = 0
            for size in sizes:
                print(f"  filling the chain to {size:,} events …", flush=True)
                started = time.perf_counter()
                held += filler.add(size - held)
                print(f"    {time.perf_counter() - started:.1f} s", flush=True)
                print(f"  syncing a fresh index of {held:,} events …", flush=True)
                rows.append({"chain_events": held, **measure(info.url, record, data)})
        finally:
            node.stop(data)
    out = ROOT / "build" / "benchmark-index.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(rows, indent=2) + "\n")
    print()
    print(render(rows))


def render(rows: Sequence[dict[str, Any]]) -> str:
    lines = [
        "| events on the chain | events indexed | sync s | events/s (goal ≥ 5,000) | "
        "process s (with imports) | peak RSS MiB | pages | HTTP requests | index MiB |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row['chain_events']:,} | {row['events']:,} | {row['sync_seconds']:.2f} | "
            f"{row['events_per_second']:,} | {row['process_seconds']:.2f} | "
            f"{row['peak_rss_mib']:.1f} | {row['pages']} | {row['http_requests']} | "
            f"{row['index_mib']:.1f} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
