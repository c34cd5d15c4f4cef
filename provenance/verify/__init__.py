"""Event-sourced verification of a batch: custody, title, lineage, attestations, recalls, sales.

Three parts, one direction:

- `collect` fetches a batch's history over RPC (a constant number of `eth_getLogs` calls per
  lineage level) into a `History`;
- `analysis` replays it — pure, one handler per event kind — into a `Report`;
- `report` holds the `Report` (verdict, reasons, timeline, lineage, attestations, recalls,
  deliveries, title) and its JSON form; shells render it.

`verify(chain, deployment, batch_id)` runs the three and counts the RPC calls.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from provenance.chain import Chain
from provenance.encoding import hash_file
from provenance.logs import CallCounter, count_calls
from provenance.verify.analysis import History, analyze
from provenance.verify.collect import collect
from provenance.verify.report import (
    ERROR,
    INFO,
    WARNING,
    Actor,
    AgreementView,
    AttestationView,
    DocumentCheck,
    LineageNode,
    Reason,
    RecallView,
    Report,
    Stats,
    TimelineEntry,
    TitleView,
    Verdict,
)


def verify(
    chain: Chain,
    deployment: Any,
    batch_id: str,
    *,
    docs: Sequence[Path] = (),
    names: Mapping[str, str] | None = None,
    max_range: int | None = None,
) -> Report:
    """Verify `batch_id` from the event logs of `deployment` (a `provenance.deploy.Deployment`).

    `docs` are files whose keccak256 must be anchored in the history; `names` maps participant
    addresses to display names (the registry only stores a metadata hash).
    """
    doc_hashes = [(str(path), hash_file(path)) for path in docs]
    with count_calls(chain, CallCounter()) as counter:
        history, fetched = collect(chain, deployment, batch_id, max_range=max_range)
    report = analyze(history, docs=doc_hashes, names=names)
    return replace(
        report,
        stats=Stats(
            rpc_calls=counter.total,
            get_logs_calls=counter.get_logs,
            logs_fetched=fetched,
            batches=report.stats.batches,
        ),
    )


__all__ = [
    "ERROR",
    "INFO",
    "WARNING",
    "Actor",
    "AgreementView",
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
    "Verdict",
    "analyze",
    "collect",
    "verify",
]
