import brownie

from conftest import GTIN


def test_handoff_round_trip(registry, farm, carrier, batch_id):
    registry.initiateHandoff((batch_id, farm, carrier, 0, 1, 1, True, b"\x04" * 32), {"from": farm})
    tx = registry.acceptHandoff(batch_id, {"from": carrier})
    assert "HandoffAccepted" in tx.events
    info = registry.getBatch(batch_id)
    assert info[0] == carrier  # custodian
    assert info[1] == carrier  # ownership moved with custody
    assert info[7] == GTIN


def test_only_the_named_recipient_accepts(registry, farm, carrier, accounts, batch_id):
    registry.initiateHandoff(
        (batch_id, farm, carrier, 0, 1, 1, False, b"\x00" * 32), {"from": farm}
    )
    with brownie.reverts():
        registry.acceptHandoff(batch_id, {"from": accounts[3]})
    assert registry.getBatch(batch_id)[0] == farm


def test_only_the_custodian_initiates(registry, farm, carrier, batch_id):
    with brownie.reverts():
        registry.initiateHandoff(
            (batch_id, carrier, farm, 0, 1, 1, False, b"\x00" * 32), {"from": carrier}
        )


def test_split_conserves_quantity(registry, farm, batch_id):
    parts = [(b"A".ljust(32, b"\0"), 600), (b"B".ljust(32, b"\0"), 390)]
    tx = registry.splitBatch(batch_id, parts, 10, b"\x00" * 32, {"from": farm})
    children = tx.return_value
    assert [registry.getBatch(c)[8] for c in children] == [600, 390]
    assert registry.getBatch(batch_id)[4] == 2  # consumed
    with brownie.reverts():
        registry.splitBatch(batch_id, parts, 10, b"\x00" * 32, {"from": farm})


def test_settler_role_is_granted_to_agreements(registry, agreements):
    assert registry.hasRole(registry.SETTLER_ROLE(), agreements)
