"""`outbox list|flush`: the journal of signed transactions that have not been confirmed yet."""

from __future__ import annotations

import time

import click

from provenance.cli._common import (
    CONTEXT_SETTINGS,
    CliError,
    Env,
    ProvenanceGroup,
    console,
    json_option,
    pass_env,
    print_json,
    progress_bar,
    table,
)


@click.group(
    cls=ProvenanceGroup,
    context_settings=CONTEXT_SETTINGS,
    short_help="List and flush journaled (queued) transactions.",
)
def outbox() -> None:
    """Signed transactions journaled before sending (and queued while the chain was down).

    \b
    Example:
        provenance outbox list
        provenance outbox flush
    """


@outbox.command("list")
@click.option("--all", "show_all", is_flag=True, help="Include final (settled) entries.")
@click.option("--chain-id", type=int, help="Only this chain id (default: every chain).")
@json_option
def list_(show_all: bool, chain_id: int | None, as_json: bool) -> None:
    """List journaled transactions: chain, sender, nonce, status, what they do.

    Reads only local files; needs no chain.

    \b
    Example:
        provenance outbox list --json
    """
    from provenance.outbox import OPEN_STATUSES, STATUSES, Outbox

    entries = Outbox.default().entries(chain_id, statuses=STATUSES if show_all else None)
    if not show_all:
        entries = [e for e in entries if e.status in (*OPEN_STATUSES, "failed")]
    if as_json:
        print_json([e.to_json() for e in entries])
        return
    if not entries:
        console.print("the outbox is empty")
        return
    from provenance.types import short_hex

    out = table("chain", "sender", "nonce", "status", "tx", "description", "age")
    now = time.time()
    for e in entries:
        out.add_row(
            str(e.chain_id),
            short_hex(e.sender),
            str(e.nonce),
            e.status + (f" ({e.error})" if e.error else ""),
            short_hex(e.tx_hash),
            e.description,
            f"{max(0, now - e.created_at):.0f}s",
        )
    console.print(out)


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
    """Send every journaled transaction that the chain does not hold yet (same raw bytes, so
    nothing is recorded twice), and confirm the ones it does.

    Exits 1 if anything failed or is still pending.

    \b
    Example:
        provenance --rpc http://127.0.0.1:8545 outbox flush
    """
    from provenance.outbox import OPEN_STATUSES, Outbox

    chain = env.chain()
    box = Outbox.default()
    todo = len(box.entries(chain.chain_id, statuses=OPEN_STATUSES))
    with progress_bar("flushing outbox", todo) as advance:
        report = box.flush(
            chain,
            None if as_json else (lambda _entry, _outcome: advance()),
            receipt_timeout=timeout,
        )
    if as_json:
        print_json({"ok": report.ok, **report.__dict__})
    else:
        for label, hashes in (
            ("resubmitted", report.resubmitted),
            ("already recorded", report.already_recorded),
            ("confirmed", report.confirmed),
            ("finalized", report.finalized),
            ("still pending", report.still_pending),
        ):
            for tx_hash in hashes:
                console.print(f"{label}: {tx_hash}")
        for tx_hash, reason in report.failed:
            console.print(f"failed: {tx_hash}: {reason}")
        if not any(report.__dict__.values()):
            console.print(f"nothing to flush on chain id {chain.chain_id}")
    if not report.ok:
        raise CliError(
            f"{len(report.failed)} failed, {len(report.still_pending)} still pending "
            "(retry `provenance outbox flush` when the chain is reachable)"
        )


COMMANDS = [outbox]
