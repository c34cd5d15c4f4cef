"""RegistryClient against the real contract on Anvil."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount

from provenance.chain import Chain, dev_accounts
from provenance.deploy import Deployment, deploy
from provenance.encoding import text_to_bytes32
from provenance.exceptions import (
    ConfigError,
    InvalidInput,
    NotFoundError,
    PermissionDenied,
    StateConflict,
)
from provenance.gs1 import CompanyPrefix, batch_id
from provenance.records import BatchState, ClaimProof, NewBatch, RequiredClaim, Role
from provenance.registry import RegistryClient, TransformOutput
from provenance.transactions import Transactor

pytestmark = pytest.mark.anvil  # every test here runs on the session's Anvil

GTIN = "04006381333931"  # under PREFIX
OTHER_GTIN = "10614141000415"  # under OTHER_PREFIX (GTIN-13 form 0614141000415)
PREFIX, OTHER_PREFIX = "4006381", "0614141"
ADMIN, PRODUCER, CARRIER, RETAILER, CERTIFIER, STRANGER = dev_accounts(6)
NEW_KEY = dev_accounts(9)[8]


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
    admin.assign_prefix(PRODUCER.address, PREFIX)
    admin.assign_prefix(PRODUCER.address, CompanyPrefix.parse(OTHER_PREFIX))
    return e


def test_participants_read_back(env: Env) -> None:
    reader = env.client()
    p = reader.get_participant(PRODUCER.address)
    assert p.registered and p.active and p.id == 1 and p.gln == 4012345000009
    assert p.roles == Role.PRODUCER | Role.PROCESSOR and p.has(Role.PROCESSOR)
    assert not reader.get_participant(STRANGER.address).registered
    assert reader.participant_at(1) == PRODUCER.address
    assert reader.is_admin(ADMIN.address) and reader.operator() == ADMIN.address
    env.client(ADMIN).suspend_participant(CARRIER.address, "audit")
    assert not reader.get_participant(CARRIER.address).active
    env.client(ADMIN).reinstate_participant(CARRIER.address)
    env.client(ADMIN).update_participant(CARRIER.address, "carrier,distributor")
    assert reader.get_participant(CARRIER.address).roles == Role.CARRIER | Role.DISTRIBUTOR


def test_prefixes_read_back_and_guard_creation(env: Env) -> None:
    reader = env.client()
    assert reader.prefix_of(GTIN) == (PRODUCER.address, CompanyPrefix(PREFIX))
    assert reader.prefix_of(OTHER_GTIN) == (PRODUCER.address, CompanyPrefix(OTHER_PREFIX))
    assert reader.prefix_of("09506000134352") == (None, None)
    assert [a.prefix.digits for a in reader.list_prefixes()] == [OTHER_PREFIX, PREFIX]
    assert reader.list_prefixes(CARRIER.address) == []
    with pytest.raises(StateConflict, match="overlaps an assigned one"):
        env.client(ADMIN).assign_prefix(CARRIER.address, "40063812")
    with pytest.raises(InvalidInput, match="restricted-circulation"):
        env.client(ADMIN).assign_prefix(CARRIER.address, "2012345")
    env.client(ADMIN).revoke_prefix(OTHER_PREFIX)
    assert [a.prefix.digits for a in reader.list_prefixes()] == [PREFIX]
    with pytest.raises(PermissionDenied, match="does not hold the GS1 company prefix"):
        env.client(PRODUCER).create_batch(OTHER_GTIN, "L1", 1)


def test_create_batch_returns_its_id_and_state(env: Env) -> None:
    bid, result = env.client(PRODUCER).create_batch("4006381333931", "LOT-1", 500, "KGM")
    assert bid == batch_id(GTIN, "LOT-1") and result.ok
    batch = env.client().get_batch(bid)
    assert batch.state == BatchState.ACTIVE and batch.exists and not batch.frozen
    assert (batch.custodian, batch.owner, batch.origin) == (PRODUCER.address,) * 3
    assert batch.pending_to is None and batch.bound_to is None and not batch.bound
    assert (batch.gtin, batch.quantity, batch.uom) == (GTIN, 500, "KGM")
    assert (batch.lineage_number, batch.ancestors) == (0, 0)
    assert env.client().lot_of(bid) == "LOT-1"


def test_create_batches_in_one_transaction(env: Env) -> None:
    wanted = [NewBatch(GTIN, f"BULK-{i}", 10 + i, document="0x" + "ab" * 32) for i in range(3)]
    ids, result = env.client(PRODUCER).create_batches(wanted)
    assert ids == [batch_id(GTIN, f"BULK-{i}") for i in range(3)] and result.ok
    assert [env.client().get_batch(b).quantity for b in ids] == [10, 11, 12]
    with pytest.raises(InvalidInput, match="appear twice"):
        env.client(PRODUCER).create_batches([wanted[0], wanted[0]])
    with pytest.raises(InvalidInput, match="invalid quantity"):
        NewBatch(GTIN, "X", 0)


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
    pending = producer.get_batch(bid)
    assert pending.pending_to == CARRIER.address and pending.pending_ownership
    carrier.accept_handoff(bid, "0x" + "cc" * 32)
    batch = carrier.get_batch(bid)
    assert (batch.custodian, batch.owner, batch.pending_to) == (CARRIER.address,) * 2 + (None,)
    assert batch.origin == PRODUCER.address  # the recall right stays with the producer


def test_reject_and_cancel(env: Env) -> None:
    producer = env.client(PRODUCER)
    bid, _ = producer.create_batch(GTIN, "L1", 10)
    producer.initiate_handoff(producer.make_handoff(bid, CARRIER.address))
    env.client(CARRIER).reject_handoff(bid, "damaged", "0x" + "dd" * 32)
    assert producer.get_batch(bid).pending_to is None
    producer.initiate_handoff(producer.make_handoff(bid, CARRIER.address))
    producer.cancel_handoff(bid, "0x" + "ee" * 32)
    assert producer.get_batch(bid).custodian == PRODUCER.address


def test_batched_handoffs(env: Env) -> None:
    producer = env.client(PRODUCER)
    ids = [producer.create_batch(GTIN, f"B{i}", 5)[0] for i in range(3)]
    producer.initiate_handoffs(ids, CARRIER.address, biz_step="shipping")
    env.client(CARRIER).accept_handoffs(ids, "0x" + "cc" * 32)
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


def test_use_nonce_invalidates_an_outstanding_signature(env: Env) -> None:
    producer = env.client(PRODUCER)
    bid, _ = producer.create_batch(GTIN, "L1", 10)
    handoff = producer.make_handoff(bid, CARRIER.address)
    signed = producer.sign_handoff(CARRIER, handoff)
    env.client(CARRIER).use_nonce()
    assert producer.nonce_of(CARRIER.address) == 1
    with pytest.raises(StateConflict, match="uses nonce 0 but the current nonce is 1"):
        producer.record_handoff(handoff, receiver=signed)


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
    with pytest.raises(InvalidInput, match=r"parts 90 \+ loss 0 = 90, but batch .* holds 100"):
        producer.split_batch(parent, [("P-A", 50), ("P-B", 40)])
    with pytest.raises(InvalidInput, match="lot Q does not extend P"):
        producer.split_batch(parent, [("Q", 100)])
    children, _ = producer.split_batch(parent, [("P-A", 50), ("P-B", 45)], loss=5)
    assert children == [batch_id(GTIN, "P-A"), batch_id(GTIN, "P-B")]
    assert producer.get_batch(parent).state == BatchState.CONSUMED
    assert producer.get_batch(parent).lineage_number > 0
    assert producer.parents_of(children[0]) == [parent]
    assert producer.lineage_of(children[0]) == [producer.get_batch(parent).lineage_number]
    with pytest.raises(InvalidInput, match="lot M does not extend P-A"):
        producer.merge_batches(children, "M")
    with pytest.raises(InvalidInput, match="is given twice: a merge combines distinct batches"):
        producer.merge_batches([children[0], children[0]], "P-A-M")
    with pytest.raises(InvalidInput, match="invalid merge loss 95: the 2 batches hold 95 KGM"):
        producer.merge_batches(children, "P-A-M", loss=95)
    merged, _ = producer.merge_batches(children, "P-A-M", loss=1)
    assert producer.get_batch(merged).quantity == 94
    assert producer.parents_of(merged) == children
    outputs, _ = producer.transform_batches(
        [merged], [TransformOutput(OTHER_GTIN, "T1", 30, "H87")]
    )
    out = producer.get_batch(outputs[0])
    assert (out.gtin, out.quantity, out.uom, out.owner) == (OTHER_GTIN, 30, "H87", PRODUCER.address)
    assert out.ancestors == 4  # parent, two children, the merged batch
    assert producer.ancestors_of(outputs[0]) == [merged, *children, parent]


def test_attest_revoke_and_claim_proofs_through_the_lineage(env: Env) -> None:
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
    (child,), _ = producer.split_batch(bid, [("L1-A", 10)])
    assert certifier.is_claim_valid_for(child, bid, "organic", CERTIFIER.address, evidence)
    wanted = (RequiredClaim("organic", CERTIFIER.address),)
    assert certifier.claim_proofs(child, wanted) == [ClaimProof(bid, evidence)]
    with pytest.raises(InvalidInput, match="is not vouched for by"):
        certifier.claim_proofs(child, (RequiredClaim("fairtrade", CERTIFIER.address),))
    with pytest.raises(PermissionDenied, match="did not issue"):  # only the issuer revokes
        env.client(RETAILER).revoke_attestation(
            bid, "organic", evidence, "fraud", issuer=CERTIFIER.address
        )
    certifier.revoke_attestation(bid, "organic", evidence, "fraud")
    later = env.chain.w3.eth.get_block("latest")["timestamp"] + 1
    assert not certifier.is_attestation_valid(bid, "organic", CERTIFIER.address, evidence, later)
    assert certifier.claim_proof(child, "organic", CERTIFIER.address) is None
    subject_id, _ = certifier.attest(CARRIER.address, "haccp", evidence)
    assert subject_id != att_id


def test_recall_reaches_descendants_and_the_operator_lifts_it(env: Env) -> None:
    producer = env.client(PRODUCER)
    bid, _ = producer.create_batch(GTIN, "L1", 10)
    (child,), _ = producer.split_batch(bid, [("L1-A", 10)])
    with pytest.raises(PermissionDenied, match="only its origin"):
        env.client(CARRIER).recall_batch(bid, "salmonella")
    producer.recall_batch(bid, "salmonella", "0x" + "aa" * 32)
    parent, frozen = producer.get_batch(bid), producer.get_batch(child)
    assert parent.recalled and not frozen.recalled and frozen.lineage_recalled and frozen.frozen
    with pytest.raises(StateConflict, match="comes from a recalled batch"):
        producer.initiate_handoff(producer.make_handoff(child, CARRIER.address))
    with pytest.raises(PermissionDenied, match="only the operator"):
        producer.lift_recall(bid, "mistake")
    env.client(ADMIN).lift_recall(bid, "mistake", "0x" + "bb" * 32)
    assert not producer.get_batch(child).frozen
    producer.initiate_handoff(producer.make_handoff(child, CARRIER.address))


def test_migration_moves_batches_prefixes_and_recall_rights(env: Env) -> None:
    producer = env.client(PRODUCER)
    bid, _ = producer.create_batch(GTIN, "L1", 10)
    env.client(ADMIN).migrate_participant(PRODUCER.address, NEW_KEY.address, "key lost")
    moved = env.client(NEW_KEY)
    assert moved.get_participant(NEW_KEY.address).id == 1
    assert not moved.get_participant(PRODUCER.address).registered
    batch = moved.get_batch(bid)
    assert batch.custodian == batch.owner == batch.origin == NEW_KEY.address
    assert moved.prefix_of(GTIN)[0] == NEW_KEY.address
    assert {a.holder for a in moved.list_prefixes()} == {NEW_KEY.address}
    assert moved.list_participants()[0].address == NEW_KEY.address
    moved.create_batch(GTIN, "L2", 1)
    moved.recall_batch(bid, "after the migration")
    with pytest.raises(InvalidInput, match="to itself"):
        env.client(ADMIN).migrate_participant(NEW_KEY.address, NEW_KEY.address)


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


def test_settlement_and_admin_delay(env: Env) -> None:
    reader = env.client()
    assert reader.settlement() == env.deployment.agreements
    assert reader.admin_delay() == env.deployment.admin_delay
    assert reader.domain_separator().startswith("0x")
