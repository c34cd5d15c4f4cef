"""brownie's view of the project: the same contracts, deployed with brownie's fixtures.

This suite runs under eth-brownie in .venv-brownie (driven by tests/test_brownie.py). It is the contract
suite's brownie-scoped part: deploy (libraries first: brownie links deployed libraries into the
registry by itself), custody round trip, lineage and the main reverts. The full contract suite runs
with pytest + web3.py in tests/contracts/.
"""

import pytest

PRODUCER, PROCESSOR, CARRIER = 1, 2, 4
GTIN = 9521234543213
PREFIX, PREFIX_LENGTH = 9521234, 7  # the farm's GS1 company prefix: GTIN is under it
LOT = b"LOT-B-1".ljust(32, b"\0")
ADMIN_DELAY = 2 * 24 * 3600


@pytest.fixture(autouse=True)
def isolation(fn_isolation):
    pass


@pytest.fixture(scope="module")
def registry(ProvenanceRegistry, Membership, Derivations, accounts):
    Membership.deploy({"from": accounts[0]})
    Derivations.deploy({"from": accounts[0]})
    return ProvenanceRegistry.deploy(ADMIN_DELAY, accounts[0], {"from": accounts[0]})


@pytest.fixture(scope="module")
def agreements(SupplyAgreements, registry):
    return SupplyAgreements.at(registry.settlement())


@pytest.fixture(scope="module")
def farm(registry, accounts):
    registry.registerParticipant(accounts[1], PRODUCER, 0, b"\x01" * 32, {"from": accounts[0]})
    registry.assignPrefix(accounts[1], PREFIX, PREFIX_LENGTH, {"from": accounts[0]})
    return accounts[1]


@pytest.fixture(scope="module")
def carrier(registry, accounts):
    registry.registerParticipant(
        accounts[2], CARRIER | PROCESSOR, 0, b"\x02" * 32, {"from": accounts[0]}
    )
    return accounts[2]


@pytest.fixture
def batch_id(registry, farm):
    registry.createBatch(GTIN, LOT, 1000, b"KGM", b"\x03" * 32, {"from": farm})
    return registry.batchIdOf(GTIN, LOT)
