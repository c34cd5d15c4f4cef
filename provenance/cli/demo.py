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
@click.option(
    "--serve",
    "serve_after",
    is_flag=True,
    help="Then serve the verification pages of the demo's chain (Ctrl-C stops).",
)
@click.option(
    "--port",
    default=8000,
    show_default=True,
    type=click.IntRange(1, 65535),
    help="Port of the resolver the label points at (and --serve listens on, on 127.0.0.1).",
)
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder for the jar's label and the participant directory (default: <data dir>/demo).",
)
@pass_env
def demo(
    env: Env, as_json: bool, save: bool | None, serve_after: bool, port: int, out: Path | None
) -> None:
    """Play the full farm-to-shelf scenario: deploy; register farm, carrier, processor,
    retailer and certifier; assign the farm's and the processor's GS1 company prefixes; harvest,
    attest ORGANIC, agree with escrow (signed offline by the farm), tender late to the carrier
    the terms name (the penalty is fixed at the tender), carry the last leg, accept the delivery
    (the agreement settles in that transaction), make jam under the processor's prefix, split it
    into lots A and B, sell lot A, recall lot B, and verify lot A, lot B, the farm's batch and an
    unrelated batch as a customer would.

    Runs on the embedded chain unless --rpc is given (e.g. an Anvil node; the demo deploys a
    fresh set of contracts there). Exits 0 when the story ran, whatever the verdict. It ends with
    the address of the scanned jar's verification page and the path of its QR label (and the
    participant directory the operator publishes); --serve then serves that page.

    \b
    Example:
        provenance demo
        provenance demo --serve          # then open http://127.0.0.1:8000/01/09521234000013/10/JAM-2026-01-A
        provenance --rpc http://127.0.0.1:8545 demo
    """
    from provenance.chain import EMBEDDED
    from provenance.config import data_dir
    from provenance.demo import JAM_GTIN, JAM_LOT, run
    from provenance.labels import Label, write_label
    from provenance.session import Session

    rpc = env.rpc or EMBEDDED  # the demo never silently uses a running node's saved state
    if not as_json:
        where = "the embedded chain (nothing persists)" if rpc == EMBEDDED else rpc
        console.print(f"[bold]Provenance demo[/] on {where}\n")
    with tempfile.TemporaryDirectory(prefix="provenance-demo-") as tmp:
        chain = Session(rpc).chain()
        root = Path(tmp) if rpc == EMBEDDED and not save else None
        result = run(chain, on_step=None if as_json else _show_step, save=save, root=root)
    folder = out or data_dir() / "demo"
    jar = Label.of(JAM_GTIN, f"{JAM_LOT}-A", f"http://127.0.0.1:{port}")
    label_files = write_label(jar, folder)
    folder.mkdir(parents=True, exist_ok=True)
    result.directory.save(folder / "participants.json")
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
                "page": jar.uri,
                "label": [str(path) for path in label_files],
                "directory": str(folder / "participants.json"),
            }
        )
    else:
        _show_end(result)
        console.print(f"\n[bold]The jar on the shelf[/] (lot A): its label {label_files[0]}")
        console.print(f"  (also {label_files[1]}) opens {jar.uri}")
        console.print(f"  participant directory: {folder / 'participants.json'}")
        if not serve_after:
            console.print(
                "  serve that page: `provenance demo --serve` (this story, served until Ctrl-C)"
            )
    if serve_after:
        _serve(chain, result, port)


def _serve(chain: Any, result: Any, port: int) -> None:
    """Serve the demo's chain from this process (the embedded chain lives only here)."""
    from provenance.exceptions import ConfigError
    from provenance.web.app import create_app
    from provenance.web.server import bind, serve, url_of
    from provenance.web.source import RpcSource

    try:
        sock = bind("127.0.0.1", port)
    except OSError as exc:
        raise ConfigError(
            f"cannot listen on 127.0.0.1:{port}: {exc.strerror or exc} (use another --port)"
        ) from exc
    app = create_app(RpcSource(chain, result.deployment, result.directory), base_url=url_of(sock))
    console.print(f"\nserving the demo's chain on {url_of(sock)} (Ctrl-C stops)")
    serve(app, sock, log_level="warning")


def _show_end(result: Any) -> None:
    from rich.markup import escape

    from provenance.cli.verify import VERDICT_STYLE, render

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
