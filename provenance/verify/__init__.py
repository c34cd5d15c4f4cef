"""Event-sourced verification of a batch: custody, title, lineage, attestations, recalls, sales.

Three parts, one direction:

- `collect` fetches a batch's history (a constant number of `eth_getLogs` questions per lineage
  level) into a `History`, from a reader of `source`: over RPC, or the local index topped up
  over RPC for the blocks after its tip;
- `analysis` replays it — pure, one handler per event kind — into a `Report`;
- `report` holds the `Report` (verdict, reasons, timeline, lineage, attestations, recalls,
  deliveries, title) and its JSON form; shells render it.

`verify(chain, deployment, batch_id, index=...)` runs the three and counts the RPC calls.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from provenance.chain import Chain, ChainIdentity
from provenance.encoding import hash_file
from provenance.exceptions import ConfigError
from provenance.index.store import IndexKey, IndexStore, find_index
from provenance.index.sync import DEFAULT_CONFIRMATIONS
from provenance.logs import CallCounter, count_calls
from provenance.reverts import explain
from provenance.verify.analysis import History, analyze
from provenance.verify.collect import _decoder, collect
from provenance.verify.report import (
    ERROR,
    INFO,
    WARNING,
    Actor,
    AgreementView,
    AsOf,
    AttestationView,
    DocumentCheck,
    LineageNode,
    Reason,
    RecallView,
    Report,
    Stats,
    TimelineEntry,
    TitleView,
    UnconfirmedView,
    Verdict,
)
from provenance.verify.source import IndexOffChain, IndexReader, Reader, RpcReader


def verify(
    chain: Chain,
    deployment: Any,
    batch_id: str,
    *,
    docs: Sequence[Path] = (),
    names: Mapping[str, str] | None = None,
    max_range: int | None = None,
    index: Path | None = None,
    confirmations: int | None = None,
) -> Report:
    """Verify `batch_id` from the event logs of `deployment` (a `provenance.deploy.Deployment`).

    `docs` are files whose keccak256 must be anchored in the history; `names` maps participant
    addresses to display names (the registry only stores a metadata hash).

    `index`: the local index file of this chain identity and deployment (see `find_index`), read
    (read-only) up to its tip and topped up over RPC for the newer blocks; while `chain` does
    not answer, the index alone answers, as of its tip, and a warning says so. An index whose
    tip is no longer on the chain is not read (the events come over RPC; an info says so).
    Without it, every event comes over RPC. The report is the same either way, but for `stats`,
    `source` and `as_of`.

    `confirmations`: events in the newest N blocks below the head are unconfirmed (shown, but
    never the verdict's basis; see `analysis.analyze`). Default: the index's confirmation depth
    when one is read, else 0 on a local chain and `DEFAULT_CONFIRMATIONS` elsewhere.
    """
    doc_hashes = [(str(path), hash_file(path)) for path in docs]
    decoder = _decoder()
    notes: list[Reason] = []
    counter = CallCounter()
    reachable = bool(getattr(chain, "reachable", True))
    with count_calls(chain, counter) if reachable else contextlib.nullcontext(counter):
        reader: Reader | None = None
        if index is not None:
            reader, note = _index_reader(chain, deployment, index, decoder, confirmations,
                                         max_range)  # fmt: skip
            notes.extend(note)
        if reader is None:
            depth = confirmations
            if depth is None:
                depth = 0 if chain.is_local else DEFAULT_CONFIRMATIONS
            try:
                reader = RpcReader(chain, int(deployment.deploy_block), decoder,
                                   confirmations=depth, max_range=max_range)  # fmt: skip
            except Exception as exc:
                raise explain(exc, chain, "reading the chain head") from exc
        try:
            history, fetched = collect(chain, deployment, batch_id, decoder=decoder, reader=reader)
        finally:
            if isinstance(reader, IndexReader):
                reader.store.close()
    report = analyze(history, docs=doc_hashes, names=names)
    as_of = reader.as_of()
    if not as_of.chain_reachable:
        notes.append(unreachable_reason(chain.rpc, as_of.block))
    report = replace(
        report,
        source=as_of.source,
        as_of=as_of,
        stats=Stats(
            rpc_calls=counter.total,
            get_logs_calls=counter.get_logs,
            logs_fetched=fetched,
            batches=report.stats.batches,
        ),
    )
    return report.with_reasons(*notes) if notes else report


def unreachable_reason(rpc: str, block: int) -> Reason:
    """The warning of an answer from the index alone, the chain at `rpc` being down."""
    return Reason(
        WARNING,
        f"the chain at {rpc} does not answer: this is the local index's answer as of block "
        f"{block}; anything recorded after it (a recall…) is not shown",
    )


def _index_reader(
    chain: Chain,
    deployment: Any,
    index: Path,
    decoder: Any,
    confirmations: int | None,
    max_range: int | None,
) -> tuple[Reader | None, list[Reason]]:
    """The index reader, or (None, why not) when its tip is no longer on the chain."""
    key = index_key(chain.identity, deployment)
    store = IndexStore(index, create=False, readonly=True)
    if store.key != key:
        store.close()
        raise ConfigError(
            f"the index {index} belongs to another chain or deployment: it is never read for "
            f"{chain.identity.describe()}"
        )
    depth = confirmations if confirmations is not None else (store.confirmations or 0)
    try:
        return IndexReader(store, chain, decoder, confirmations=depth, max_range=max_range), []
    except IndexOffChain as exc:
        store.close()
        if not chain.reachable:
            raise
        why = f"{exc}: read over RPC instead; run `provenance index sync` to bring it up to date"
        return None, [Reason(INFO, why)]
    except BaseException:
        store.close()
        raise


def index_key(identity: ChainIdentity, deployment: Any) -> IndexKey:
    """The key of the index of `deployment` on the chain `identity`."""
    return IndexKey(
        identity=identity,
        registry=str(deployment.registry),
        agreements=str(deployment.agreements),
        deploy_block=int(deployment.deploy_block),
    )


def find_index_for(
    identity: ChainIdentity, deployment: Any, root: Path | None = None
) -> Path | None:
    """The local index file of `deployment` on the chain `identity`, if one was synced."""
    return find_index(index_key(identity, deployment), root)


__all__ = [
    "ERROR",
    "INFO",
    "WARNING",
    "Actor",
    "AgreementView",
    "AsOf",
    "AttestationView",
    "DocumentCheck",
    "History",
    "LineageNode",
    "Reason",
    "RecallView",
    "Report",
    "Stats",
    "TimelineEntry",
    "TitleView",
    "UnconfirmedView",
    "Verdict",
    "analyze",
    "collect",
    "find_index_for",
    "index_key",
    "unreachable_reason",
    "verify",
]
