"""Operator commands for the contracts: `compile` and `deploy`."""

from __future__ import annotations

import click

from provenance.cli._common import Env, console, json_option, pass_env, print_json, write_command


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
    default="2d",
    show_default=True,
    metavar="DURATION",
    help="Wait between the two steps of an operator hand-over (seconds, or 12h, 2d…).",
)
@json_option
@write_command
@pass_env
def deploy(env: Env, force: bool, admin_delay: str, as_json: bool) -> None:
    """Deploy the contracts and record where they are: the Membership and Derivations libraries,
    then ProvenanceRegistry linked against them, whose constructor creates SupplyAgreements (the
    settlement contract, fixed for good: no role to grant, none an operator could revoke).

    The deployer (--account) becomes the registry's operator; handing that role over takes two
    steps --admin-delay apart. The record is written to <data dir>/deployments/<chainId>.json so
    later commands need no addresses. Refuses to replace a live deployment, or a record of the
    contracts before version 2, unless --force.

    \b
    Example:
        provenance node start
        provenance deploy --account dev:0
        provenance deploy --account dev:0 --admin-delay 7d --force
    """
    from provenance.cli._common import parse_duration
    from provenance.deploy import deploy as deploy_contracts

    delay = parse_duration(admin_delay, "--admin-delay")
    env.note_embedded_write()
    chain = env.chain()
    account = env.signer()
    deployment = deploy_contracts(
        chain,
        account,
        admin_delay=delay,
        force=force,
        progress=None if as_json else (lambda message: console.print(f"  {message}")),
    )
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
