"""Customer command: `verify` a product's whole story from the chain's event log (no key)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from provenance.cli.context import CONTEXT_SETTINGS, Env, handle_errors, pass_env
from provenance.cli.options import BATCH, GTIN, LOT, LibraryType
from provenance.cli.output import console, format_eth, format_time, table

if TYPE_CHECKING:
    from rich.tree import Tree

EXIT_ERROR = 3
EXIT_USAGE = 4
VERDICT_STYLE = {"VERIFIED": "bold green", "WARNING": "bold yellow", "FAILED": "bold red"}


class VerifyCommand(click.Command):
    """`verify` exits with the verdict, so usage errors get their own code (4, not click's 2)."""

    def make_context(self, *args: Any, **kwargs: Any) -> click.Context:
        try:
            return super().make_context(*args, **kwargs)
        except click.UsageError as exc:
            exc.exit_code = EXIT_USAGE  # type: ignore[misc]
            raise

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.UsageError as exc:
            exc.exit_code = EXIT_USAGE  # type: ignore[misc]
            raise
        except (Exception, KeyboardInterrupt) as exc:
            error = handle_errors(ctx, exc, EXIT_ERROR)  # Ctrl-C: 130, never a verdict's code
            if error is None:
                raise
            raise error from exc


def _who(actor: Any, fallback: str | None = None) -> str:
    if actor is None:
        return fallback or "-"
    label = actor.name or actor.address
    roles = f" ({', '.join(r.lower() for r in actor.roles)})" if actor.roles else ""
    flag = "" if actor.active else " [suspended]"
    return f"{label}{roles}{flag}"


EVENT_LABELS = {
    "BatchCreated": "created",
    "HandoffInitiated": "handed off",
    "HandoffAccepted": "accepted",
    "HandoffRejected": "rejected",
    "HandoffCancelled": "cancelled handoff",
    "BatchConsumed": "consumed",
    "BatchSplit": "split off",
    "BatchDerived": "derived",
    "BatchRecalled": "RECALLED",
    "RecallLifted": "recall lifted",
    "DeliveryReleased": "delivery released",
    "TitleTransferred": "title transferred",
    "AttestationIssued": "attested",
    "AttestationRevoked": "attestation revoked",
}


def _event_label(entry: Any) -> str:
    """What a timeline entry says: a tender and a settling acceptance name their agreement."""
    details = entry.details or {}
    agreement = details.get("agreement")
    if entry.event == "HandoffInitiated" and details.get("tender"):
        late = details.get("daysLate", 0)
        when = f", {late} day(s) late" if late else ", on time"
        return f"tendered under agreement #{agreement}{when}"
    if entry.event == "HandoffAccepted" and agreement is not None:
        return f"accepted the delivery (agreement #{agreement} settled, title passed)"
    if entry.event == "HandoffAccepted" and details.get("title"):
        return "accepted (with title)"
    if entry.event == "HandoffCancelled" and details.get("released") is not None:
        return "pending handoff withdrawn with the delivery"
    if entry.event in ("DeliveryReleased", "TitleTransferred"):
        return f"{EVENT_LABELS[entry.event]} (agreement #{agreement})"
    return EVENT_LABELS.get(str(entry.event), str(entry.event))


def _text(value: str) -> str:
    from provenance.encoding import bytes32_to_text

    try:
        return bytes32_to_text(value)
    except Exception:
        return value


def _names(report: Any) -> dict[str, str]:
    found: dict[str, str] = {}
    for entry in report.timeline:
        for actor in (entry.actor, entry.counterparty):
            if actor is not None and actor.name:
                found[actor.address] = actor.name
    return found


def _who_address(address: str | None, names: dict[str, str]) -> str:
    if not address:
        return "?"
    return names.get(address, address)


def _short(batch: str, labels: dict[str, str]) -> str:
    return labels.get(batch) or f"{batch[:10]}…"


def _lineage_tree(node: Any, tree: Tree, labels: dict[str, str]) -> None:
    for parent in node.parents:
        branch = tree.add(_node_label(parent))
        _lineage_tree(parent, branch, labels)


def _node_label(node: Any) -> str:
    name = f"{node.gtin}/{node.lot}" if node.gtin and node.lot else node.batch_id
    qty = f" {node.quantity} {node.uom}" if node.quantity is not None else ""
    recalled = " [bold red]RECALLED[/]" if node.recalled else ""
    return f"{name}{qty} — {node.origin}{recalled} [dim]{node.batch_id[:10]}…[/]"


def _labels(node: Any, out: dict[str, str]) -> dict[str, str]:
    if node.gtin and node.lot:
        out[node.batch_id] = f"{node.lot}"
    for parent in node.parents:
        _labels(parent, out)
    return out


def render(report: Any) -> None:
    """Print a verification report for a person (what `provenance verify` shows)."""
    from rich.markup import escape
    from rich.tree import Tree

    verdict = report.verdict.value
    console.print(f"[{VERDICT_STYLE[verdict]}]{verdict}[/]  batch {report.batch_id}")
    for reason in report.reasons:
        mark = {"error": "✗", "warning": "!", "info": "·"}.get(reason.severity, "·")
        console.print(f"  {mark} {reason.severity}: {escape(reason.message)}")
    labels = _labels(report.lineage, {})

    names = _names(report)
    pending = {(u.block, u.log_index) for u in report.unconfirmed}
    console.print("\n[bold]Custody timeline[/] (who, role, when, where, documents)")
    for entry in report.timeline:
        mark = "  [yellow]\\[unconfirmed][/]" if (entry.block, entry.log_index) in pending else ""
        step = "/".join(x for x in (entry.biz_step, entry.disposition) if x)
        other = f" → {_who(entry.counterparty)}" if entry.counterparty is not None else ""
        if entry.event == "HandoffAccepted" and entry.counterparty is not None:
            other = f" ← from {_who(entry.counterparty)}"
        where = f" at GLN {entry.location:013d}" if entry.location else ""
        console.print(
            f"  {format_time(entry.at)}  [bold]{_short(entry.batch_id, labels)}[/]  "
            f"{_event_label(entry)}  by {_who(entry.actor)}{other}"
            f"{where}{f'  ({escape(step)})' if step else ''}{mark}"
        )
        for doc in entry.documents:
            console.print(f"      document {doc}")
    console.print("\n[bold]Lineage[/] (back to the origin batches)")
    tree = Tree(_node_label(report.lineage))
    _lineage_tree(report.lineage, tree, labels)
    console.print(tree)

    console.print("\n[bold]Attestations[/]")
    if report.attestations:
        atts = table("subject", "claim", "issuer", "valid", "at use", "now")
        for a in report.attestations:
            atts.add_row(
                _short(a.subject, labels),
                _text(a.claim),
                _who(a.issuer),
                f"{format_time(a.valid_from)} → {format_time(a.valid_until)}"
                + (f" (revoked {format_time(a.revoked_at)})" if a.revoked_at else ""),
                "valid" if a.valid_at_use else "INVALID",
                "valid" if a.valid_now else "not valid",
            )
        console.print(atts)
    else:
        console.print("  none")

    console.print("\n[bold]Recalls[/] (this batch, ancestors, siblings, descendants)")
    if report.recalls:
        for r in report.recalls:
            lifted = (
                f" — lifted by {names.get(r.lifted_by or '', r.lifted_by)} at "
                f"{format_time(r.lifted_at)}"
                if r.lifted_at is not None
                else ""
            )
            style = "dim" if r.lifted_at is not None else "bold red"
            what = r.lot or _short(r.batch_id, labels)
            console.print(
                f"  [{style}]{r.relation}[/]: {what} recalled by "
                f"{names.get(r.by, r.by)} at {format_time(r.at)}: {escape(_text(r.reason))}"
                f"{lifted}"
            )
    else:
        console.print("  none: neither this batch nor any ancestor is recalled")

    console.print("\n[bold]Deliveries[/] (agreements that took this batch or an ancestor)")
    if not report.agreements:
        console.print("  no agreement took a delivery of this batch or an ancestor")
    for a in report.agreements:
        console.print("  " + _delivery_line(a, labels, names))
    if report.titles:
        console.print("\n[bold]Title[/] (who owned it, from the registry's log)")
        for t in report.titles:
            via = f"{t.via} (agreement #{t.agreement_id})" if t.agreement_id else t.via
            console.print(
                f"  {format_time(t.at)}  {_short(t.batch_id, labels)}: "
                f"{_who_address(t.from_, names)} → {_who_address(t.to, names)} by {via}"
            )
    if report.owner or report.custodian:
        console.print(
            f"\nnow held by {_who_address(report.custodian, names)}, owned by "
            f"{_who_address(report.owner, names)}"
        )
    if report.documents:
        console.print("\n[bold]Documents[/]")
        for d in report.documents:
            where = ", ".join(d.matched) if d.matched else "NOT anchored in this history"
            console.print(f"  {d.label}: {d.hash[:14]}… {where}")
    s = report.stats
    console.print(
        f"\n[dim]{s.batches} batch(es), {s.logs_fetched} events, {s.rpc_calls} RPC calls "
        f"({s.get_logs_calls} eth_getLogs); {_source_line(report.as_of)}[/]"
    )
    console.print(f"[{VERDICT_STYLE[verdict]}]{verdict}[/]")


def _source_line(as_of: Any) -> str:
    """Where the events came from, and as of which block."""
    if as_of is None:
        return "read over RPC"
    if as_of.source != "index":
        return f"read over RPC up to block {as_of.block}"
    if not as_of.chain_reachable:
        return f"read from the local index only, as of block {as_of.block} (chain unreachable)"
    return (
        f"read from the local index (to block {as_of.index_tip}) and over RPC up to block "
        f"{as_of.block} ({as_of.topped_up} newer event(s))"
    )


def _delivery_line(a: Any, labels: dict[str, str], names: dict[str, str]) -> str:
    """One delivery: the agreement, its parties, the tender (and lateness) and its outcome."""
    price = f" of {format_eth(a.price)}" if a.price is not None else ""
    via = f" via carrier {_who_address(a.carrier, names)}" if a.carrier else ""
    late = f"{a.days_late} day(s) late" if a.days_late else "on time"
    head = (
        f"{_short(a.batch_id, labels)}: agreement #{a.agreement_id}{price}, supplier "
        f"{_who_address(a.supplier, names)} → buyer {_who_address(a.buyer, names)}{via}; "
        f"tendered {format_time(a.tendered_at)} ({late})"
    )
    if a.tenders > 1:
        head += f", {a.tenders} tenders"
    if a.status == "settled":
        penalty = f", penalty {format_eth(a.penalty)} to the buyer" if a.penalty else ""
        return (
            f"{head}; accepted and settled {format_time(a.settled_at)}: supplier received "
            f"{format_eth(a.supplier_amount or 0)}{penalty}, buyer got back "
            f"{format_eth(a.buyer_amount or 0)}"
        )
    if a.status == "resolved":
        how = "by default" if a.resolved_by_default else "by the arbiter"
        title = ", title passed" if a.delivered else ", goods stayed with the supplier"
        return (
            f"{head}; {a.dispute} and resolved {how} {format_time(a.resolved_at)}: supplier "
            f"{format_eth(a.supplier_amount or 0)}, buyer {format_eth(a.buyer_amount or 0)}"
            f"{title}"
        )
    if a.status in ("rejected", "escalated"):
        return f"{head}; {a.status.upper()} {format_time(a.disputed_at)}: dispute open"
    if a.status in ("withdrawn", "refunded"):
        return f"{head}; withdrawn by the supplier"
    return f"{head}; awaiting the buyer's acceptance"


def keystore_names(env: Env) -> dict[str, str]:
    try:
        from provenance.accounts import Keystore, keystore_dir

        store = Keystore(keystore_dir(env.session.root))
        return {info.address: info.name for info in store.list() if info.usable}
    except Exception:  # keystore names are a nicety; never fail verification over them
        return {}


class NameType(LibraryType):
    """ADDRESS=NAME: a display name for an address."""

    name = "address=name"

    def parse(self, value: str) -> Any:
        from provenance.encoding import Address
        from provenance.exceptions import InvalidInput

        address, sep, label = value.partition("=")
        if not sep or not label:
            raise InvalidInput(f"invalid --name {value!r}: expected ADDRESS=NAME")
        return Address(address, "address of --name"), label


@click.command(
    cls=VerifyCommand,
    context_settings=CONTEXT_SETTINGS,
    short_help="Verify a product's whole story (exit code = verdict).",
)
@click.argument("batch_ref", metavar="BATCH", type=BATCH, required=False)
@click.option("--gtin", type=GTIN, help="GTIN of the product (with --lot, instead of BATCH).")
@click.option("--lot", type=LOT, help="Lot of the product (with --gtin).")
@click.option(
    "--doc",
    "docs",
    multiple=True,
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Check that this file's hash is anchored in the history (repeatable).",
)
@click.option(
    "--name",
    "names",
    type=NameType(),
    multiple=True,
    help="Show NAME for ADDRESS (keystore names are used automatically).",
)
@click.option(
    "--no-index",
    "no_index",
    is_flag=True,
    help="Read every event over RPC, even when a local index of this chain exists.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@pass_env
def verify(
    env: Env,
    batch_ref: str | None,
    gtin: str | None,
    lot: str | None,
    docs: tuple[Path, ...],
    names: tuple[tuple[str, str], ...],
    no_index: bool,
    as_json: bool,
) -> None:
    """Verify a product: verdict with every reason, custody timeline, lineage back to the origin,
    attestations, recalls (and lifted ones) over the lineage, the deliveries under agreements
    (tender, days late, settlement or dispute) and title. Read-only: needs no key.

    BATCH is a batch id or a GS1 Digital Link (https://id.gs1.org/01/<gtin>/10/<lot>, or the
    short form 01/<gtin>/10/<lot>); or give --gtin and --lot.

    When `provenance index sync` made a local index of this chain and deployment, the events are
    read from it and topped up over RPC for the newer blocks (the same report, in milliseconds);
    while the chain does not answer, the index answers as of its last block, with a warning.
    --no-index reads everything over RPC. Events too close to the chain head to be final are
    shown as unconfirmed and never change the verdict on their own.

    \b
    Exit codes:
        0  VERIFIED  the history is complete and consistent
        1  WARNING   consistent, but something deserves a look (a sibling or descendant
                     recalled, a delivery in dispute, …)
        2  FAILED    broken, contradicted, or recalled (batch or an ancestor)
        3  error     the check could not run (chain unreachable, no deployment)
        4  usage     bad command-line usage, or a value refused (a wrong GTIN check digit…)
      130  interrupted (Ctrl-C): no verdict

    \b
    Example:
        provenance verify https://id.gs1.org/01/09506000134369/10/JAM-1
        provenance verify --gtin 09506000134369 --lot JAM-1 --doc certificate.pdf --json
    """
    from provenance.gs1 import batch_id

    if batch_ref and (gtin or lot):
        raise click.UsageError("give either BATCH or --gtin/--lot, not both")
    if batch_ref:
        bid = batch_ref
    elif gtin and lot:
        bid = batch_id(gtin, lot)
    else:
        raise click.UsageError("give a BATCH (id or Digital Link), or both --gtin and --lot")
    labels = keystore_names(env)
    labels.update(dict(names))
    from provenance.epcis.store import EventStore, check_report

    session = env.session
    if as_json:
        report = session.verify(bid, docs=docs, names=labels, use_index=not no_index)
        report = check_report(report, EventStore())  # stored EPCIS events vs their anchors
        report.write_json(sys.stdout)  # streamed: a long history's JSON is never held whole
        sys.stdout.write("\n")
    else:
        with console.status("reading the batch's history…"):
            report = session.verify(bid, docs=docs, names=labels, use_index=not no_index)
            report = check_report(report, EventStore())  # stored EPCIS events vs anchors
        render(report)
    ctx = click.get_current_context()
    ctx.exit(report.exit_code)


COMMANDS = [verify]
