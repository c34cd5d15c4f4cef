"""`demo`: the whole story in one command, printed step by step, ending with the verification."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import click

from provenance.cli._common import CONTEXT_SETTINGS, Env, console, format_eth, pass_env, print_json

ACTOR_STYLE = {
    "operator": "bold white",
    "farm": "green",
    "carrier": "yellow",
    "processor": "magenta",
    "retailer": "cyan",
    "certifier": "blue",
    "customer": "bold",
}


def _show_step(step: Any) -> None:
    style = ACTOR_STYLE.get(step.actor, "")
    gas = f"  [dim](gas {step.gas_used:,})[/]" if step.gas_used else ""
    console.print(f"{step.number:>2}. [{style}]{step.actor}[/]: {step.title}{gas}")
    for line in step.details:
        console.print(f"      {line}")


@click.command(
    context_settings=CONTEXT_SETTINGS,
    short_help="Run the whole farm-to-shelf story on a local chain.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the steps and the report as JSON.")
@click.option(
    "--save/--no-save",
    default=None,
    help="Record the demo's deployment (default: only on a real node, not embedded).",
)
@pass_env
def demo(env: Env, as_json: bool, save: bool | None) -> None:
    """Play the full scenario: deploy, register farm, carrier, processor, retailer and
    certifier; create, attest, contract with escrow, hand off (one co-signed offline), settle
    with a late penalty, make jam, split, ship, recall a sibling lot, and verify the retailer's
    jar as a customer would.

    Runs on the embedded chain unless --rpc is given (e.g. an Anvil node; the demo deploys a
    fresh set of contracts there). Exits 0 when the story ran, whatever the verdict.

    \b
    Example:
        provenance demo
        provenance --rpc http://127.0.0.1:8545 demo
    """
    from provenance.chain import EMBEDDED, connect
    from provenance.cli.verify import render
    from provenance.demo import run

    rpc = env.rpc or EMBEDDED  # the demo never silently uses a running node's saved state
    if not as_json:
        where = "the embedded chain (nothing persists)" if rpc == EMBEDDED else rpc
        console.print(f"[bold]Provenance demo[/] on {where}\n")
    with tempfile.TemporaryDirectory(prefix="provenance-demo-") as tmp:
        chain = connect(rpc)
        root = Path(tmp) if rpc == EMBEDDED and not save else None
        result = run(chain, on_step=None if as_json else _show_step, save=save, root=root)
    if as_json:
        print_json(
            {
                "steps": result.steps,
                "cast": result.cast,
                "product": result.product,
                "recalled": result.recalled,
                "agreement": result.agreement_id,
                "supplierAmount": result.supplier_amount,
                "penalty": result.penalty,
                "totalGas": result.total_gas,
                "report": result.report.to_dict(),
            }
        )
        return
    console.print(
        f"\nfarm paid {format_eth(result.supplier_amount)}, late penalty "
        f"{format_eth(result.penalty)} back to the processor; total gas {result.total_gas:,}"
    )
    console.print("\n[bold]What the customer sees[/] (`provenance verify`):\n")
    render(result.report)


COMMANDS = [demo]
