"""Operator commands for a local development node: `node start|stop|status`."""

from __future__ import annotations

from typing import Any

import click

from provenance.cli.context import CONTEXT_SETTINGS, Env, ProvenanceGroup, pass_env
from provenance.cli.options import json_option
from provenance.cli.output import console, print_json


@click.group(
    cls=ProvenanceGroup,
    context_settings=CONTEXT_SETTINGS,
    short_help="Start, stop and inspect a local development node.",
)
def node() -> None:
    """Run a local development chain (Anvil or Ganache) in the background.

    The node keeps its chain under the data directory, so contracts and records survive
    `node stop` / `node start`; Anvil's state is snapshotted atomically (a kill -9 at any moment
    leaves the last good snapshot, and the one before it). The data directory remembers the node
    after it stops: commands without --rpc keep using it — while it is down, writes are queued
    in the outbox, never sent to another chain. `node stop --forget` ends that.

    \b
    Example:
        provenance node start --engine anvil --port 8545
        provenance node status
        provenance node stop
    """


def _describe(info: Any) -> dict[str, Any]:
    identity = info.chain_identity
    return {
        **info.to_json(),
        "url": info.url,
        "running": info.running,
        "chain": identity.describe() if identity is not None else None,
    }


@node.command()
@click.option(
    "--engine",
    type=click.Choice(["anvil", "ganache"]),
    default="anvil",
    show_default=True,
    help="Which node to run.",
)
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=8545,
    show_default=True,
    help="TCP port on 127.0.0.1.",
)
@click.option("--fresh", is_flag=True, help="Discard the saved chain state and start empty.")
@click.option(
    "--from-previous",
    is_flag=True,
    help="Anvil: start from the previous snapshot (when the last one is damaged).",
)
@click.option(
    "--state-interval",
    type=click.IntRange(0),
    default=1,
    show_default=True,
    help="Anvil: snapshot the chain every N seconds when it moved, so a crash loses at most N "
    "seconds (0: only at `node stop`). Each snapshot writes the whole chain.",
)
@json_option
@pass_env
def start(
    env: Env,
    engine: str,
    port: int,
    fresh: bool,
    from_previous: bool,
    state_interval: int,
    as_json: bool,
) -> None:
    """Start a node in the background and wait until it answers.

    A damaged Anvil state file is refused with the way out (--from-previous or --fresh).

    \b
    Example:
        provenance node start
        provenance node start --engine ganache --port 8546 --fresh
        provenance node start --state-interval 10
    """
    from provenance import node as node_lib

    info = node_lib.start(
        engine,
        port,
        env.session.root,
        fresh=fresh,
        from_previous=from_previous,
        state_interval=state_interval,
    )
    if as_json:
        print_json(_describe(info))
        return
    identity = info.chain_identity
    chain = f" ({identity.describe()})" if identity is not None else ""
    console.print(f"started {info.engine} (pid {info.pid}) at {info.url}{chain}")
    console.print(f"  state: {info.state_path}\n  log:   {info.log_path}")


@node.command()
@click.option("--hard", is_flag=True, help="SIGKILL instead of a clean stop (state may be lost).")
@click.option(
    "--forget",
    is_flag=True,
    help="Also forget the node: later commands without --rpc use the embedded chain.",
)
@pass_env
def stop(env: Env, hard: bool, forget: bool) -> None:
    """Stop the node started by `provenance node start` (it saves its state first). The data
    directory keeps using it (writes are queued while it is down) unless --forget.

    \b
    Example:
        provenance node stop
        provenance node stop --forget
    """
    from provenance import node as node_lib

    info = node_lib.stop(env.session.root, hard=hard, forget=forget)
    tail = "; forgotten" if forget else ""
    if info is None:
        console.print(f"no node is running{tail}")
        return
    console.print(f"stopped {info.engine} (pid {info.pid}){tail}")


@node.command()
@json_option
@pass_env
def status(env: Env, as_json: bool) -> None:
    """Show whether the recorded node is running, and where.

    Exits 0 either way; the JSON has "running": true/false ("recorded": false when this data
    directory has no node).

    \b
    Example:
        provenance node status --json
    """
    from provenance import node as node_lib

    info = node_lib.recorded(env.session.root)
    if as_json:
        print_json({"recorded": False, "running": False} if info is None else _describe(info))
        return
    if info is None:
        console.print("no node is recorded here (start one with `provenance node start`)")
        return
    identity = info.chain_identity
    chain = f" ({identity.describe()})" if identity is not None else ""
    if info.running:
        console.print(f"{info.engine} is running (pid {info.pid}) at {info.url}{chain}")
    else:
        console.print(
            f"{info.engine} at {info.url}{chain} is NOT running: writes are queued in the outbox "
            "until `provenance node start`"
        )
    console.print(f"  state: {info.state_path}\n  log:   {info.log_path}")


COMMANDS = [node]
