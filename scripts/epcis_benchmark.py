"""Benchmark: import a generated 10,000-event EPCIS document on Anvil through the bulk entry
points, against the same kind of events sent as single-event transactions.

    python scripts/epcis_benchmark.py [--events 10000] [--single 1000] [--chunk 150]

The document: groups of 20 events — 19 commissionings of one batch each (ObjectEvent ADD, 1.5 KGM
→ 1500 GRM) and one shipment of those 19 batches to the processor. Bulk: `epcis import` (plan,
store, createBatches of `--chunk` batches per transaction, pipelined; one initiateHandoffs per
shipment). Single: each event its own transaction (createBatch / initiateHandoffs), sent and
confirmed one after the other, hashing included; measured on `--single` events (the rate is
flat). Both runs use a fresh Anvil and print events per second; the ratio is the speed-up.

    python scripts/epcis_benchmark.py --export 100000

commissions 100,000 batches and streams `epcis export --all` of them, printing the time and the
process's peak RSS at 10 % and at 100 % of the blocks (flat memory: the two are close).
"""

from __future__ import annotations

import argparse
import json
import socket
import tempfile
import time
from pathlib import Path
from typing import Any

from provenance import node
from provenance.chain import connect, dev_accounts
from provenance.deploy import deploy
from provenance.epcis.document import parse
from provenance.epcis.hashing import anchor_of
from provenance.epcis.importer import RECORDED, import_events
from provenance.epcis.mapping import interpret
from provenance.epcis.store import EventStore
from provenance.gs1 import batch_id
from provenance.outbox import Outbox
from provenance.records import Role
from provenance.registry import RegistryClient
from provenance.transactions import Transactor

GTIN = "09506000134352"
FARM_GLN, PROCESSOR_GLN = 9506000000015, 9521234000020
GROUP = 20


def generate(count: int, prefix: str = "B") -> dict[str, Any]:
    """An EPCISDocument of `count` events (see the module docstring)."""
    events: list[dict[str, Any]] = []
    pending: list[str] = []
    for i in range(count):
        stamp = f"2026-03-01T{(i // 3600) % 24:02d}:{(i // 60) % 60:02d}:{i % 60:02d}.000+01:00"
        common = {"eventTime": stamp, "eventTimeZoneOffset": "+01:00"}
        if i % GROUP == GROUP - 1 and pending:
            events.append({
                "type": "ObjectEvent", **common, "action": "OBSERVE", "bizStep": "shipping",
                "disposition": "in_transit",
                "quantityList": [{"epcClass": f"https://id.gs1.org/01/{GTIN}/10/{lot}",
                                  "quantity": 1500, "uom": "GRM"} for lot in pending],
                "sourceList": [{"type": "possessing_party",
                                "source": f"https://id.gs1.org/417/{FARM_GLN}"}],
                "destinationList": [{"type": "possessing_party",
                                     "destination": f"https://id.gs1.org/417/{PROCESSOR_GLN}"}],
            })  # fmt: skip
            pending = []
            continue
        lot = f"{prefix}{i}"
        pending.append(lot)
        events.append({
            "type": "ObjectEvent", **common, "action": "ADD", "bizStep": "commissioning",
            "quantityList": [{"epcClass": f"https://id.gs1.org/01/{GTIN}/10/{lot}",
                              "quantity": 1.5, "uom": "KGM"}],
        })  # fmt: skip
    return {
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-03-01T00:00:00.000Z",
        "epcisBody": {"eventList": events},
    }


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fresh_chain(root: Path) -> tuple[Any, Any, RegistryClient]:
    info = node.start("anvil", free_port(), root, fresh=True)
    chain = connect(info.url)
    accounts = dev_accounts()
    deployment = deploy(chain, accounts[0], save=True, root=root)
    operator = RegistryClient.from_deployment(
        chain, deployment, Transactor(chain, accounts[0], root=root)
    )
    operator.register_participant(accounts[1].address, Role.PRODUCER, FARM_GLN)
    operator.register_participant(accounts[3].address, Role.PROCESSOR, PROCESSOR_GLN)
    operator.assign_prefix(accounts[1].address, "9506000")
    return info, chain, deployment


def bulk(count: int, chunk: int, root: Path) -> float:
    _info, chain, deployment = fresh_chain(root)
    try:
        farm = dev_accounts()[1]
        client = RegistryClient.from_deployment(
            chain, deployment, Transactor(chain, farm, Outbox(root / "outbox"), root=root)
        )
        text = json.dumps(generate(count))
        started = time.monotonic()
        report = import_events(
            client, parse(text, "bench.jsonld"), store=EventStore(root / "store"), chunk_size=chunk
        )
        seconds = time.monotonic() - started
        recorded = report.count(RECORDED)
        assert recorded == count, report.to_json()["counts"]
        print(f"bulk:   {count} events, {report.transactions} transactions, {seconds:.1f} s, "
              f"{count / seconds:.0f} events/s")  # fmt: skip
        return count / seconds
    finally:
        node.stop(root)


def single(count: int, root: Path) -> float:
    _info, chain, deployment = fresh_chain(root)
    try:
        farm = dev_accounts()[1]
        client = RegistryClient.from_deployment(
            chain, deployment, Transactor(chain, farm, Outbox(root / "outbox"), root=root)
        )
        processor = dev_accounts()[3].address
        started = time.monotonic()
        for event in parse(json.dumps(generate(count, "S")), "single.jsonld"):
            anchor = anchor_of(event.gs1_hash())
            EventStore(root / "store").put(anchor, event.standalone())
            intent = interpret(event.exact)
            lines = intent.lines
            if intent.destination:
                client.initiate_handoffs(
                    [batch_id(x.key.gtin, x.key.lot) for x in lines], processor, document=anchor
                )
            else:
                x = lines[0]
                client.create_batch(x.key.gtin, x.key.lot, x.amount.quantity, x.amount.uom, anchor)
        seconds = time.monotonic() - started
        print(f"single: {count} events, {count} transactions, {seconds:.1f} s, "
              f"{count / seconds:.0f} events/s")  # fmt: skip
        return count / seconds
    finally:
        node.stop(root)


def export_run(count: int, root: Path) -> None:
    """Commission `count` batches (createBatches, 200 per transaction), then stream `epcis
    export --all` of them to /dev/null, sampling the peak RSS along the way."""
    import os
    import resource

    from provenance.encoding import to_hex32
    from provenance.epcis.export import export
    from provenance.records import NewBatch

    _info, chain, deployment = fresh_chain(root)
    try:
        farm = dev_accounts()[1]
        client = RegistryClient.from_deployment(
            chain, deployment, Transactor(chain, farm, root=root)
        )
        functions = client.contract.functions
        for start in range(0, count, 200 * 8):
            calls = []
            for chunk in range(start, min(count, start + 200 * 8), 200):
                items = [
                    NewBatch(GTIN, f"X{i}", 10, "KGM", to_hex32(i + 1)).to_tuple()
                    for i in range(chunk, min(count, chunk + 200))
                ]  # one event each
                calls.append(functions.createBatches(items))
            client.transactor.send_many(calls, gas=14_000_000)  # type: ignore[union-attr]
        samples: list[tuple[int, int]] = []

        def progress(done: int, total: int) -> None:
            samples.append(
                (done * 100 // max(total, 1), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
            )

        reader = RegistryClient.from_deployment(chain, deployment)
        started = time.monotonic()
        with open(os.devnull, "w") as sink:
            stats = export(reader, sink, store=None, window=20, progress=progress)
        seconds = time.monotonic() - started
        first = next((kib for pct, kib in samples if pct >= 10), samples[0][1])
        print(f"export: {stats.events} events, {seconds:.1f} s, {stats.events / seconds:.0f} "
              f"events/s; peak RSS {first / 1024:.0f} MiB at 10 %, {samples[-1][1] / 1024:.0f} MiB "
              "at 100 %")  # fmt: skip
    finally:
        node.stop(root)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--single", type=int, default=1_000)
    parser.add_argument("--chunk", type=int, default=150)
    parser.add_argument("--export", type=int, default=0, help="also export N events (memory)")
    args = parser.parse_args()
    if args.export:
        with tempfile.TemporaryDirectory() as c:
            export_run(args.export, Path(c))
        return
    with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
        fast = bulk(args.events, args.chunk, Path(a))
        slow = single(args.single, Path(b))
    print(f"speed-up: {fast / slow:.1f}x (target >= 10x)")


if __name__ == "__main__":
    main()
