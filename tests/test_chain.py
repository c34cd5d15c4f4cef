"""provenance.chain: the chain clock, time travel, and offline Chains for queueing writes."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from unittest.mock import MagicMock

import pytest

from provenance.chain import EMBEDDED, Chain, connect
from provenance.config import write_json_atomic
from provenance.deploy import Deployment, find_record_for_rpc, record_path
from provenance.exceptions import ChainError
from tests.conftest import free_port


def test_advance_time_on_embedded_chain_moves_now_forward() -> None:
    chain = connect(EMBEDDED)
    before = chain.now()
    chain.advance_time(3 * 86400)
    assert chain.now() >= before + 3 * 86400


def test_advance_time_on_anvil_moves_now_forward(anvil_chain: Chain, snapshot: None) -> None:
    before = anvil_chain.now()
    block = anvil_chain.w3.eth.block_number
    anvil_chain.advance_time(86400)
    assert anvil_chain.now() >= before + 86400
    assert anvil_chain.w3.eth.block_number == block + 1


def test_advance_time_on_a_chain_without_time_travel_raises_chain_error() -> None:
    w3: Any = MagicMock()
    w3.provider.make_request.return_value = {
        "jsonrpc": "2.0",
        "id": 1,
        "error": {"code": -32601, "message": "the method evm_increaseTime does not exist"},
    }
    chain = Chain(w3=w3, rpc="https://rpc.example.org", chain_id=1)
    with pytest.raises(ChainError, match="does not support time travel"):
        chain.advance_time(60)


def test_connect_to_a_dead_endpoint_raises_without_a_known_chain_id() -> None:
    with pytest.raises(ChainError, match="cannot reach the chain"):
        connect(f"http://127.0.0.1:{free_port()}")


def test_connect_to_a_dead_endpoint_with_a_known_chain_id_returns_an_offline_chain() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    chain = connect(url, offline_chain_id=31337)
    assert not chain.reachable and chain.chain_id == 31337 and chain.rpc == url
    assert chain.is_local


def test_connect_to_a_live_endpoint_ignores_the_offline_chain_id(anvil_chain: Chain) -> None:
    chain = connect(anvil_chain.rpc, offline_chain_id=999)
    assert chain.reachable and chain.chain_id == anvil_chain.chain_id


def test_find_record_for_rpc_matches_the_recorded_url(tmp_path: Path) -> None:
    record = Deployment(
        chain_id=31337,
        registry="0x" + "11" * 20,
        agreements="0x" + "22" * 20,
        deploy_block=1,
        deployer="0x" + "33" * 20,
        artifact_hash="x",
        rpc="http://127.0.0.1:8545",
    )
    write_json_atomic(record_path(31337, tmp_path), record.to_json())
    assert find_record_for_rpc("http://127.0.0.1:8545/", tmp_path) == record
    assert find_record_for_rpc("http://127.0.0.1:9999", tmp_path) is None
