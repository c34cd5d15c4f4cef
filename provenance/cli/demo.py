"""`demo`: the whole story in one command, printed step by step, ending with the verification."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import click

from provenance.cli.context import CONTEXT_SETTINGS, Env, pass_env
from provenance.cli.output import console, format_eth, print_json

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
    """Play the full farm-to-shelf scenario: deploy; register farm, carrier, processor,
    retailer and certifier; assign the farm's and the processor's GS1 company prefixes; harvest,
    attest ORGANIC, agree with escrow (signed offline by the farm), tender late to the carrier
    the terms name (the penalty is fixed at the tender), carry the last leg, accept the delivery
    (the agreement settles in that transaction), make jam under the processor's prefix, split it
    into lots A and B, sell lot A, recall lot B, and verify lot A, lot B, the farm's batch and an
    unrelated batch as a customer would.

    Runs on the embedded chain unless --rpc is given (e.g. an Anvil node; the demo deploys a
    fresh set of contracts there). Exits 0 when the story ran, whatever the verdict.

    \b
    Example:
        provenance demo
        provenance --rpc http://127.0.0.1:8545 demo
    """
    from rich.markup import escape

    from provenance.chain import EMBEDDED
    from provenance.cli.verify import VERDICT_STYLE, render
    from provenance.demo import run
    from provenance.session import Session

    rpc = env.rpc or EMBEDDED  # the demo never silently uses a running node's saved state
    if not as_json:
        where = "the embedded chain (nothing persists)" if rpc == EMBEDDED else rpc
        console.print(f"[bold]Provenance demo[/] on {where}\n")
    with tempfile.TemporaryDirectory(prefix="provenance-demo-") as tmp:
        chain = Session(rpc).chain()
        root = Path(tmp) if rpc == EMBEDDED and not save else None
        result = run(chain, on_step=None if as_json else _show_step, save=save, root=root)
    if as_json:
        print_json(
            {
                "steps": result.steps,
                "cast": result.cast,
                "product": result.product,
                "recalled": result.recalled,
                "rawBatch": result.raw_batch,
                "unrelated": result.unrelated,
                "agreement": result.agreement_id,
                "daysLate": result.days_late,
                "supplierAmount": result.supplier_amount,
                "penalty": result.penalty,
                "buyerRefund": result.buyer_refund,
                "totalGas": result.total_gas,
                "verdicts": {label: v.value for label, v in result.verdicts.items()},
                "report": result.report.to_dict(),
                "reports": {label: r.to_dict() for label, r in result.reports.items()},
            }
        )
        return
    console.print(
        f"\nfarm paid {format_eth(result.supplier_amount)} ({result.days_late} day late at the "
        f"tender: penalty {format_eth(result.penalty)}), processor refunded "
        f"{format_eth(result.buyer_refund)}; total gas {result.total_gas:,}"
    )
    console.print("\n[bold]Who recalled what[/]: the processor, origin of the jam, recalled lot B")
    console.print("\n[bold]Verdicts[/] (`provenance verify`):")
    for label, report in result.reports.items():
        style = VERDICT_STYLE[report.verdict.value]
        first = next((r.message for r in report.reasons if r.severity != "info"), "")
        console.print(f"  {label:15} [{style}]{report.verdict.value:8}[/] {escape(first)}")
    console.print("\n[bold]What the customer sees[/] for lot A (`provenance verify`):\n")
    render(result.report)


COMMANDS = [demo]
