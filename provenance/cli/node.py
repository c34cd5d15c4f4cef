"""Operator commands for a local development node: `node start|stop|status`."""

from __future__ import annotations

import click

from provenance.cli._common import (
    CONTEXT_SETTINGS,
    Env,
    ProvenanceGroup,
    console,
    json_option,
    pass_env,
    print_json,
)


@click.group(
    cls=ProvenanceGroup,
    context_settings=CONTEXT_SETTINGS,
    short_help="Start, stop and inspect a local development node.",
)
def node() -> None:
    """Run a local development chain (Anvil or Ganache) in the background.

    The node keeps its chain in a state file under the data directory, so contracts and records
    survive `node stop` / `node start`. Commands without --rpc use it while it runs.

    \b
    Example:
        provenance node start --engine anvil --port 8545
        provenance node status
        provenance node stop
    """


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
    "--state-interval",
    type=click.IntRange(0),
    default=1,
    show_default=True,
    help="Anvil: save the chain every N seconds so a crash loses at most N seconds "
    "(0: save only on `node stop`). Each save writes the whole chain.",
)
@json_option
@pass_env
def start(
    env: Env, engine: str, port: int, fresh: bool, state_interval: int, as_json: bool
) -> None:
    """Start a node in the background and wait until it answers.

    \b
    Example:
        provenance node start
        provenance node start --engine ganache --port 8546 --fresh
        provenance node start --state-interval 10
    """
    from provenance import node as node_lib

    info = node_lib.start(engine, port, fresh=fresh, state_interval=state_interval)
    if as_json:
        print_json({**info.__dict__, "url": info.url})
        return
    console.print(f"started {info.engine} (pid {info.pid}) at {info.url}")
    console.print(f"  state: {info.state_path}\n  log:   {info.log_path}")


@node.command()
@click.option("--hard", is_flag=True, help="SIGKILL instead of a clean stop (state may be lost).")
@pass_env
def stop(env: Env, hard: bool) -> None:
    """Stop the node started by `provenance node start` (it saves its state first).

    \b
    Example:
        provenance node stop
    """
    from provenance import node as node_lib

    info = node_lib.stop(hard=hard)
    if info is None:
        console.print("no node is running")
        return
    console.print(f"stopped {info.engine} (pid {info.pid})")


@node.command()
@json_option
@pass_env
def status(env: Env, as_json: bool) -> None:
    """Show whether a node is running, and where.

    Exits 0 either way; the JSON has "running": true/false.

    \b
    Example:
        provenance node status --json
    """
    from provenance import node as node_lib

    info = node_lib.status()
    if as_json:
        print_json(
            {"running": False}
            if info is None
            else {"running": True, **info.__dict__, "url": info.url}
        )
        return
    if info is None:
        console.print("no node is running (start one with `provenance node start`)")
        return
    console.print(f"{info.engine} is running (pid {info.pid}) at {info.url}")
    console.print(f"  state: {info.state_path}\n  log:   {info.log_path}")


COMMANDS = [node]
