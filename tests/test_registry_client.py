"""RegistryClient against the real contract on Anvil."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount

from provenance.chain import Chain, dev_accounts
from provenance.deploy import Deployment, deploy
from provenance.exceptions import (
    ConfigError,
    InvalidInput,
    NotFoundError,
    PermissionDenied,
    StateConflict,
)
from provenance.registry import RegistryClient, TransformOutput
from provenance.transactions import Transactor
from provenance.types import BatchState, Role, batch_id, text_to_bytes32

GTIN = "04006381333931"
OTHER_GTIN = "10614141000415"
ADMIN, PRODUCER, CARRIER, RETAILER, CERTIFIER, STRANGER = dev_accounts(6)


@pytest.fixture(scope="module")
def deployment(anvil_chain: Chain, tmp_path_factory: pytest.TempPathFactory) -> Deployment:
    return deploy(anvil_chain, ADMIN, root=tmp_path_factory.mktemp("deploy"))


@dataclass
class Env:
    chain: Chain
    deployment: Deployment
    root: Path

    def client(self, account: LocalAccount | None = None) -> RegistryClient:
        tx = Transactor(self.chain, account, root=self.root) if account else None
        return RegistryClient.from_deployment(self.chain, self.deployment, tx)


@pytest.fixture
def env(anvil_chain: Chain, deployment: Deployment, snapshot: None, tmp_path: Path) -> Env:
    e = Env(anvil_chain, deployment, tmp_path)
    admin = e.client(ADMIN)
    admin.register_participant(PRODUCER.address, "producer,processor", gln="4012345000009")
    admin.register_participant(CARRIER.address, Role.CARRIER)
    admin.register_participant(RETAILER.address, Role.RETAILER)
    admin.register_participant(CERTIFIER.address, Role.CERTIFIER)
    return e


def test_participants_read_back(env: Env) -> None:
    reader = env.client()
    p = reader.get_participant(PRODUCER.address)
    assert p.registered and p.active and p.id == 1 and p.gln == 4012345000009
    assert p.roles == Role.PRODUCER | Role.PROCESSOR and p.has(Role.PROCESSOR)
    assert not reader.get_participant(STRANGER.address).registered
    assert reader.participant_at(1) == PRODUCER.address
    assert reader.is_admin(ADMIN.address)
    env.client(ADMIN).suspend_participant(CARRIER.address, "audit")
    assert not reader.get_participant(CARRIER.address).active
    env.client(ADMIN).reinstate_participant(CARRIER.address)
    env.client(ADMIN).update_participant(CARRIER.address, "carrier,distributor")
    assert reader.get_participant(CARRIER.address).roles == Role.CARRIER | Role.DISTRIBUTOR


def test_create_batch_returns_its_id_and_state(env: Env) -> None:
    bid, result = env.client(PRODUCER).create_batch("4006381333931", "LOT-1", 500, "KGM")
    assert bid == batch_id(GTIN, "LOT-1") and result.ok
    batch = env.client().get_batch(bid)
    assert batch.state == BatchState.ACTIVE and batch.exists and not batch.recalled
    assert (batch.custodian, batch.owner, batch.creator) == (PRODUCER.address,) * 3
    assert batch.pending_to is None
    assert (batch.gtin, batch.quantity, batch.uom) == (GTIN, 500, "KGM")


@pytest.mark.parametrize(
    ("args", "error", "message"),
    [
        (("4006381333932", "L", 1), InvalidInput, "expected 1"),
        ((GTIN, "bad lot", 1), InvalidInput, "character set 82"),
        ((GTIN, "L", 0), InvalidInput, "invalid quantity 0"),
        ((GTIN, "L", 2**48), InvalidInput, "invalid quantity"),
    ],
)
def test_create_batch_validates_client_side(
    env: Env, args: tuple[str, str, int], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        env.client(PRODUCER).create_batch(*args)


def test_contract_errors_arrive_decoded(env: Env) -> None:
    producer = env.client(PRODUCER)
    bid, _ = producer.create_batch(GTIN, "L1", 10)
    with pytest.raises(StateConflict, match="already exists"):
        producer.create_batch(GTIN, "L1", 10)
    with pytest.raises(PermissionDenied, match="lacks the role"):
        env.client(CARRIER).create_batch(GTIN, "L2", 10)
    with pytest.raises(NotFoundError, match="create it first with `provenance batch create`"):
        env.client(CARRIER).accept_handoff(batch_id(GTIN, "nope"))
    with pytest.raises(PermissionDenied, match="not the custodian"):
        env.client(CARRIER).initiate_handoff(
            env.client(CARRIER).make_handoff(bid, RETAILER.address)
        )
    with pytest.raises(NotFoundError, match="not a registered participant"):
        producer.initiate_handoff(producer.make_handoff(bid, STRANGER.address))
    with pytest.raises(PermissionDenied, match="only the operator"):
        env.client(PRODUCER).register_participant(STRANGER.address, "producer")
    with pytest.raises(ConfigError, match="read-only"):
        env.client().create_batch(GTIN, "L3", 1)


def test_two_step_handoff_moves_custody_and_ownership(env: Env) -> None:
    producer, carrier = env.client(PRODUCER), env.client(CARRIER)
    bid, _ = producer.create_batch(GTIN, "L1", 10)
    producer.initiate_handoff(
        producer.make_handoff(
            bid,
            CARRIER.address,
            biz_step="shipping",
            disposition="in_transit",
            transfer_ownership=True,
        )
    )
    assert producer.get_batch(bid).pending_to == CARRIER.address
    carrier.accept_handoff(bid)
    batch = carrier.get_batch(bid)
    assert (batch.custodian, batch.owner, batch.pending_to) == (CARRIER.address,) * 2 + (None,)


def test_reject_and_cancel(env: Env) -> None:
    producer = env.client(PRODUCER)
    bid, _ = producer.create_batch(GTIN, "L1", 10)
    producer.initiate_handoff(producer.make_handoff(bid, CARRIER.address))
    env.client(CARRIER).reject_handoff(bid, "damaged")
    assert producer.get_batch(bid).pending_to is None
    producer.initiate_handoff(producer.make_handoff(bid, CARRIER.address))
    producer.cancel_handoff(bid)
    assert producer.get_batch(bid).custodian == PRODUCER.address


def test_batched_handoffs(env: Env) -> None:
    producer = env.client(PRODUCER)
    ids = [producer.create_batch(GTIN, f"B{i}", 5)[0] for i in range(3)]
    producer.initiate_handoffs(ids, CARRIER.address, biz_step="shipping")
    env.client(CARRIER).accept_handoffs(ids)
    assert {env.client().get_batch(b).custodian for b in ids} == {CARRIER.address}


def test_record_handoff_with_receiver_signature(env: Env) -> None:
    producer = env.client(PRODUCER)
    bid, _ = producer.create_batch(GTIN, "L1", 10)
    handoff = producer.make_handoff(bid, CARRIER.address, biz_step=1)
    signed = producer.sign_handoff(CARRIER, handoff)
    assert producer.nonce_of(CARRIER.address) == 0
    producer.record_handoff(handoff, receiver=signed)
    assert producer.get_batch(bid).custodian == CARRIER.address
    assert producer.nonce_of(CARRIER.address) == 1
    with pytest.raises(InvalidInput, match="must sign this handoff"):
        producer.record_handoff(handoff)


def test_relayer_records_with_both_signatures(env: Env) -> None:
    producer = env.client(PRODUCER)
    bid, _ = producer.create_batch(GTIN, "L1", 10)
    handoff = producer.make_handoff(bid, CARRIER.address)
    relayer = env.client(STRANGER)
    relayer.record_handoff(
        handoff,
        sender=relayer.sign_handoff(PRODUCER, handoff),
        receiver=relayer.sign_handoff(CARRIER, handoff),
    )
    assert relayer.get_batch(bid).custodian == CARRIER.address


def test_split_merge_transform_lineage(env: Env) -> None:
    producer = env.client(PRODUCER)
    parent, _ = producer.create_batch(GTIN, "P", 100)
    with pytest.raises(InvalidInput, match="expected 100, got 90"):
        producer.split_batch(parent, [("A", 50), ("B", 40)])
    children, _ = producer.split_batch(parent, [("A", 50), ("B", 45)], loss=5)
    assert children == [batch_id(GTIN, "A"), batch_id(GTIN, "B")]
    assert producer.get_batch(parent).state == BatchState.CONSUMED
    assert producer.parents_of(children[0]) == [parent]
    merged, _ = producer.merge_batches(children, "M", loss=1)
    assert producer.get_batch(merged).quantity == 94
    assert producer.parents_of(merged) == children
    outputs, _ = producer.transform_batches(
        [merged], [TransformOutput(OTHER_GTIN, "T1", 30, "H87")]
    )
    out = producer.get_batch(outputs[0])
    assert (out.gtin, out.quantity, out.uom, out.owner) == (OTHER_GTIN, 30, "H87", PRODUCER.address)


def test_attest_revoke_and_recall(env: Env) -> None:
    producer, certifier = env.client(PRODUCER), env.client(CERTIFIER)
    bid, _ = producer.create_batch(GTIN, "L1", 10)
    now = env.chain.w3.eth.get_block("latest")["timestamp"]
    evidence = "0x" + "ee" * 32
    att_id, _ = certifier.attest(bid, "organic", evidence, valid_from=now - 10)
    assert att_id.startswith("0x")
    assert certifier.is_attestation_valid(bid, "organic", CERTIFIER.address, evidence, now)
    assert certifier.is_attestation_valid(
        bid, text_to_bytes32("organic"), CERTIFIER.address, evidence, now
    )
    with pytest.raises(StateConflict, match="already exists"):
        certifier.attest(bid, "organic", evidence, valid_from=now - 10)
    certifier.revoke_attestation(bid, "organic", evidence, "fraud")
    later = env.chain.w3.eth.get_block("latest")["timestamp"] + 1
    assert not certifier.is_attestation_valid(bid, "organic", CERTIFIER.address, evidence, later)
    subject_id, _ = certifier.attest(CARRIER.address, "haccp", evidence)
    assert subject_id != att_id
    producer.recall_batch(bid, "salmonella")
    assert producer.get_batch(bid).recalled
    with pytest.raises(StateConflict, match="recalled"):
        producer.initiate_handoff(producer.make_handoff(bid, CARRIER.address))


def test_list_participants_rebuilt_from_events_matches_contract_state(env: Env) -> None:
    admin = env.client(ADMIN)
    admin.suspend_participant(CARRIER.address, "audit")
    admin.update_participant(RETAILER.address, "retailer,distributor", gln="4012345000009")
    admin.suspend_participant(CERTIFIER.address, "audit")
    admin.reinstate_participant(CERTIFIER.address)
    reader = env.client()
    listed = reader.list_participants()
    assert [p.address for p in listed] == [
        PRODUCER.address,
        CARRIER.address,
        RETAILER.address,
        CERTIFIER.address,
    ]
    assert listed == [reader.get_participant(p.address) for p in listed]
    assert [p.active for p in listed] == [True, False, True, True]


def test_list_participants_rpc_calls_do_not_grow_with_participants(env: Env) -> None:
    from provenance.logs import count_calls

    reader = env.client()
    with count_calls(env.chain) as few:
        assert len(reader.list_participants()) == 4
    env.client(ADMIN).register_participant(STRANGER.address, Role.RETAILER)
    for account in dev_accounts(10)[6:]:
        env.client(ADMIN).register_participant(account.address, Role.CARRIER)
    with count_calls(env.chain) as many:
        assert len(reader.list_participants()) == 9
    assert many.total == few.total <= 2
