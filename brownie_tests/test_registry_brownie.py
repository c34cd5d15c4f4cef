import brownie

from conftest import ADMIN_DELAY, GTIN, LOT

DOC = b"\x05" * 32
ZERO = b"\x00" * 32
# getBatch fields (IProvenanceRegistry.BatchInfo)
CUSTODIAN, OWNER, ORIGIN, STATE, GTIN_FIELD, QUANTITY = 0, 1, 3, 5, 10, 11


def test_handoff_round_trip(registry, farm, carrier, batch_id):
    registry.initiateHandoff((batch_id, farm, carrier, 0, 1, 1, True, b"\x04" * 32), {"from": farm})
    tx = registry.acceptHandoff(batch_id, DOC, {"from": carrier})
    assert "HandoffAccepted" in tx.events
    info = registry.getBatch(batch_id)
    assert info[CUSTODIAN] == carrier
    assert info[OWNER] == carrier  # ownership moved with custody
    assert info[ORIGIN] == farm  # the recall right stays with the producer
    assert info[GTIN_FIELD] == GTIN


def test_only_the_named_recipient_accepts(registry, farm, carrier, accounts, batch_id):
    registry.initiateHandoff((batch_id, farm, carrier, 0, 1, 1, False, ZERO), {"from": farm})
    with brownie.reverts():
        registry.acceptHandoff(batch_id, ZERO, {"from": accounts[3]})
    assert registry.getBatch(batch_id)[CUSTODIAN] == farm


def test_only_the_custodian_initiates(registry, farm, carrier, batch_id):
    with brownie.reverts():
        registry.initiateHandoff((batch_id, carrier, farm, 0, 1, 1, False, ZERO), {"from": carrier})


def test_split_conserves_quantity_and_extends_the_lot(registry, farm, batch_id):
    parts = [(LOT.rstrip(b"\0") + b"-A", 600), (LOT.rstrip(b"\0") + b"-B", 390)]
    parts = [(lot.ljust(32, b"\0"), quantity) for lot, quantity in parts]
    tx = registry.splitBatch(batch_id, LOT, parts, 10, ZERO, {"from": farm})
    children = tx.return_value
    assert [registry.getBatch(c)[QUANTITY] for c in children] == [600, 390]
    assert registry.getBatch(batch_id)[STATE] == 2  # consumed
    with brownie.reverts():
        registry.splitBatch(batch_id, LOT, parts, 10, ZERO, {"from": farm})


def test_settlement_is_created_by_the_registry_and_fixed(registry, agreements, accounts):
    assert agreements.registry() == registry.address
    assert registry.settlement() == agreements.address
    assert registry.defaultAdmin() == accounts[0]
    assert registry.defaultAdminDelay() == ADMIN_DELAY
