"""Index sync throughput and memory, and verify from the index against RPC, on Anvil, from a
chain holding up to 100,000 events.

    python scripts/benchmark_index.py                # 1k, 10k and 100k events
    python scripts/benchmark_index.py --sizes 1000,10000,50000
    python scripts/benchmark_index.py --quick        # 1k and 5k (a smoke run)

Before the bulk history, one batch gets a 10-level lineage (at each level it is handed to the
other party, who accepts it with title and splits it in two, the next level going on with the
first child): 51 events of its own, 10 ancestors. At each size `verify` of that batch runs
in-process (imports done, one warm-up run) from the index (`verify(..., index=…)`: SQLite up to
the tip, the tip checked on the chain, no top-up needed) and over RPC alone; the table gives the
median of several runs and the ratio, and the index time at the largest size against the
smallest (flat: ≤ 2).

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
import shutil
import statistics
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
from provenance.deploy import Deployment, deploy, record_path
from provenance.gs1 import batch_id, lot_to_bytes32
from provenance.records import NewBatch, Role
from provenance.registry import RegistryClient
from provenance.transactions import Transactor

ROOT = Path(__file__).resolve().parent.parent
GTIN = "09506000134352"
PREFIX = "9506000"
CHUNK = 200  # batches per bulk transaction
ZERO = b"\0" * 32
GOAL = 5_000
VERIFY_GOAL_MS = 50
LEVELS = 10


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
        self.nonces: dict[str, int] = {
            a.address: w3.eth.get_transaction_count(a.address) for a in dev_accounts(3)
        }
        self.fees = {"maxFeePerGas": 2 * w3.eth.gas_price + 10**9, "maxPriorityFeePerGas": 10**9}
        self.gas: dict[str, int] = {}

    def _sign(self, account: LocalAccount, call: Any, kind: str) -> bytes:
        if kind not in self.gas or kind.startswith(
            "once"
        ):  # measured once, on the first (state-independent enough) call
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

    def lineage(self, levels: int = LEVELS) -> tuple[str, int]:
        """A batch at the end of `levels` splits; returns it and the events of its lineage."""
        lot = "LIN"  # each child's lot extends its parent's (the registry requires it)
        new = [NewBatch(GTIN, lot, 10 * 2**levels).to_tuple()]
        self._send([self._sign(self.farm, self.contract.functions.createBatches(new), "once")])
        batch, holder, other, events = batch_id(GTIN, lot), self.farm, self.carrier, 1
        quantity = 10 * 2**levels
        for _ in range(levels):
            bid = bytes.fromhex(batch[2:])
            give = self.contract.functions.initiateHandoffs(
                [bid], other.address, 0, 0, 0, True, ZERO
            )
            self._send([self._sign(holder, give, "once")])
            take = self.contract.functions.acceptHandoffs([bid], ZERO)
            self._send([self._sign(other, take, "once")])
            holder, other = other, holder
            quantity //= 2
            parts = [(lot_to_bytes32(f"{lot}{'AB'[i]}"), quantity) for i in (0, 1)]
            split = self.contract.functions.splitBatch(bid, lot_to_bytes32(lot), parts, 0, ZERO)
            self._send([self._sign(holder, split, "once")])
            lot = f"{lot}A"
            batch = batch_id(GTIN, lot)
            events += 5  # initiated, accepted, consumed, split ×2
        return batch, events

    def long_history(self, events: int) -> str:
        """A batch handed back and forth until it has about `events` events of its own."""
        batch = batch_id(GTIN, "LONG")
        new = [NewBatch(GTIN, "LONG", 10).to_tuple()]
        self._send([self._sign(self.farm, self.contract.functions.createBatches(new), "once")])
        bid = bytes.fromhex(batch[2:])
        holder, other = self.farm, self.carrier
        raw: list[bytes] = []
        for turn in range(max(1, (events - 1) // 2)):
            give = self.contract.functions.initiateHandoffs(
                [bid], other.address, 0, 0, 0, False, ZERO
            )
            take = self.contract.functions.acceptHandoffs([bid], ZERO)
            if turn == 0:  # mined one by one: each gas estimate needs the state before it
                self._send([self._sign(holder, give, "give")])
                self._send([self._sign(other, take, "take")])
            else:  # then signed with the measured gas and pipelined
                raw += [self._sign(holder, give, "give"), self._sign(other, take, "take")]
            holder, other = other, holder
        self._send(raw)
        return batch

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
        "path": result["path"],
    }


def time_verify(
    chain: Chain, deployment: Deployment, batch: str, index: Path | None, runs: int
) -> tuple[float, Any]:
    """Median seconds of `runs` verifications (after one warm-up), and the last report."""
    from provenance.verify import verify

    report = verify(chain, deployment, batch, index=index)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        report = verify(chain, deployment, batch, index=index)
        times.append(time.perf_counter() - started)
    return statistics.median(times), report


def measure_verify(
    chain: Chain, deployment: Deployment, batch: str, index: Path, runs: int
) -> dict[str, Any]:
    from dataclasses import asdict

    by_index, indexed = time_verify(chain, deployment, batch, index, runs)
    by_rpc, plain = time_verify(chain, deployment, batch, None, max(3, runs // 4))
    same = {k: v for k, v in asdict(indexed).items() if k not in ("stats", "source", "as_of")}
    assert same == {k: v for k, v in asdict(plain).items() if k not in ("stats", "source", "as_of")}
    assert indexed.source == "index" and indexed.stats.get_logs_calls == 0
    return {
        "verify_batches": indexed.stats.batches,
        "verify_events": len(indexed.timeline),
        "verify_index_ms": round(by_index * 1000, 1),
        "verify_index_rpc_calls": indexed.stats.rpc_calls,
        "verify_rpc_ms": round(by_rpc * 1000, 1),
        "verify_rpc_calls": plain.stats.rpc_calls,
        "verify_ratio": round(by_rpc / by_index, 1),
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1k and 5k events (smoke run)")
    parser.add_argument("--sizes", help="comma-separated chain sizes (default 1000,10000,100000)")
    parser.add_argument("--runs", type=int, default=20, help="verify runs per path and size")
    parser.add_argument(
        "--own-history",
        type=int,
        default=None,
        help="events of one batch's own history, verified both ways (default 10,000; quick 200)",
    )
    args = parser.parse_args(argv)
    sizes: tuple[int, ...] = (1_000, 5_000) if args.quick else (1_000, 10_000, 100_000)
    if args.sizes:
        sizes = tuple(int(n) for n in args.sizes.split(","))
    if args.own_history is None:
        args.own_history = 200 if args.quick else 10_000
    rows = []
    started_all = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        info = node.start("anvil", free_port(), data, fresh=True, state_interval=0)
        try:
            chain = connect(info.url)
            deployment = deploy(chain, dev_accounts(1)[0], root=data, save=True)
            assert deployment.identity is not None
            record = record_path(deployment.identity, data)
            filler = Filler(chain, deployment, data)
            batch, lineage_events = filler.lineage()
            print(f"  a {LEVELS}-level lineage: {lineage_events} events", flush=True)
            held = lineage_events
            for size in sizes:
                print(f"  filling the chain to {size:,} events …", flush=True)
                started = time.perf_counter()
                held += filler.add(size - held)
                print(f"    {time.perf_counter() - started:.1f} s", flush=True)
                print(f"  syncing a fresh index of {held:,} events …", flush=True)
                row = {"chain_events": held, **measure(info.url, record, data)}
                index = Path(row.pop("path"))
                print("  verifying from the index and over RPC …", flush=True)
                row.update(measure_verify(chain, deployment, batch, index, args.runs))
                rows.append(row)
                shutil.rmtree(index.parent.parent)  # the index's home: keep the disk free
            long: dict[str, Any] = {}
            if args.own_history:
                print(f"  a batch with {args.own_history:,} events of its own …", flush=True)
                started = time.perf_counter()
                long_batch = filler.long_history(args.own_history)
                print(f"    {time.perf_counter() - started:.1f} s", flush=True)
                synced = measure(info.url, record, data)
                long = {"chain_events": synced["events"], "own_events": args.own_history}
                long |= measure_verify(chain, deployment, long_batch, Path(synced["path"]), 5)
                shutil.rmtree(Path(synced["path"]).parent.parent)
        finally:
            node.stop(data)
    first, last = rows[0], rows[-1]
    summary = {
        "lineage_levels": LEVELS,
        "lineage_events": lineage_events,
        "flat_ratio": round(last["verify_index_ms"] / first["verify_index_ms"], 2),
        "flat_sizes": [first["chain_events"], last["chain_events"]],
        "total_seconds": round(time.perf_counter() - started_all, 1),
        "own_history": long,
    }
    out = ROOT / "build" / "benchmark-index.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"rows": rows, "summary": summary}, indent=2) + "\n")
    print()
    print(render(rows, summary))


def render(rows: Sequence[dict[str, Any]], summary: dict[str, Any]) -> str:
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
    lines += [
        "",
        f"| events on the chain | verify from the index ms (goal ≤ {VERIFY_GOAL_MS}) | "
        "RPC calls | verify over RPC ms | RPC calls | RPC / index |",
        "|---:|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row['chain_events']:,} | {row['verify_index_ms']:.1f} | "
            f"{row['verify_index_rpc_calls']} | {row['verify_rpc_ms']:.1f} | "
            f"{row['verify_rpc_calls']} | {row['verify_ratio']:.1f}× |"
        )
    lines += [
        "",
        f"Lineage: {summary['lineage_levels']} levels, {summary['lineage_events']} events of its "
        f"own; index time at {summary['flat_sizes'][1]:,} events / at "
        f"{summary['flat_sizes'][0]:,}: {summary['flat_ratio']} (flat: ≤ 2). Whole run "
        f"{summary['total_seconds']} s.",
    ]
    long = summary.get("own_history") or {}
    if long:
        lines += [
            "",
            f"A batch with {long['own_events']:,} events of its own ({long['verify_events']:,} "
            f"in its timeline), on a chain of {long['chain_events']:,} events: "
            f"{long['verify_index_ms']:.1f} ms from the index, {long['verify_rpc_ms']:.1f} ms "
            f"over RPC ({long['verify_ratio']:.1f}×).",
        ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
