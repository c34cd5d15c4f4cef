"""provenance.chain: identity (chain id + genesis hash), the chain clock, time travel, offline
Chains for queueing writes, the one connection-error test and the one RPC failure translation."""

from __future__ import annotations

import time
from typing import Any
from unittest.mock import MagicMock

import pytest
import requests

from provenance.chain import (
    EMBEDDED,
    Chain,
    ChainIdentity,
    connect,
    is_connection_error,
    rpc_failure,
)
from provenance.exceptions import ChainError, ChainUnreachable, InvalidInput
from tests.support import free_port, identity


def test_advance_time_on_embedded_chain_moves_now_forward() -> None:
    chain = connect(EMBEDDED)
    before = chain.now()
    chain.advance_time(3 * 86400)
    assert chain.now() >= before + 3 * 86400


@pytest.mark.anvil
def test_advance_time_on_anvil_moves_now_forward(anvil_chain: Chain, snapshot: None) -> None:
    before = anvil_chain.now()
    block = anvil_chain.w3.eth.block_number
    anvil_chain.advance_time(86400)
    assert anvil_chain.now() >= before + 86400
    assert anvil_chain.w3.eth.block_number == block + 1
    assert anvil_chain.next_block_time() > anvil_chain.now()


def test_advance_time_on_a_chain_without_time_travel_raises_chain_error() -> None:
    w3: Any = MagicMock()
    w3.provider.make_request.return_value = {
        "jsonrpc": "2.0",
        "id": 1,
        "error": {"code": -32601, "message": "the method evm_increaseTime does not exist"},
    }
    chain = Chain(w3, "https://rpc.example.org", identity(1))
    with pytest.raises(ChainError, match="does not support time travel"):
        chain.advance_time(60)


@pytest.mark.anvil
def test_a_chain_is_its_id_and_its_genesis_hash(anvil_chain: Chain) -> None:
    genesis = anvil_chain.w3.eth.get_block(0)["hash"]
    assert anvil_chain.identity == ChainIdentity(31337, "0x" + bytes(genesis).hex())
    assert anvil_chain.identity.key == f"31337-{bytes(genesis).hex()[:16]}"
    assert ChainIdentity.from_json(anvil_chain.identity.to_json()) == anvil_chain.identity


def test_the_embedded_chain_has_an_identity_too() -> None:
    chain = connect(EMBEDDED)
    assert chain.identity.chain_id == chain.w3.eth.chain_id
    assert len(chain.identity.genesis_hash) == 66


def test_connect_to_a_dead_endpoint_raises_without_a_known_identity() -> None:
    with pytest.raises(ChainUnreachable, match="cannot reach the chain") as info:
        connect(f"http://127.0.0.1:{free_port()}")
    assert isinstance(info.value, ConnectionError)  # a caller may catch the built-in


def test_connect_to_a_dead_endpoint_with_a_known_identity_returns_an_offline_chain() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    chain = connect(url, offline_identity=identity())
    assert not chain.reachable and chain.identity == identity() and chain.rpc == url
    assert chain.is_local


@pytest.mark.anvil
def test_connect_to_a_live_endpoint_reads_its_own_identity(anvil_chain: Chain) -> None:
    chain = connect(anvil_chain.rpc, offline_identity=identity(999))
    assert chain.reachable and chain.identity == anvil_chain.identity


def test_a_silent_endpoint_costs_the_timeout_it_names_and_no_more(silent_endpoint: str) -> None:
    started = time.monotonic()
    with pytest.raises(ChainUnreachable, match=r"did not answer within 1.5 s") as info:
        connect(silent_endpoint, timeout=1.5)
    elapsed = time.monotonic() - started
    assert 1.4 < elapsed < 3.0, elapsed  # no silent retries
    assert "PROVENANCE_RPC_TIMEOUT" in str(info.value)


@pytest.mark.parametrize(
    ("exc", "connection"),
    [
        (requests.exceptions.ConnectionError(), True),
        (requests.exceptions.ReadTimeout(), True),
        (TimeoutError(), True),
        (ConnectionRefusedError(), True),
        (ValueError("execution reverted"), False),
        (KeyError("x"), False),
    ],
)
def test_one_test_decides_what_a_connection_error_is(exc: BaseException, connection: bool) -> None:
    assert is_connection_error(exc) is connection
    wrapped = RuntimeError("wrapped")
    wrapped.__cause__ = exc
    assert is_connection_error(wrapped) is connection


def test_rpc_failures_become_one_line_library_errors() -> None:
    refused = rpc_failure(requests.exceptions.ConnectionError("refused"), "http://x", "reading")
    assert isinstance(refused, ChainUnreachable)
    node = rpc_failure(
        ValueError({"code": -32003, "message": "nonce too low"}), "http://x", "sending"
    )
    assert isinstance(node, ChainError) and str(node) == "sending failed at http://x: nonce too low"
    from web3.exceptions import Web3ValidationError

    dump = Web3ValidationError("Could not identify the intended function...\n" * 40)
    bad = rpc_failure(dump, "http://x", "encoding propose")
    assert isinstance(bad, InvalidInput) and "\n" not in str(bad) and len(str(bad)) < 200
