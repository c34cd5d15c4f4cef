"""Operator commands for the contracts: `compile` and `deploy`."""

from __future__ import annotations

import click

from provenance.cli.context import Env, pass_env
from provenance.cli.options import DurationType, json_option, write_command
from provenance.cli.output import console, print_json


@click.command(short_help="Compile the contracts into the package artifacts.")
@json_option
@pass_env
def compile(env: Env, as_json: bool) -> None:
    """Compile contracts/ into the package artifacts (provenance/artifacts/*.json).

    Uses solc 0.8.37 (optimizer 200 runs, EVM shanghai); a native solc when installed, else the
    project's WebAssembly build. The manifest records the input hash so stale artifacts show.

    \b
    Example:
        provenance compile
    """
    from provenance.compiler import ARTIFACTS_DIR, build

    with console.status("compiling contracts…"):
        artifacts = build()
    if as_json:
        print_json(
            {
                "artifacts": str(ARTIFACTS_DIR),
                "contracts": {
                    name: {"source": a.source, "bytecodeBytes": (len(a.bytecode) - 2) // 2}
                    for name, a in sorted(artifacts.items())
                },
            }
        )
        return
    for name, artifact in sorted(artifacts.items()):
        size = (len(artifact.deployed_bytecode) - 2) // 2
        console.print(f"compiled {name} ({artifact.source}, {size:,} bytes deployed)")
    console.print(f"artifacts written to {ARTIFACTS_DIR}")


@click.command(short_help="Deploy the contracts and record where they are.")
@click.option("--force", is_flag=True, help="Deploy a new set even if one is already recorded.")
@click.option(
    "--admin-delay",
    type=DurationType("--admin-delay", max_seconds=2**48 - 1),
    default="2d",
    show_default=True,
    help="Wait between the two steps of an operator hand-over (seconds, or 12h, 2d…).",
)
@json_option
@write_command
@pass_env
def deploy(env: Env, force: bool, admin_delay: int, as_json: bool) -> None:
    """Deploy the contracts and record where they are: the Membership and Derivations libraries,
    then ProvenanceRegistry linked against them, whose constructor creates SupplyAgreements (the
    settlement contract, fixed for good: no role to grant, none an operator could revoke).

    The deployer (--account) becomes the registry's operator; handing that role over takes two
    steps --admin-delay apart. The three transactions go through the same transactor as every
    write (journaled in the outbox). The record is written to
    <data dir>/deployments/<chainId>-<genesis>.json — bound to this chain's identity, so a chain
    started afresh with the same id never uses it — and later commands need no addresses.
    Refuses to replace a live deployment, or a record of the contracts before version 2, unless
    --force.

    \b
    Example:
        provenance node start
        provenance deploy --account dev:0
        provenance deploy --account dev:0 --admin-delay 7d --force
    """
    env.note_embedded_write()
    chain = env.chain()
    deployment = env.session.deploy(
        admin_delay=admin_delay,
        force=force,
        progress=None if as_json else (lambda message: console.print(f"  {message}")),
    )
    delay = deployment.admin_delay
    if as_json:
        print_json(deployment)
        return
    console.print(f"deployed on chain id {deployment.chain_id} ({chain.rpc})")
    console.print(f"  ProvenanceRegistry  {deployment.registry}")
    console.print(f"  SupplyAgreements    {deployment.agreements}")
    for name, address in deployment.libraries.items():
        console.print(f"  {name:<19} {address} (library)")
    console.print(f"  operator            {deployment.deployer} (hand-over delay {delay} s)")


COMMANDS = [compile, deploy]
