"""The property a consortium's read servers rest on: indexes synced from the same chain through
different paths are identical. One goes through a provider that limits ranges and results, rate
limits with 429 + Retry-After, times out and resets connections; one goes direct; one is
interrupted twice and resumed with other page sizes."""

from __future__ import annotations

from pathlib import Path

import pytest

from provenance.index import IndexStore, SyncOptions, sync
from provenance.rpc import RetryPolicy
from tests.support.index import Rich, reference
from tests.support.rpc_proxy import Limits, RpcProxy

pytestmark = pytest.mark.anvil

PUBLIC_PROVIDER = Limits(
    max_block_range=8,
    max_results=30,
    rate=10,
    retry_after=1,
    timeout_every=29,
    stall=0.6,
    reset_every=23,
)


def test_indexes_synced_through_different_paths_are_identical(rich: Rich, tmp_path: Path) -> None:
    direct = reference(rich.url, rich.deployment, tmp_path / "direct")

    with RpcProxy(rich.url, PUBLIC_PROVIDER) as proxy:
        options = SyncOptions(
            confirmations=0,
            max_range=10_000,  # what a client would try on a remote provider
            policy=RetryPolicy(timeout=0.5, backoff=0.05, max_backoff=0.2),
        )
        through = sync(proxy.url, rich.deployment, root=tmp_path / "proxy", options=options)
    assert through.complete and through.tip == direct.tip().number  # type: ignore[union-attr]
    # It met every limit, and obeyed: nothing came back before its Retry-After.
    assert proxy.throttled >= 1 and proxy.timeouts >= 1 and proxy.resets >= 1
    assert proxy.early == 0
    # Each refusal taught it something (the stated range cap, the result cap): it did not keep
    # asking for too much; and every request the proxy saw, the client made on purpose.
    assert 2 <= proxy.refusals <= 4
    assert proxy.requests == through.rpc["http_requests"] + 2  # + chain id and genesis
    assert through.rpc["throttled"] == proxy.throttled
    assert through.rpc["failures"] == proxy.timeouts + proxy.resets

    pages = [0]

    def after(n: int) -> object:
        def stop() -> bool:
            pages[0] += 1
            return pages[0] % n == 0

        return stop

    resumed_root = tmp_path / "resumed"
    first = sync(rich.url, rich.deployment, root=resumed_root,
                 options=SyncOptions(confirmations=0, max_range=5), stop=after(4))  # fmt: skip
    second = sync(rich.url, rich.deployment, root=resumed_root,
                  options=SyncOptions(confirmations=0, max_range=3), stop=after(5))  # fmt: skip
    third = sync(rich.url, rich.deployment, root=resumed_root,
                 options=SyncOptions(confirmations=0, target_results=7))  # fmt: skip
    assert not first.complete and not second.complete and third.complete
    assert second.first_block == first.tip + 1 and third.first_block == second.tip + 1  # type: ignore[operator]

    indexes = [Path(direct.path), Path(through.path), Path(third.path)]
    assert len(set(indexes)) == 3 and len({p.name for p in indexes}) == 1  # same key, 3 files
    dumps = []
    for path in indexes:
        with IndexStore(path, create=False) as store:
            dumps.append(list(store.dump()))
    assert dumps[1] == dumps[0]
    assert dumps[2] == dumps[0]
    assert len(dumps[0]) > 400
