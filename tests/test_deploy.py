"""Deployment: libraries first, the linked registry, the settlement it creates, all through the
transactor; records written per chain identity (id + genesis), found again, never used for
another chain with the same id, never silently replaced; old-format records refused clearly."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from web3 import Web3

from provenance.chain import EMBEDDED, Chain, connect, dev_accounts
from provenance.compiler import artifacts_hash, load_artifact
from provenance.deploy import (
    DEFAULT_ADMIN_DELAY,
    LIBRARIES,
    RECORD_VERSION,
    deploy,
    find_record_for_rpc,
    load_deployment,
    read_record,
    record_path,
)
from provenance.exceptions import ConfigError, InvalidInput, NotFoundError, StateConflict
from provenance.outbox import Outbox
from provenance.registry import RegistryClient
from provenance.transactions import Transactor
from tests.support import identity
from tests.support.chains import registry


@pytest.mark.anvil
def test_deploy_links_the_libraries_and_records_the_settlement_it_created(
    anvil_chain: Chain, snapshot: None, tmp_path: Path
) -> None:
    operator = dev_accounts(1)[0]
    deployment = deploy(anvil_chain, operator, root=tmp_path)
    record = json.loads(record_path(anvil_chain.identity, tmp_path).read_text())
    assert record["registry"] == deployment.registry
    assert record["agreements"] == deployment.agreements
    assert record["artifact_hash"] == artifacts_hash()
    assert record["version"] == RECORD_VERSION
    assert record["admin_delay"] == DEFAULT_ADMIN_DELAY
    assert set(record["libraries"]) == set(LIBRARIES)
    assert set(record["tx_hashes"]) == {*LIBRARIES, "registry"}
    assert load_deployment(anvil_chain, tmp_path) == deployment
    client = RegistryClient.from_deployment(anvil_chain, deployment)
    assert client.settlement() == deployment.agreements
    assert client.operator() == operator.address and client.is_admin(operator.address)
    assert client.admin_delay() == DEFAULT_ADMIN_DELAY
    agreements = anvil_chain.w3.eth.contract(
        address=Web3.to_checksum_address(deployment.agreements),
        abi=load_artifact("SupplyAgreements").abi,
    )
    assert agreements.functions.registry().call() == deployment.registry
    # no settler role any more: nothing an operator could grant or revoke decides an escrow
    assert not any(e.get("name") == "SETTLER_ROLE" for e in registry(anvil_chain, deployment).abi)
    for name, address in deployment.libraries.items():
        assert anvil_chain.w3.eth.get_code(address), name
    receipt = anvil_chain.w3.eth.get_transaction_receipt(deployment.tx_hashes["registry"])
    assert receipt["blockNumber"] == deployment.deploy_block


@pytest.mark.anvil
def test_the_admin_delay_is_an_option(anvil_chain: Chain, snapshot: None, tmp_path: Path) -> None:
    deployment = deploy(anvil_chain, dev_accounts(1)[0], root=tmp_path, admin_delay=3600)
    assert deployment.admin_delay == 3600
    assert RegistryClient.from_deployment(anvil_chain, deployment).admin_delay() == 3600
    with pytest.raises(InvalidInput, match="invalid admin delay"):
        deploy(anvil_chain, dev_accounts(1)[0], root=tmp_path, admin_delay=-1, force=True)


@pytest.mark.anvil
def test_second_deploy_needs_force(anvil_chain: Chain, snapshot: None, tmp_path: Path) -> None:
    operator = dev_accounts(1)[0]
    first = deploy(anvil_chain, operator, root=tmp_path)
    with pytest.raises(StateConflict, match=r"already deployed .* pass --force"):
        deploy(anvil_chain, operator, root=tmp_path)
    assert read_record(anvil_chain.identity, tmp_path) == first
    second = deploy(anvil_chain, operator, root=tmp_path, force=True)
    assert second.registry != first.registry
    assert read_record(anvil_chain.identity, tmp_path) == second


@pytest.mark.anvil
def test_record_without_code_is_reported_and_replaced_without_force(
    anvil_chain: Chain, snapshot: None, tmp_path: Path
) -> None:
    operator = dev_accounts(1)[0]
    stale = deploy(anvil_chain, operator, root=tmp_path)
    path = record_path(anvil_chain.identity, tmp_path)
    data = json.loads(path.read_text())
    data["registry"] = Web3.to_checksum_address("0x" + "12" * 20)
    path.write_text(json.dumps(data))
    with pytest.raises(ConfigError, match="no contract code at the recorded ProvenanceRegistry"):
        load_deployment(anvil_chain, tmp_path)
    fresh = deploy(anvil_chain, operator, root=tmp_path)  # the node was reset: no --force needed
    assert fresh.registry != stale.registry


@pytest.mark.anvil
def test_a_missing_library_is_reported(anvil_chain: Chain, snapshot: None, tmp_path: Path) -> None:
    deploy(anvil_chain, dev_accounts(1)[0], root=tmp_path)
    path = record_path(anvil_chain.identity, tmp_path)
    data = json.loads(path.read_text())
    data["libraries"]["Derivations"] = Web3.to_checksum_address("0x" + "34" * 20)
    path.write_text(json.dumps(data))
    with pytest.raises(ConfigError, match="no contract code at the recorded Derivations"):
        load_deployment(anvil_chain, tmp_path)


@pytest.mark.anvil
def test_an_old_format_record_is_refused_with_the_way_out(
    anvil_chain: Chain, snapshot: None, tmp_path: Path
) -> None:
    """A record of the contracts before version 2 (no version, a SETTLER_ROLE grant): every
    command says it is outdated and how to redeploy; `deploy` needs --force to replace it."""
    operator = dev_accounts(1)[0]
    path = record_path(anvil_chain.identity, tmp_path)
    path.parent.mkdir(parents=True)
    old = {
        "chain_id": anvil_chain.chain_id, "registry": "0x" + "56" * 20,
        "agreements": "0x" + "78" * 20, "deploy_block": 1, "deployer": operator.address,
        "artifact_hash": "0x00", "tx_hashes": {"grantSettler": "0x01"}, "deployed_at": 1.0,
        "rpc": anvil_chain.rpc,
    }  # fmt: skip
    path.write_text(json.dumps(old))
    with pytest.raises(ConfigError, match=r"outdated: .* version 1 .* `provenance deploy --force`"):
        load_deployment(anvil_chain, tmp_path)
    assert find_record_for_rpc(anvil_chain.rpc, tmp_path) is None
    with pytest.raises(StateConflict, match=r"version 1 of the contracts, .* pass --force"):
        deploy(anvil_chain, operator, root=tmp_path)
    fresh = deploy(anvil_chain, operator, root=tmp_path, force=True)
    assert load_deployment(anvil_chain, tmp_path) == fresh


@pytest.mark.anvil
def test_missing_record_names_other_chains(anvil_chain: Chain, tmp_path: Path) -> None:
    other = record_path(identity(1337), tmp_path)
    other.parent.mkdir(parents=True)
    other.write_text("{}")
    with pytest.raises(NotFoundError, match=r"chain id 31337 .*\(records exist for 1337-"):
        load_deployment(anvil_chain, tmp_path)


@pytest.mark.anvil
def test_a_record_of_another_chain_with_the_same_id_is_never_used(
    anvil_chain: Chain, snapshot: None, tmp_path: Path
) -> None:
    """A node started afresh has the same chain id and another genesis block: the old record,
    whose addresses may even hold new code after a redeploy, is not this chain's."""
    mine = deploy(anvil_chain, dev_accounts(1)[0], root=tmp_path)
    elsewhere = identity(anvil_chain.chain_id, 2)
    path = record_path(anvil_chain.identity, tmp_path)
    moved = record_path(elsewhere, tmp_path)
    data = {**json.loads(path.read_text()), "genesis_hash": elsewhere.genesis_hash}
    moved.write_text(json.dumps(data))
    path.unlink()
    with pytest.raises(NotFoundError, match="a record exists for another chain with id 31337"):
        load_deployment(anvil_chain, tmp_path)
    assert mine.identity == anvil_chain.identity


@pytest.mark.anvil
def test_a_record_from_before_chain_identities_is_adopted_when_its_contracts_are_there(
    anvil_chain: Chain, snapshot: None, tmp_path: Path
) -> None:
    deployment = deploy(anvil_chain, dev_accounts(1)[0], root=tmp_path)
    path = record_path(anvil_chain.identity, tmp_path)
    legacy = path.with_name(f"{anvil_chain.chain_id}.json")
    data = {k: v for k, v in json.loads(path.read_text()).items() if k != "genesis_hash"}
    legacy.write_text(json.dumps(data))
    path.unlink()
    adopted = load_deployment(anvil_chain, tmp_path)
    assert adopted == deployment and path.exists() and not legacy.exists()


@pytest.mark.anvil
def test_find_record_for_rpc_matches_the_recorded_url(
    anvil_chain: Chain, snapshot: None, tmp_path: Path
) -> None:
    deployment = deploy(anvil_chain, dev_accounts(1)[0], root=tmp_path)
    assert find_record_for_rpc(anvil_chain.rpc + "/", tmp_path) == deployment
    assert find_record_for_rpc("http://127.0.0.1:9999", tmp_path) is None


@pytest.mark.anvil
def test_deployment_goes_through_the_transactor_and_its_outbox(
    anvil_chain: Chain, snapshot: None, tmp_path: Path
) -> None:
    operator = dev_accounts(1)[0]
    box = Outbox(tmp_path / "outbox")
    tx = Transactor(anvil_chain, operator, box, root=tmp_path)
    deployment = deploy(anvil_chain, operator, root=tmp_path, transactor=tx)
    journaled = {e.tx_hash: e for e in box.entries(anvil_chain.identity)}
    assert set(journaled) == set(deployment.tx_hashes.values())
    assert {e.status for e in journaled.values()} == {"confirmed"}
    assert [journaled[deployment.tx_hashes[n]].description for n in (*LIBRARIES, "registry")] == [
        "deploy Membership", "deploy Derivations", "deploy ProvenanceRegistry",
    ]  # fmt: skip


@pytest.mark.anvil
def test_unreadable_record_is_reported(anvil_chain: Chain, tmp_path: Path) -> None:
    path = record_path(anvil_chain.identity, tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    with pytest.raises(ConfigError, match=r"is malformed .* `provenance deploy --force`"):
        load_deployment(anvil_chain, tmp_path)
    path.write_text(json.dumps(["a", "list"]))
    with pytest.raises(ConfigError, match="is malformed \\(expected a JSON object"):
        load_deployment(anvil_chain, tmp_path)


def test_embedded_deploy_fits_the_block_and_writes_no_record(tmp_path: Path) -> None:
    chain = connect(EMBEDDED)
    deployment = deploy(chain, dev_accounts(1)[0], root=tmp_path)
    assert not (tmp_path / "deployments").exists()
    receipt = chain.w3.eth.get_transaction_receipt(deployment.tx_hashes["registry"])
    gas_limit = chain.w3.eth.get_block(receipt["blockNumber"])["gasLimit"]
    # the registry's creation (with SupplyAgreements) is the biggest transaction there is
    assert 8_000_000 < receipt["gasUsed"] < gas_limit
