"""Throughput and latency of the resolver (`provenance serve`) on Anvil, requests to 127.0.0.1 only.

    python scripts/web_benchmark.py              # full run, rewrites the README table
    python scripts/web_benchmark.py --quick      # shorter runs, README untouched

Three chains, each on its own Anvil with its own `provenance serve` process: the demo's (lot A's
page, 11 events in its lineage); one whose batch has a history of 10,000 events (over RPC); and
one of 100,000 events (`--chain-events`) with a local index synced before the server starts,
serving a batch with a 10-level lineage. For each, the verification page and the JSON report are
measured:

- cold: the first request (the report is built from the chain's logs, then cached);
- closed loop: 1, 10 and 50 clients, each sending its next request when the last one answered,
  for `--seconds` (at most `--max-requests` requests): pages/s, p50 and p95 latency;
- open loop: a fixed 50 requests/s for `--seconds`, latency measured from each request's
  scheduled time (so a slow server cannot hide its queue): p50, p95.

Targets (issue 12): >= 100 pages/s with 10 closed-loop clients; p95 <= 100 ms at an open-loop
50 requests/s. The load generator, the server and Anvil share this machine's cores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from benchmark import GTIN, Bench
from readme_section import replace_section

from provenance import node
from provenance.chain import connect, dev_accounts
from provenance.demo import run
from provenance.deploy import deploy

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"  # the only host this script sends requests to
CLIENTS = (1, 10, 50)
OPEN_RATE = 50


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@contextmanager
def server(rpc: str, home: Path, directory: Path | None = None) -> Iterator[str]:
    """`provenance serve` in its own process, as an operator runs it."""
    port = free_port()
    args = [sys.executable, "-m", "provenance", "--rpc", rpc, "serve", "--port", str(port)]
    if directory is not None:
        args += ["--directory", str(directory)]
    process = subprocess.Popen(
        args, env={**os.environ, "PROVENANCE_HOME": str(home)}, stdout=subprocess.DEVNULL
    )
    base = f"http://{HOST}:{port}"
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                httpx.get(base + "/", timeout=5)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        yield base
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=30)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


async def closed_loop(url: str, clients: int, seconds: float, limit: int) -> dict[str, Any]:
    latencies: list[float] = []
    errors = 0
    stop = time.perf_counter() + seconds
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=clients)) as client:

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < stop and len(latencies) < limit:
                start = time.perf_counter()
                answer = await client.get(url, timeout=30)
                latencies.append(time.perf_counter() - start)
                errors += answer.status_code != 200

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(clients)))
        elapsed = time.perf_counter() - started
    return {
        "clients": clients,
        "requests": len(latencies),
        "per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(percentile(latencies, 0.5) * 1000, 1),
        "p95_ms": round(percentile(latencies, 0.95) * 1000, 1),
        "errors": errors,
    }


async def open_loop(url: str, rate: float, seconds: float) -> dict[str, Any]:
    latencies: list[float] = []
    errors = 0
    count = int(rate * seconds)
    async with httpx.AsyncClient(limits=httpx.Limits(max_connections=200)) as client:
        begin = time.perf_counter() + 0.1

        async def one(i: int) -> None:
            nonlocal errors
            scheduled = begin + i / rate
            await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
            answer = await client.get(url, timeout=30)
            latencies.append(time.perf_counter() - scheduled)
            errors += answer.status_code != 200

        await asyncio.gather(*(one(i) for i in range(count)))
    return {
        "rate": rate,
        "requests": len(latencies),
        "p50_ms": round(percentile(latencies, 0.5) * 1000, 1),
        "p95_ms": round(percentile(latencies, 0.95) * 1000, 1),
        "max_ms": round(max(latencies) * 1000, 1),
        "errors": errors,
    }


def measure(name: str, url: str, seconds: float, limit: int) -> list[dict[str, Any]]:
    rows = []
    for kind, target in (("page", url), ("JSON", url + "?format=json")):
        start = time.perf_counter()
        first = httpx.get(target, timeout=600)
        cold = time.perf_counter() - start
        assert first.status_code == 200, (target, first.status_code)
        row: dict[str, Any] = {"chain": name, "kind": kind, "cold_s": round(cold, 3)}
        row["closed"] = [asyncio.run(closed_loop(target, n, seconds, limit)) for n in CLIENTS]
        row["open"] = asyncio.run(open_loop(target, OPEN_RATE, seconds))
        print(f"  {name} {kind}: cold {cold:.3f} s, " + ", ".join(
            f"{r['clients']} clients {r['per_s']}/s p95 {r['p95_ms']} ms" for r in row["closed"]
        ) + f"; open {OPEN_RATE}/s p95 {row['open']['p95_ms']} ms", flush=True)  # fmt: skip
        rows.append(row)
    return rows


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short runs, 1,000 events")
    parser.add_argument("--seconds", type=float, default=None, help="length of each run")
    parser.add_argument("--max-requests", type=int, default=20_000, help="cap per closed run")
    parser.add_argument("--events", type=int, default=None, help="events of the long history")
    parser.add_argument(
        "--chain-events",
        type=int,
        default=None,
        help="events on the indexed chain (default 100,000; quick 5,000; 0 skips it)",
    )
    parser.add_argument(
        "--render", action="store_true", help="rewrite the README table from the last results"
    )
    args = parser.parse_args(argv)
    seconds = args.seconds or (2.0 if args.quick else 8.0)
    out = ROOT / "build" / "web-benchmark.json"
    if args.render:
        saved = json.loads(out.read_text())
        replace_section("web-benchmark", render(saved["rows"], saved["seconds"]))
        return
    events = args.events or (1_000 if args.quick else 10_000)
    chain_events = (
        (5_000 if args.quick else 100_000) if args.chain_events is None else args.chain_events
    )
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="provenance-web-bench-") as tmp:
        demo_home, long_home = Path(tmp) / "demo", Path(tmp) / "long"
        nodes = []
        try:
            demo_node = node.start("anvil", free_port(), demo_home, fresh=True, state_interval=0)
            nodes.append(demo_home)
            result = run(connect(demo_node.url), save=True, root=demo_home)
            directory = demo_home / "participants.json"
            result.directory.save(directory)
            long_node = node.start("anvil", free_port(), long_home, fresh=True, state_interval=0)
            nodes.append(long_home)
            chain = connect(long_node.url)
            bench = Bench(chain, deploy(chain, dev_accounts(1)[0], root=long_home), long_home)
            bench.setup_participants()
            print(f"building a history of {events:,} events …", flush=True)
            bench.history(events)
            long_lot = f"B{bench._lots - 1}"
            print(f"measuring ({seconds:g} s a run, requests to {HOST} only)", flush=True)
            with server(demo_node.url, demo_home, directory) as base:
                rows += measure("demo", f"{base}/01/09521234000013/10/JAM-2026-01-A", seconds,
                                args.max_requests)  # fmt: skip
            with server(long_node.url, long_home) as base:
                gtin = str(GTIN).zfill(14)
                rows += measure(f"{events:,} events", f"{base}/01/{gtin}/10/{long_lot}",
                                seconds, args.max_requests)  # fmt: skip
            node.stop(long_home)
            nodes.remove(long_home)
            if chain_events:
                big_home = Path(tmp) / "big"
                rows += indexed_chain(big_home, chain_events, seconds, args.max_requests, nodes)
        finally:
            for home in nodes:
                node.stop(home)
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"seconds": seconds, "rows": rows}, indent=2) + "\n")
    table = render(rows, seconds)
    print()
    print(table)
    if not args.quick:
        replace_section("web-benchmark", table)


def indexed_chain(
    home: Path, events: int, seconds: float, limit: int, nodes: list[Path]
) -> list[dict[str, Any]]:
    """A chain of about `events` events (bulk entry points), a batch with a 10-level lineage on
    it, an index synced before the server starts: what a consortium's read server serves."""
    from benchmark_index import GTIN as LINEAGE_GTIN
    from benchmark_index import LEVELS, Filler

    from provenance.index import sync

    info = node.start("anvil", free_port(), home, fresh=True, state_interval=0)
    nodes.append(home)
    chain = connect(info.url)
    deployment = deploy(chain, dev_accounts(1)[0], root=home, save=True)
    filler = Filler(chain, deployment, home)
    _batch, held = filler.lineage()
    print(f"building a chain of {events:,} events …", flush=True)
    held += filler.add(events - held)
    synced = sync(info.url, deployment, root=home)
    print(f"  index synced to block {synced.tip}: {synced.events_added:,} events", flush=True)
    lot = "LIN" + "A" * LEVELS
    with server(info.url, home) as base:
        return measure(
            f"{held:,} events, index", f"{base}/01/{LINEAGE_GTIN}/10/{lot}", seconds, limit
        )


def render(rows: list[dict[str, Any]], seconds: float) -> str:
    lines = [
        f"`make web-benchmark` (`python scripts/web_benchmark.py`): {seconds:g} s a run, requests",
        "to 127.0.0.1 only; load generator, server and Anvil on the same 2 cores. *Cold* is the",
        "first request (report built from the chain's logs, then cached); closed loop: N",
        "clients, each sending its next request when the last one answered; open loop: a fixed",
        f"{OPEN_RATE} requests/s, latency from each request's scheduled time.",
        "",
        "| chain | answer | cold | 1 client | 10 clients | 50 clients | open 50/s p50 / p95 |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        closed = [f"{r['per_s']:,.0f}/s, p95 {r['p95_ms']:g} ms" for r in row["closed"]]
        opened = row["open"]
        lines.append(
            f"| {row['chain']} | {row['kind']} | {row['cold_s']:.3f} s | {' | '.join(closed)} | "
            f"{opened['p50_ms']:g} / {opened['p95_ms']:g} ms |"
        )
    errors = sum(r["errors"] for row in rows for r in row["closed"]) + sum(
        row["open"]["errors"] for row in rows
    )
    lines += ["", f"Non-200 answers during the runs: {errors}."]
    pages = [row for row in rows if row["kind"] == "page"]
    lowest = min(r["per_s"] for row in pages for r in row["closed"] if r["clients"] == 10)
    highest = max(row["open"]["p95_ms"] for row in pages)
    lines.append(
        f"Targets for the page: >= 100 pages/s with 10 clients (lowest here {lowest:,.0f}/s); "
        f"p95 <= 100 ms at 50 requests/s (highest here {highest:g} ms)."
    )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
