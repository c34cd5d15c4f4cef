"""A local SQLite index of the contracts' events, kept in step with the chain.

- `store`: the file (one per chain identity and deployment), its tables and the event queries
  `verify` needs (`IndexStore.events`: the question `eth_getLogs` answers, from SQLite).
- `sync`: paged, resumable, reorganisation-safe syncing through `provenance.rpc`.
- `schema`: the event tables, built from the contracts' ABIs.
"""

from __future__ import annotations

from provenance.index.store import (
    ChainIdentity,
    EventSource,
    IndexedEvent,
    IndexKey,
    IndexStore,
    Tip,
    index_dir,
    index_path,
)
from provenance.index.sync import (
    DEFAULT_CONFIRMATIONS,
    IndexStatus,
    Reorg,
    Syncer,
    SyncOptions,
    SyncResult,
    chain_identity,
    open_syncer,
    status,
    sync,
)

__all__ = [
    "DEFAULT_CONFIRMATIONS",
    "ChainIdentity",
    "EventSource",
    "IndexKey",
    "IndexStatus",
    "IndexStore",
    "IndexedEvent",
    "Reorg",
    "SyncOptions",
    "SyncResult",
    "Syncer",
    "Tip",
    "chain_identity",
    "index_dir",
    "index_path",
    "open_syncer",
    "status",
    "sync",
]
