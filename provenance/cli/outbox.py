"""`outbox list|status|flush|drop`: the journal of signed transactions, bound to the chain each
was signed for."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

import click

from provenance.cli.context import CONTEXT_SETTINGS, CliError, Env, ProvenanceGroup, pass_env
from provenance.cli.options import json_option
from provenance.cli.output import console, print_json, progress_bar, table


@click.group(
    cls=ProvenanceGroup,
    context_settings=CONTEXT_SETTINGS,
    short_help="Inspect, flush and drop journaled (queued) transactions.",
)
def outbox() -> None:
    """Signed transactions journaled before sending (and queued while the chain was down).

    Every entry is bound to the chain it was signed for (chain id and genesis block): `flush`
    sends entries to that chain only, never to another chain with the same id (a node started
    afresh); `status` shows where each entry stands, `drop` discards entries after asking.

    \b
    Example:
        provenance outbox status
        provenance outbox flush
        provenance outbox drop --other-chains
    """


def _current(env: Env) -> Any:
    """The identity of the session's chain: asked from the chain, else what a local record
    knows while it is down (None: unknown, e.g. the embedded chain)."""
    from provenance.exceptions import ChainUnreachable

    target = env.session.target()
    if target.embedded:
        return None
    try:
        return env.chain().identity
    except ChainUnreachable:
        return target.known


def _row(e: Any, now: float) -> list[str]:
    from provenance.encoding import short_hex

    return [
        e.identity.describe() if e.identity is not None else f"chain id {e.chain_id} (unbound)",
        short_hex(e.sender),
        str(e.nonce),
        e.status + (f" ({e.error})" if e.error else ""),
        short_hex(e.tx_hash),
        e.description,
        f"{max(0, now - e.created_at):.0f}s",
    ]


@outbox.command("list")
@click.option("--all", "show_all", is_flag=True, help="Include final (settled) entries.")
@click.option("--chain-id", type=int, help="Only this chain id (default: every chain).")
@json_option
@pass_env
def list_(env: Env, show_all: bool, chain_id: int | None, as_json: bool) -> None:
    """List journaled transactions: chain, sender, nonce, status, what they do.

    Reads only local files; needs no chain.

    \b
    Example:
        provenance outbox list --json
    """
    from provenance.outbox import SHOWN_STATUSES, STATUSES

    entries = env.session.outbox.entries(
        chain_id=chain_id, statuses=STATUSES if show_all else SHOWN_STATUSES
    )
    if as_json:
        print_json([e.to_json() for e in entries])
        return
    if not entries:
        console.print("the outbox is empty")
        return
    out = table("chain", "sender", "nonce", "status", "tx", "description", "age")
    now = time.time()
    for e in entries:
        out.add_row(*_row(e, now))
    console.print(out)


@outbox.command()
@json_option
@pass_env
def status(env: Env, as_json: bool) -> None:
    """Where every open or failed entry stands, grouped by the chain it was signed for: the
    current chain's (sent by `flush`), another chain's with the same id (never sent here: drop
    them), unbound ones written before chain identities (never sent).

    Reads local files; asks the chain only for its identity (or takes it from the node record
    while it is down).

    \b
    Example:
        provenance outbox status --json
    """
    from provenance.outbox import SHOWN_STATUSES

    current = _current(env)
    entries = env.session.outbox.entries(statuses=SHOWN_STATUSES)
    groups: dict[str, list[Any]] = {}
    for e in entries:
        groups.setdefault(e.identity_key, []).append(e)
    summary = []
    for key, items in groups.items():
        identity = items[0].identity
        if identity is None:
            relation = "unbound"
        elif identity == current:
            relation = "current"
        elif current is not None and identity.chain_id == current.chain_id:
            relation = "same-id"
        else:
            relation = "other"
        summary.append(
            {
                "chain": identity.to_json() if identity is not None else None,
                "chain_id": items[0].chain_id,
                "key": key,
                "relation": relation,
                "counts": dict(Counter(e.status for e in items)),
                "entries": [e.to_json() for e in items],
            }
        )
    if as_json:
        print_json({"current": current.to_json() if current else None, "chains": summary})
        return
    if not summary:
        console.print("the outbox holds no open or failed transaction")
        return
    where = {
        "current": "the current chain: `provenance outbox flush` sends what is open",
        "same-id": "ANOTHER chain with the same id (a node started afresh?): never sent to the "
        "current one; discard with `provenance outbox drop --other-chains`",
        "other": "another chain: flushed when you work with it (--rpc)",
        "unbound": "written before chain identities: never sent; discard with "
        "`provenance outbox drop TX…`",
    }
    now = time.time()
    for group in summary:
        first = groups[group["key"]][0]
        name = (
            first.identity.describe()
            if first.identity is not None
            else f"chain id {first.chain_id} (unbound)"
        )
        counts = ", ".join(f"{n} {s}" for s, n in sorted(group["counts"].items()))
        console.print(f"{name} — {where[group['relation']]}: {counts}")
        for e in groups[group["key"]]:
            row = _row(e, now)
            console.print(f"  {row[3]:<10} nonce {row[2]:<4} {e.tx_hash}  {row[5]}  ({row[6]})")


@outbox.command()
@click.option(
    "--timeout",
    type=float,
    default=30.0,
    show_default=True,
    help="Seconds to wait for each receipt.",
)
@json_option
@pass_env
def flush(env: Env, timeout: float, as_json: bool) -> None:
    """Send every transaction journaled for the current chain that it does not hold yet (same
    raw bytes, so nothing is recorded twice), and confirm the ones it does. Entries signed for
    another chain with the same id are never sent (see `provenance outbox status`).

    Exits 1 if anything failed or is still pending, saying why.

    \b
    Example:
        provenance --rpc http://127.0.0.1:8545 outbox flush
    """
    from provenance.exceptions import ChainUnreachable
    from provenance.outbox import OPEN_STATUSES, PENDING, SENT, UNREACHABLE

    box = env.session.outbox
    try:
        chain = env.chain()
    except ChainUnreachable as exc:
        known = env.session.target().known
        waiting = len(box.entries(known, statuses=(PENDING, SENT))) if known is not None else 0
        if waiting and known is not None:
            raise ChainUnreachable(
                f"{exc}; {waiting} transaction(s) wait in the outbox for "
                f"{known.describe()} and will be sent when it answers"
            ) from exc
        raise
    todo = len(box.entries(chain.identity, statuses=OPEN_STATUSES))
    with progress_bar("flushing outbox", todo) as advance:
        report = box.flush(
            chain,
            None if as_json else (lambda _entry, _outcome: advance()),
            receipt_timeout=timeout,
        )
    if as_json:
        print_json(report.to_json())
    else:
        for label, hashes in (
            ("resubmitted", report.resubmitted),
            ("already recorded", report.already_recorded),
            ("confirmed", report.confirmed),
            ("finalized", report.finalized),
        ):
            for tx_hash in hashes:
                console.print(f"{label}: {tx_hash}")
        for tx_hash, reason in report.still_pending:
            console.print(f"still pending: {tx_hash} ({reason})")
        for tx_hash, reason in report.failed:
            console.print(f"failed: {tx_hash}: {reason}")
        if not report.touched:
            console.print(f"nothing to flush for {chain.identity.describe()}")
        if report.elsewhere:
            n = len(report.elsewhere)
            console.print(
                f"{n} open {'entry belongs' if n == 1 else 'entries belong'} to another chain "
                f"with chain id {chain.chain_id}: never sent here "
                "(`provenance outbox status`; discard with `provenance outbox drop "
                "--other-chains`)"
            )
    if not report.ok:
        reasons = Counter(reason for _hash, reason in report.still_pending)
        parts = [f"{n} still pending ({reason})" for reason, n in reasons.items()]
        if report.failed:
            parts.append(
                f"{len(report.failed)} failed (see `provenance outbox status`; discard with "
                "`provenance outbox drop TX…`)"
            )
        hint = (
            "retry `provenance outbox flush` when the chain answers"
            if UNREACHABLE in reasons
            else "retry `provenance outbox flush` later"
        )
        raise CliError(f"{', '.join(parts)}: {hint}" if reasons else ", ".join(parts))


@outbox.command()
@click.argument("tx_hashes", metavar="[TX]...", nargs=-1)
@click.option(
    "--other-chains",
    is_flag=True,
    help="Entries signed for another chain with the current chain id, or unbound ones.",
)
@click.option("--failed", is_flag=True, help="Entries that failed for good.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@pass_env
def drop(env: Env, tx_hashes: tuple[str, ...], other_chains: bool, failed: bool, yes: bool) -> None:
    """Discard journaled transactions so they are never sent: the given TX hashes, or every
    entry of another chain with the current chain id (--other-chains), or every failed entry
    (--failed). Asks before dropping (--yes to skip); dropped entries are moved to
    <data dir>/outbox/.dropped, not deleted.

    \b
    Example:
        provenance outbox drop --other-chains
        provenance outbox drop 0x5f3a… --yes
    """
    from provenance.encoding import short_hex
    from provenance.exceptions import InvalidInput
    from provenance.outbox import FAILED, SHOWN_STATUSES

    box = env.session.outbox
    chosen: dict[tuple[str, str], Any] = {}
    for tx in tx_hashes:
        wanted = tx.strip().lower()
        matches = [e for e in box.entries() if e.tx_hash == wanted]
        if len(matches) > 1:  # the same signed bytes journaled for several chains
            current = _current(env)
            matches = [e for e in matches if e.identity == current] or matches
        if not matches:
            raise InvalidInput(f"transaction {tx} is not in the outbox")
        if len(matches) > 1:
            raise InvalidInput(
                f"transaction {tx} is journaled for several chains: pass --rpc to say which"
            )
        chosen[(matches[0].identity_key, wanted)] = matches[0]
    if other_chains:
        current = _current(env)
        if current is None:
            raise InvalidInput(
                "--other-chains needs to know the current chain: pass --rpc URL, or start the "
                "recorded node"
            )
        for entry in box.elsewhere(current, statuses=SHOWN_STATUSES):
            chosen[(entry.identity_key, entry.tx_hash)] = entry
    if failed:
        for entry in box.entries(statuses=[FAILED]):
            chosen[(entry.identity_key, entry.tx_hash)] = entry
    if not (tx_hashes or other_chains or failed):
        raise click.UsageError("name the entries to drop: TX hashes, --other-chains or --failed")
    entries = list(chosen.values())
    if not entries:
        console.print("nothing to drop")
        return
    for e in entries:
        where = e.identity.describe() if e.identity is not None else f"chain id {e.chain_id}"
        console.print(f"  {e.status:<9} {short_hex(e.tx_hash)}  {where}  {e.description}")
    if not yes:
        import sys

        if not sys.stdin.isatty():
            raise CliError(
                f"not dropping {len(entries)} entr{'y' if len(entries) == 1 else 'ies'}: no "
                "terminal to confirm on; pass --yes"
            )
        if not click.confirm(f"Drop these {len(entries)} entries (they will never be sent)?"):
            console.print("nothing dropped")
            return
    archive = box.drop(entries)
    console.print(
        f"dropped {len(entries)} entr{'y' if len(entries) == 1 else 'ies'} (moved to {archive}; "
        "never sent)"
    )


COMMANDS = [outbox]
