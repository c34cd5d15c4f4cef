"""The `provenance` command line: a thin shell over the library (one module per command group).

`context` (the shared `Env`, a thin wrapper over `provenance.session.Session`, and how errors end
a command), `options` (the parameter types over the library's value constructors, shared
options) and `output` (printing) serve the command modules.

Exit codes: 0 success, 1 error (one line on stderr; `--debug` shows the traceback), 2 usage error
(a value refused by its parameter type, naming the option), 130 interrupted (Ctrl-C). A write
whose transaction was queued in the outbox (chain unreachable) exits 0 and says so.
`provenance verify` has its own documented codes (the verdict).
"""

from __future__ import annotations

from pathlib import Path

import click

from provenance import __version__
from provenance.cli.context import (
    ACCOUNT_ENV,
    CONTEXT_SETTINGS,
    RPC_ENV,
    Env,
    ProvenanceGroup,
)


@click.group(cls=ProvenanceGroup, context_settings=CONTEXT_SETTINGS)
@click.version_option(__version__, "--version", prog_name="provenance")
@click.option(
    "--rpc",
    envvar=RPC_ENV,
    metavar="URL",
    help=f"JSON-RPC endpoint, or `embedded` (env {RPC_ENV}). Default: the node recorded by "
    "`provenance node start` — running or not: if it is down, writes are queued, never sent "
    "elsewhere —, else the embedded in-process chain (nothing persists).",
)
@click.option(
    "--account",
    "-a",
    envvar=ACCOUNT_ENV,
    metavar="NAME|ADDRESS|dev:N",
    help=f"Account that signs: keystore name, address, or dev:N (env {ACCOUNT_ENV}).",
)
@click.option(
    "--password-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Read the keystore password from FILE (else $PROVENANCE_PASSWORD, else a prompt).",
)
@click.option("--debug", is_flag=True, help="Show the full traceback on errors.")
@click.pass_context
def cli(
    ctx: click.Context,
    rpc: str | None,
    account: str | None,
    password_file: Path | None,
    debug: bool,
) -> None:
    """Supply-chain provenance on EVM chains: custody registry, escrowed supplier agreements,
    and verification anyone can run.

    Operators deploy the contracts, register participants and assign GS1 company prefixes;
    suppliers create batches, hand them off and tender deliveries under escrowed agreements,
    which the buyer's acceptance settles; certifiers attest; customers verify a product without
    any key.

    Exit codes: 0 success, 1 error (one line; --debug for the traceback), 2 usage error (a bad
    value, naming the option), 130 interrupted. `provenance verify` documents its own codes.

    Nothing is lost when the chain is down: if the recorded node (or the --rpc endpoint of a
    recorded deployment) does not answer, a write command signs its transaction for that chain,
    queues it in the outbox, says so in one line and exits 0; `provenance outbox flush` sends it
    once the chain is back (a transaction already on the chain is never recorded twice, and one
    signed for another chain — a node started afresh — is never sent).

    \b
    Example:
        provenance node start
        provenance deploy --account dev:0
        provenance demo
    """
    env = ctx.ensure_object(Env)
    env.rpc = rpc
    env.account = account
    env.debug = debug
    if password_file is not None:
        env.password_file = password_file


def _register() -> None:
    from provenance.cli import (
        account,
        agreement,
        attest,
        batch,
        contracts,
        demo,
        docs,
        epcis,
        handoff,
        index,
        label,
        node,
        outbox,
        participant,
        serve,
        verify,
    )

    for module in (
        contracts,
        node,
        participant,
        account,
        batch,
        handoff,
        attest,
        agreement,
        docs,
        outbox,
        verify,
        label,
        serve,
        index,
        epcis,
        demo,
    ):
        for command in module.COMMANDS:
            cli.add_command(command)


_register()


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="provenance")


__all__ = ["cli", "main"]
