"""Shared fixtures: one Anvil node per test session, compiled artifacts, snapshot isolation.

The suite keeps away from the user's own set-up: it ignores their PROVENANCE_* settings, keeps its
data in a session directory (never a `./.provenance` where they started a node), and
`tests/port_guard.py` fails the session if anything in it connects to 127.0.0.1:8545.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account.signers.local import LocalAccount
from hypothesis import settings
from web3 import Web3
from web3.contract import Contract

from provenance import node
from provenance.chain import LOCAL_POLL_SECONDS, Chain, connect, dev_accounts
from provenance.compiler import Artifact, compile_contracts
from tests.support import free_port
from tests.support.cli import Cli, make_cli

pytest_plugins = [
    "tests.support.index",  # the index fixtures, shared by tests/test_index*.py
    "tests.port_guard",  # the session fails if anything connects to 127.0.0.1:8545
    "tests.support.web",  # the demo's chain served by the resolver, and the system Chromium
]

#: Settings a user may have exported for their own work; none of them may steer a test.
USER_SETTINGS = ("PROVENANCE_RPC", "PROVENANCE_ACCOUNT", "PROVENANCE_PASSWORD")

# Hypothesis profiles: the test command runs "default", derandomized so that every run (and CI)
# tries the same examples and a failure reproduces; `HYPOTHESIS_PROFILE=deep` explores at random,
# ten times as far.
settings.register_profile("default", max_examples=200, deadline=None, derandomize=True)
settings.register_profile("deep", max_examples=2000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """A test that uses the session's Anvil must say so (`@pytest.mark.anvil`), so that
    `pytest -m "not anvil"` runs without it."""
    unmarked = [
        item.nodeid
        for item in items
        if "anvil_node" in getattr(item, "fixturenames", ())
        and item.get_closest_marker("anvil") is None
    ]
    if unmarked:
        raise pytest.UsageError(
            f"{len(unmarked)} test(s) use Anvil without the `anvil` marker: "
            + ", ".join(unmarked[:20])
        )


@pytest.fixture(autouse=True)
def anvil_only_when_marked(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """The run-time half of the check above: a test without the `anvil` marker that starts an
    Anvil itself (through `provenance.node`, or a fixture that does) fails here, wherever Anvil is
    installed, rather than only in a `-m "not anvil"` run on a machine without it."""
    if request.node.get_closest_marker("anvil") is not None:
        return
    real = node.find_binary

    def guarded(engine: str, project_root: Path | None = None) -> Path:
        found = real(engine, project_root)  # a test of "not installed" gets its NodeError
        if engine == "anvil":
            pytest.fail(f"{request.node.nodeid} starts Anvil without the `anvil` marker")
        return found

    monkeypatch.setattr(node, "find_binary", guarded)


@pytest.fixture(scope="session", autouse=True)
def away_from_the_users_setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """No PROVENANCE_RPC/ACCOUNT/PASSWORD from the user's shell, and a data directory of the
    session's own: without it the CLI would find a `provenance node` that the user started in
    this folder (./.provenance) and use it. Tests that need other values set their own."""
    with pytest.MonkeyPatch.context() as patch:
        for name in USER_SETTINGS:
            patch.delenv(name, raising=False)
        patch.setenv("PROVENANCE_HOME", str(tmp_path_factory.mktemp("provenance-home")))
        yield


@pytest.fixture(scope="session")
def artifacts() -> dict[str, Artifact]:
    """Every contract under contracts/, compiled once per session from source."""
    return compile_contracts()


@pytest.fixture(scope="session")
def anvil_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[node.NodeInfo]:
    root = tmp_path_factory.mktemp("anvil-session")
    info = node.start("anvil", free_port(), root, fresh=True)
    yield info
    node.stop(root)


@pytest.fixture(scope="session")
def anvil_chain(anvil_node: node.NodeInfo) -> Chain:
    return connect(anvil_node.url)


@pytest.fixture(scope="session")
def anvil_w3(anvil_chain: Chain) -> Web3:
    """Web3 on the session's Anvil: 10 unlocked, funded dev accounts."""
    return anvil_chain.w3


@pytest.fixture(scope="session")
def accounts() -> list[LocalAccount]:
    """The dev accounts (with private keys) that every local chain funds."""
    return dev_accounts()


@pytest.fixture
def snapshot(anvil_w3: Web3) -> Iterator[None]:
    """Run a test against Anvil and roll the chain back afterwards."""
    snap = anvil_w3.provider.make_request("evm_snapshot", [])["result"]  # type: ignore[arg-type]
    yield
    anvil_w3.provider.make_request("evm_revert", [snap])  # type: ignore[arg-type]


def wait(w3: Web3, tx_hash: bytes) -> Any:
    return w3.eth.wait_for_transaction_receipt(tx_hash, poll_latency=LOCAL_POLL_SECONDS)


@pytest.fixture(scope="session")
def deploy(artifacts: dict[str, Artifact]) -> Callable[..., Contract]:
    """`deploy(w3, "Name", *args, sender=address)` → the deployed contract.

    A contract that needs linked libraries (the ProvenanceRegistry: `Membership`, `Derivations`)
    gets its creation code linked against library instances deployed once per chain and reused;
    one whose code a snapshot revert removed is deployed again.
    """
    libraries: dict[tuple[int, str], str] = {}

    def _send(w3: Web3, name: str, bytecode: str, args: tuple[Any, ...], sender: str) -> Contract:
        artifact = artifacts[name]
        factory = w3.eth.contract(abi=artifact.abi, bytecode=bytecode)
        receipt = wait(w3, factory.constructor(*args).transact({"from": sender}))
        assert receipt.status == 1, f"deploying {name} reverted"
        return w3.eth.contract(address=receipt.contractAddress, abi=artifact.abi)

    def _library(w3: Web3, name: str, sender: str) -> str:
        key = (w3.eth.chain_id, name)
        address = libraries.get(key)
        if address is None or not w3.eth.get_code(address):  # type: ignore[arg-type]
            address = _send(w3, name, artifacts[name].bytecode, (), sender).address
            libraries[key] = address
        return address

    def _deploy(w3: Web3, name: str, *args: Any, sender: str | None = None) -> Contract:
        artifact = artifacts[name]
        sender = sender or w3.eth.accounts[0]
        linked = {lib: _library(w3, lib, sender) for lib in artifact.libraries}
        bytecode = artifact.linked_bytecode(linked) if linked else artifact.bytecode
        return _send(w3, name, bytecode, args, sender)

    return _deploy


@pytest.fixture(scope="session")
def transact() -> Callable[..., Any]:
    """`transact(contract.functions.f(...), sender)` → receipt (raises on revert)."""

    def _transact(call: Any, sender: str, value: int = 0) -> Any:
        tx = call.transact({"from": sender, "value": value})
        return wait(call.w3, tx)

    return _transact


@pytest.fixture
def c(anvil_chain: Chain, snapshot: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Cli:
    """The CLI on the session Anvil, with a fresh deployment and a private data directory."""
    return make_cli(anvil_chain, tmp_path, monkeypatch)


@pytest.fixture
def silent_endpoint() -> Iterator[str]:
    """An endpoint that accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                held.append(server.accept()[0])
            except OSError:
                return

    threading.Thread(target=accept, daemon=True).start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    server.close()
    for conn in held:
        conn.close()
