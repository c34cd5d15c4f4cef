"""Helpers shared by the index tests: a fresh Anvil per test, a writer of raw registry
transactions (kept, so that a reorganisation can put them back in other blocks), and the
reference index (synced from scratch, directly) that every other index must equal."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount

from provenance import demo, node
from provenance.chain import Chain, connect, dev_accounts
from provenance.demo import DemoResult
from provenance.deploy import Deployment, deploy, record_path
from provenance.gs1 import batch_id
from provenance.index import IndexStore, SyncOptions, sync
from provenance.records import NewBatch, Role
from provenance.registry import RegistryClient
from provenance.rpc import JsonRpc
from provenance.transactions import Transactor
from tests.support import free_port

GTIN = "09506000134352"  # under the farm's prefix
PREFIX = "9506000"
ZERO = b"\0" * 32
GAS = 3_000_000


@dataclass
class Node:
    info: node.NodeInfo
    chain: Chain
    root: Path

    @property
    def url(self) -> str:
        return self.info.url

    def rpc(self, method: str, *params: Any) -> Any:
        return JsonRpc(self.url).call(method, list(params))


def start_node(root: Path, port: int | None = None, *, fresh: bool = True) -> Node:
    info = node.start("anvil", port or free_port(), root, fresh=fresh, state_interval=0)
    return Node(info, connect(info.url), root)


@pytest.fixture
def anvil(tmp_path: Path) -> Iterator[Node]:
    """A fresh Anvil of this test's own (reorganisations and restarts stay here)."""
    started = start_node(tmp_path / "node")
    yield started
    node.stop(started.root)


class Writer:
    """Registry transactions of the farm and the carrier, signed here and kept raw."""

    def __init__(self, chain: Chain, deployment: Deployment) -> None:
        self.chain = chain
        self.deployment = deployment
        self.operator, self.farm, self.carrier = dev_accounts(3)
        self.contract = RegistryClient.from_deployment(chain, deployment).contract
        self.sent: list[bytes] = []

    @classmethod
    def deployed(cls, chain: Chain, root: Path) -> Writer:
        """Deploy (recorded under `root`), register the farm and the carrier, give the farm its
        company prefix."""
        deployment = deploy(chain, dev_accounts(1)[0], save=True, root=root, force=True)
        operator = RegistryClient.from_deployment(
            chain, deployment, Transactor(chain, dev_accounts(1)[0], root=root)
        )
        writer = cls(chain, deployment)
        operator.register_participant(writer.farm.address, Role.PRODUCER)
        operator.register_participant(writer.carrier.address, Role.CARRIER)
        operator.assign_prefix(writer.farm.address, PREFIX)
        return writer

    def sign(self, account: LocalAccount, call: Any, nonce: int | None = None) -> bytes:
        w3 = self.chain.w3
        tx = call.build_transaction(
            {
                "from": account.address,
                "nonce": w3.eth.get_transaction_count(account.address) if nonce is None else nonce,
                "gas": GAS,
                "maxFeePerGas": 10 * 10**9,
                "maxPriorityFeePerGas": 10**9,
                "chainId": self.chain.chain_id,
            }
        )
        return bytes(account.sign_transaction(tx).raw_transaction)

    def send(self, raw: bytes) -> Any:
        receipt = self.chain.wait_for_receipt(self.chain.w3.eth.send_raw_transaction(raw))
        assert receipt["status"] == 1
        self.sent.append(raw)
        return receipt

    def create_call(self, lots: Sequence[str], quantity: int = 10) -> Any:
        batches = [NewBatch(GTIN, lot, quantity).to_tuple() for lot in lots]
        return self.contract.functions.createBatches(batches)

    def create(self, *lots: str, quantity: int = 10) -> list[str]:
        self.send(self.sign(self.farm, self.create_call(lots, quantity)))
        return [batch_id(GTIN, lot) for lot in lots]

    def hand_over(self, batches: Sequence[str]) -> None:
        """The farm hands the batches to the carrier, who accepts (two blocks)."""
        ids = [bytes.fromhex(b[2:]) for b in batches]
        self.send(
            self.sign(
                self.farm,
                self.contract.functions.initiateHandoffs(
                    ids, self.carrier.address, 0, 0, 0, False, ZERO
                ),
            )
        )
        self.send(self.sign(self.carrier, self.contract.functions.acceptHandoffs(ids, ZERO)))

    def history(self, rounds: int, per_round: int = 5, tag: str = "H") -> int:
        """`rounds` × (create, hand off, accept `per_round` batches): 3 blocks and
        3 × per_round events a round."""
        for r in range(rounds):
            batches = self.create(*(f"{tag}{r}-{i}" for i in range(per_round)))
            self.hand_over(batches)
        return rounds * 3 * per_round


def reference(url: str, deployment: Deployment, root: Path, confirmations: int = 0) -> IndexStore:
    """An index synced from scratch in one go, directly: what every other index must equal."""
    result = sync(url, deployment, root=root, options=SyncOptions(confirmations=confirmations))
    return IndexStore(Path(result.path), create=False)


@dataclass
class Rich:
    """A chain with every kind of story: the demo's (agreement, tender, settlement, transform,
    split, recall, attestation…) and a long bulk history after it."""

    node: Node
    deployment: Deployment
    writer: Writer
    demo: DemoResult

    @property
    def url(self) -> str:
        return self.node.url

    @property
    def record(self) -> Path:
        identity = self.deployment.identity
        assert identity is not None, "the rich chain's deployment knows its chain"
        return record_path(identity, self.node.root.parent)


@pytest.fixture(scope="session")
def rich(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Rich]:
    root = tmp_path_factory.mktemp("rich-chain")
    started = start_node(root / "node")
    result = demo.run(started.chain, save=True, root=root)
    writer = Writer(started.chain, result.deployment)
    writer.history(20, 5)
    yield Rich(started, result.deployment, writer, result)
    node.stop(started.root)


#: The only report fields allowed to differ between the index path and the pure RPC path: how
#: the events were read (calls, counts) and from where.
SOURCE_FIELDS = ("stats", "source", "as_of")


def comparable(report: Any) -> dict[str, Any]:
    """A report's JSON form without `SOURCE_FIELDS`."""
    data = report.to_dict()
    for name in SOURCE_FIELDS:
        data.pop(name)
    return data  # type: ignore[no-any-return]


def verify_both_ways(chain: Chain, deployment: Any, batch: str, root: Path, **kwargs: Any) -> Any:
    """Verify `batch` over RPC, and through an index synced now (under `root`); assert that the
    two reports are equal field by field (but for `SOURCE_FIELDS`), return the RPC one."""
    from provenance.verify import verify

    result = sync(chain.rpc, deployment, root=root, options=SyncOptions(confirmations=0))
    by_rpc = verify(chain, deployment, batch, **kwargs)
    by_index = verify(chain, deployment, batch, index=Path(result.path), **kwargs)
    assert by_rpc.source == "rpc" and by_index.source == "index"
    assert by_index.as_of is not None and by_index.as_of.index_tip == result.tip
    assert comparable(by_index) == comparable(by_rpc)
    return by_rpc
