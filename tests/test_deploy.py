"""Deployment records: written per chain id, found again, never silently replaced."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from web3 import Web3

from provenance.chain import EMBEDDED, Chain, connect, dev_accounts
from provenance.compiler import artifacts_hash
from provenance.deploy import SETTLER_ROLE, deploy, load_deployment, read_record, record_path
from provenance.exceptions import ConfigError
from tests.roundtrip import registry


def test_deploy_writes_a_record_that_load_deployment_finds(
    anvil_chain: Chain, snapshot: None, tmp_path: Path
) -> None:
    deployment = deploy(anvil_chain, dev_accounts(1)[0], root=tmp_path)
    record = json.loads(record_path(anvil_chain.chain_id, tmp_path).read_text())
    assert record["registry"] == deployment.registry
    assert record["agreements"] == deployment.agreements
    assert record["artifact_hash"] == artifacts_hash()
    assert set(record["tx_hashes"]) == {"registry", "agreements", "grantSettler"}
    assert load_deployment(anvil_chain, tmp_path) == deployment
    contract = registry(anvil_chain, deployment)
    assert contract.functions.hasRole(SETTLER_ROLE, deployment.agreements).call()
    assert anvil_chain.w3.eth.get_block(deployment.deploy_block)["number"] > 0


def test_second_deploy_needs_force(anvil_chain: Chain, snapshot: None, tmp_path: Path) -> None:
    operator = dev_accounts(1)[0]
    first = deploy(anvil_chain, operator, root=tmp_path)
    with pytest.raises(ConfigError, match=r"already deployed .* pass --force"):
        deploy(anvil_chain, operator, root=tmp_path)
    assert read_record(anvil_chain.chain_id, tmp_path) == first
    second = deploy(anvil_chain, operator, root=tmp_path, force=True)
    assert second.registry != first.registry
    assert read_record(anvil_chain.chain_id, tmp_path) == second


def test_record_without_code_is_reported_and_replaced_without_force(
    anvil_chain: Chain, snapshot: None, tmp_path: Path
) -> None:
    operator = dev_accounts(1)[0]
    stale = deploy(anvil_chain, operator, root=tmp_path)
    path = record_path(anvil_chain.chain_id, tmp_path)
    data = json.loads(path.read_text())
    data["registry"] = Web3.to_checksum_address("0x" + "12" * 20)
    path.write_text(json.dumps(data))
    with pytest.raises(ConfigError, match="no contract code at the recorded ProvenanceRegistry"):
        load_deployment(anvil_chain, tmp_path)
    fresh = deploy(anvil_chain, operator, root=tmp_path)  # the node was reset: no --force needed
    assert fresh.registry != stale.registry


def test_missing_record_names_other_chains(anvil_chain: Chain, tmp_path: Path) -> None:
    other = record_path(1337, tmp_path)
    other.parent.mkdir(parents=True)
    other.write_text("{}")
    with pytest.raises(ConfigError, match=r"chain id 31337 \(records exist for chain ids 1337"):
        load_deployment(anvil_chain, tmp_path)


def test_unreadable_record_is_reported(anvil_chain: Chain, tmp_path: Path) -> None:
    path = record_path(anvil_chain.chain_id, tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    with pytest.raises(ConfigError, match="unreadable"):
        load_deployment(anvil_chain, tmp_path)


def test_embedded_deploy_writes_no_record(tmp_path: Path) -> None:
    chain = connect(EMBEDDED)
    deploy(chain, dev_accounts(1)[0], root=tmp_path)
    assert not (tmp_path / "deployments").exists()
