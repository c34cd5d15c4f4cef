"""Index commands: `index sync` mirrors the contracts' events into a local SQLite file, `index
status` shows where it stands."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import signal
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import click

from provenance.cli.context import CONTEXT_SETTINGS, Env, ProvenanceGroup, pass_env
from provenance.cli.options import json_option
from provenance.cli.output import console, print_json
from provenance.exceptions import ChainError

if TYPE_CHECKING:
    from provenance.deploy import Deployment
    from provenance.index.sync import SyncResult


@click.group(
    cls=ProvenanceGroup,
    context_settings=CONTEXT_SETTINGS,
    short_help="Keep a local SQLite index of the contracts' events.",
)
def index() -> None:
    """Mirror the registry's and the agreements contract's events into a local SQLite file.

    One file per chain (chain id and genesis block hash) and deployment, under
    <data dir>/index/, in WAL mode; one table per event, named as the event (open it with sqlite3,
    sqlite-utils or datasette). A sync resumes where the last one stopped, even after a crash,
    and rolls back blocks the chain reorganised away.

    \b
    Example:
        provenance index sync
        provenance index sync --follow
        provenance index status
    """


@index.command()
@click.option("--follow", is_flag=True, help="Keep syncing as blocks arrive (stop with Ctrl-C).")
@click.option(
    "--confirmations",
    type=click.IntRange(0),
    default=None,
    metavar="N",
    help="Events in the last N blocks below the head are marked unconfirmed. Default: 0 on a "
    "local node (127.0.0.1, localhost), 12 on any other chain.",
)
@click.option(
    "--interval",
    type=click.FloatRange(0.05),
    default=None,
    metavar="SECONDS",
    help="With --follow: seconds between rounds (default 1 on a local node, 6 elsewhere).",
)
@click.option(
    "--max-range",
    type=click.IntRange(1),
    default=None,
    metavar="BLOCKS",
    help="Most blocks per eth_getLogs (default 100000 on a local node, 2000 elsewhere; lowered "
    "by itself when the provider refuses a range).",
)
@click.option(
    "--max-rps",
    type=click.FloatRange(0.1),
    default=None,
    metavar="N",
    help="Send at most N requests a second (a provider's rate limit; its HTTP 429 Retry-After "
    "is always obeyed).",
)
@json_option
@pass_env
def sync(
    env: Env,
    follow: bool,
    confirmations: int | None,
    interval: float | None,
    max_range: int | None,
    max_rps: float | None,
    as_json: bool,
) -> None:
    """Bring the index up to the chain head: fetch the events after its tip, page by page
    (each page is stored in one transaction, so a killed sync resumes without gaps or
    duplicates), after rolling back any blocks a reorganisation replaced.

    --json prints the round's result as one JSON object (with --follow: one line per round that
    changed something).

    \b
    Example:
        provenance index sync
        provenance index sync --confirmations 12 --max-range 2000 --max-rps 10
        provenance index sync --follow --interval 2
    """
    from provenance.index.sync import SyncOptions, open_syncer
    from provenance.rpc import RetryPolicy

    deployment = env.deployment()
    options = SyncOptions(
        confirmations=confirmations, max_range=max_range, policy=RetryPolicy(max_rps=max_rps)
    )
    with _stop_on_signals() as stop, open_syncer(env.rpc_url(), deployment, options=options) as s:
        if not follow:
            result = s.sync(stop=stop, progress=None if as_json else _progress())
            _show(result, as_json, quiet_if_idle=False)
            return
        if not as_json:
            console.print(
                f"following chain id {s.store.key.identity.chain_id} from {env.rpc_url()} into "
                f"{s.store.path} "
                "(Ctrl-C stops)"
            )
        last: list[int | None] = [None]

        def on_round(result: SyncResult) -> None:
            changed = bool(result.events_added or result.reorgs) or result.chain_head != last[0]
            last[0] = result.chain_head
            if changed:
                _show(result, as_json, quiet_if_idle=True)

        s.follow(interval=interval, stop=stop, on_round=on_round)


def _progress() -> Any:
    def report(tip: int, head: int, added: int) -> None:
        if console.is_terminal:
            console.print(f"  block {tip:,} of {head:,}: {added:,} events", end="\r")

    return report


def _show(result: SyncResult, as_json: bool, *, quiet_if_idle: bool) -> None:
    if as_json:
        click.echo(json.dumps(result.to_json()))
    else:
        for reorg in result.reorgs:
            where = f"block {reorg.ancestor:,}" if reorg.ancestor is not None else "the start"
            console.print(
                f"reorganisation: index tip {reorg.old_tip:,} no longer on the chain; rolled back "
                f"to {where} ({reorg.events_removed} event(s) removed, replayed from the chain)"
            )
        if result.first_block is None:
            if not quiet_if_idle:
                console.print(
                    f"index up to date at block {result.tip if result.tip is not None else '-'} "
                    f"(chain head {result.chain_head:,})"
                )
        else:
            rate = f", {result.events_per_second:,.0f} events/s" if result.events_added else ""
            console.print(
                f"synced blocks {result.first_block:,}–{result.tip:,}: {result.events_added:,} "
                f"event(s) in {result.pages} page(s), {result.seconds:.2f} s{rate}; "
                f"chain head {result.chain_head:,}"
                + ("" if result.complete else " (stopped before the head)")
            )
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)


@contextlib.contextmanager
def _stop_on_signals() -> Iterator[Any]:
    """A `stop()` that turns true on SIGINT/SIGTERM: the sync finishes its page and returns."""
    stopped = [False]

    def handler(_signum: int, _frame: Any) -> None:
        stopped[0] = True

    previous = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(ValueError):  # not the main thread: no handlers
            previous[sig] = signal.signal(sig, handler)
    try:
        yield lambda: stopped[0]
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


@index.command()
@json_option
@pass_env
def status(env: Env, as_json: bool) -> None:
    """Show the index of the current deployment: its file and size, the chain it belongs to
    (chain id and genesis hash), the contracts, its tip against the chain head (lag), how many
    events are unconfirmed, and what it holds. Without a reachable chain it shows the last
    index synced for the deployment, as of its tip.

    Exits 0 either way; the JSON has "exists": true/false.

    \b
    Example:
        provenance index status
        provenance index status --json
    """
    from provenance.index.sync import status as index_status

    deployment = _deployment(env)
    info = index_status(env.rpc_url(), deployment)
    if as_json:
        print_json(info)
        return
    if not info.exists:
        where = f" ({info.path})" if info.path else ""
        console.print(
            f"no index yet for chain id {info.chain_id}, registry {info.registry}{where}: "
            "run `provenance index sync`"
        )
        return
    genesis = info.genesis_hash or "?"
    console.print(f"index          {info.path} ({_size(info.size_bytes)})")
    console.print(f"chain          id {info.chain_id}, genesis {genesis}")
    console.print(f"registry       {info.registry} (deployed in block {info.deploy_block:,})")
    console.print(f"agreements     {info.agreements}")
    tip = f"block {info.tip:,} ({info.tip_hash})" if info.tip is not None else "nothing synced"
    if info.reachable and info.chain_head is not None:
        console.print(f"tip            {tip}; chain head {info.chain_head:,}, lag {info.lag:,}")
    else:
        console.print(f"tip            {tip}; chain unreachable: answers are as of this block")
    if info.confirmations is not None:
        console.print(
            f"confirmations  {info.confirmations}: events through block "
            f"{info.confirmed_through:,} confirmed, {info.unconfirmed_events:,} unconfirmed"
        )
    detail = ", ".join(f"{name} {count:,}" for name, count in info.events_by_table.items())
    console.print(f"events         {info.events:,}" + (f" ({detail})" if detail else ""))
    console.print(f"reorgs         {info.reorgs} rolled back")
    if info.synced_at is not None:
        when = dt.datetime.fromtimestamp(info.synced_at, dt.UTC).strftime("%Y-%m-%d %H:%M:%SZ")
        console.print(f"last sync      {when}")


def _deployment(env: Env) -> Deployment:
    """The recorded deployment; when the chain does not answer, the record made through the
    same URL (the index can still be described)."""
    try:
        return env.session.deployment()
    except ChainError:
        from provenance.deploy import find_record_for_rpc

        record = find_record_for_rpc(env.rpc_url(), env.session.root)
        if record is None:
            raise
        return record


def _size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:,.0f} {unit}" if unit == "B" else f"{value:,.1f} {unit}"
        value /= 1024
    return f"{size} B"  # pragma: no cover


COMMANDS = [index]
