"""The same artifacts deploy and run identically on the embedded chain, Anvil and Ganache."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from provenance import node
from provenance.chain import EMBEDDED, Chain, connect
from provenance.compiler import load_artifact
from tests.support import free_port
from tests.support.chains import deploy_and_hand_off, expected, read_back


@pytest.fixture
def ganache_chain(tmp_path: Path) -> Iterator[Chain]:
    info = node.start("ganache", free_port(), tmp_path, fresh=True)
    try:
        yield connect(info.url)
    finally:
        node.stop(tmp_path)


def test_round_trip_on_embedded_chain() -> None:
    chain = connect(EMBEDDED)
    trip = deploy_and_hand_off(chain)
    assert read_back(chain, trip) == expected(trip)


@pytest.mark.anvil
def test_round_trip_on_anvil(anvil_chain: Chain, snapshot: None, tmp_path: Path) -> None:
    trip = deploy_and_hand_off(anvil_chain, root=tmp_path)
    assert read_back(anvil_chain, trip) == expected(trip)


@pytest.mark.ganache
def test_round_trip_on_ganache(ganache_chain: Chain, tmp_path: Path) -> None:
    assert ganache_chain.chain_id == node.GANACHE_CHAIN_ID
    trip = deploy_and_hand_off(ganache_chain, root=tmp_path)
    assert read_back(ganache_chain, trip) == expected(trip)


@pytest.mark.anvil
@pytest.mark.ganache
def test_same_runtime_bytecode_on_every_chain(
    anvil_chain: Chain, snapshot: None, ganache_chain: Chain, tmp_path: Path
) -> None:
    artifact = load_artifact("ProvenanceRegistry")
    for chain in (connect(EMBEDDED), anvil_chain, ganache_chain):
        trip = deploy_and_hand_off(chain, root=tmp_path / str(chain.chain_id))
        # The shipped runtime with this deployment's library addresses linked in.
        shipped = artifact.runtime_code_masked(artifact.linked_runtime(trip.deployment.libraries))
        code = chain.w3.eth.get_code(trip.deployment.registry).hex()
        # Immutables (the EIP-712 domain, the settlement address) differ per deployment: masked.
        assert artifact.runtime_code_masked(code) == shipped, f"chain id {chain.chain_id}"
        for name, address in trip.deployment.libraries.items():
            library = load_artifact(name)
            deployed = library.runtime_code_masked(chain.w3.eth.get_code(address).hex())
            # A library's runtime starts with PUSH20 of its own address (the call guard).
            assert deployed[44:] == library.runtime_code_masked(library.deployed_bytecode)[44:]
