"""`provenance node`: a background Anvil (under its snapshot keeper) or Ganache, a persistent chain
whose state survives kill -9 at any moment, and a node record that outlives `node stop`."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest

from provenance import node
from provenance.chain import connect
from provenance.exceptions import NodeError
from provenance.snapshots import check_state, previous_path
from tests.support import PROJECT_ROOT, free_port
from tests.support.chains import deploy_and_hand_off, expected, read_back


@pytest.mark.parametrize(
    "engine",
    [
        pytest.param("anvil", marks=pytest.mark.anvil),
        pytest.param("ganache", marks=pytest.mark.ganache),
    ],
)
def test_restarted_node_keeps_contracts_records_and_identity(engine: str, tmp_path: Path) -> None:
    port = free_port()
    info = node.start(engine, port, tmp_path, fresh=True)
    try:
        assert node.status(tmp_path) == info and info.running
        trip = deploy_and_hand_off(connect(info.url), root=tmp_path)
    finally:
        node.stop(tmp_path)
    assert node.status(tmp_path) is None
    stopped = node.recorded(tmp_path)
    assert stopped is not None and not stopped.running  # the data directory still knows it

    restarted = node.start(engine, port, tmp_path)
    try:
        chain = connect(restarted.url)
        assert read_back(chain, trip) == expected(trip)
        assert chain.w3.eth.get_code(trip.deployment.agreements) != b""
        assert chain.identity == info.chain_identity == restarted.chain_identity
    finally:
        node.stop(tmp_path, forget=True)
    assert node.recorded(tmp_path) is None


@pytest.mark.anvil
def test_a_fresh_node_is_another_chain_with_the_same_id(tmp_path: Path) -> None:
    port = free_port()
    first = node.start("anvil", port, tmp_path, fresh=True)
    node.stop(tmp_path)
    second = node.start("anvil", port, tmp_path, fresh=True)  # within the same second, too
    node.stop(tmp_path)
    assert first.chain_identity is not None and second.chain_identity is not None
    assert first.chain_identity.chain_id == second.chain_identity.chain_id
    assert first.chain_identity != second.chain_identity


def test_anvil_loads_its_last_snapshot_and_never_writes_state_itself(tmp_path: Path) -> None:
    state = tmp_path / "s.json"
    argv = node.command("anvil", Path("anvil"), 8545, state)
    assert "--load-state" not in argv and "--state" not in argv
    state.write_text("{}")
    argv = node.command("anvil", Path("anvil"), 8545, state)
    assert argv[argv.index("--load-state") + 1] == str(state)
    assert not {"--state", "--dump-state", "--state-interval"} & set(argv)


@pytest.mark.anvil
def test_anvils_history_cache_is_bounded_in_the_nodes_folder_and_gone_after_stop(
    tmp_path: Path,
) -> None:
    """Anvil's persisted historical states go to the node's own folder (not the shared
    ~/.foundry/anvil/tmp, where dead nodes' states piled up to tens of GB), at most
    MAX_PERSISTED_STATES of them, and `node stop` removes them."""
    info = node.start("anvil", free_port(), tmp_path, fresh=True, state_interval=0)
    try:
        cache = node.anvil_cache(Path(info.state_path))
        assert cache.parent == Path(info.state_path).parent and tmp_path in cache.parents
        with open(f"/proc/{info.node_pid}/cmdline", "rb") as handle:
            argv = handle.read().decode().split("\0")
        assert argv[argv.index("--cache-path") + 1] == str(cache)
        assert argv[argv.index("--max-persisted-states") + 1] == str(node.MAX_PERSISTED_STATES)
        cache.mkdir(parents=True, exist_ok=True)
        (cache / "leftover").write_text("x")
    finally:
        node.stop(tmp_path)
    assert not cache.exists()


@pytest.mark.anvil
def test_start_refuses_a_port_in_use(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(NodeError, match=f"port {port} .* already in use"):
            node.start("anvil", port, tmp_path)
    assert node.status(tmp_path) is None


def test_missing_binary_names_the_install_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)  # no node_modules here
    monkeypatch.setattr(node, "__file__", str(tmp_path / "provenance" / "node.py"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(NodeError, match=r"anvil is not installed: run `npm ci`"):
        node.start("anvil", free_port(), tmp_path)


@pytest.mark.anvil
def test_second_start_while_running_is_refused(tmp_path: Path) -> None:
    info = node.start("anvil", free_port(), tmp_path, fresh=True)
    try:
        with pytest.raises(NodeError, match=f"already running \\(pid {info.pid}"):
            node.start("anvil", free_port(), tmp_path)
    finally:
        node.stop(tmp_path)


def test_stop_without_a_node_returns_none(tmp_path: Path) -> None:
    assert node.stop(tmp_path) is None


def test_unknown_engine_is_refused(tmp_path: Path) -> None:
    with pytest.raises(NodeError, match="unknown engine 'hardhat'"):
        node.start("hardhat", free_port(), tmp_path)


@pytest.mark.anvil
def test_a_damaged_state_file_is_refused_with_the_way_out(tmp_path: Path) -> None:
    port = free_port()
    info = node.start("anvil", port, tmp_path, fresh=True, state_interval=0)
    connect(info.url).w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    node.stop(tmp_path)  # snapshot 1
    node.start("anvil", port, tmp_path, state_interval=0)
    connect(info.url).w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    node.stop(tmp_path)  # snapshot 2; snapshot 1 is kept as the previous one
    state = Path(info.state_path)
    assert check_state(previous_path(state)).ok and check_state(state).block == 2
    state.write_bytes(state.read_bytes()[:100])  # what a kill inside a save used to leave

    with pytest.raises(NodeError) as refused:
        node.start("anvil", port, tmp_path)
    message = str(refused.value)
    assert f"the node's state file {state} is damaged (not complete JSON" in message
    assert "`provenance node start --from-previous`" in message and "(block 1;" in message
    assert "--fresh" in message and node.status(tmp_path) is None

    restored = node.start("anvil", port, tmp_path, from_previous=True)
    try:
        assert connect(restored.url).w3.eth.block_number == 1
        assert restored.chain_identity == info.chain_identity
        assert list(tmp_path.glob("node/anvil-state.damaged-*.json"))  # kept, not deleted
    finally:
        node.stop(tmp_path)


@pytest.mark.anvil
def test_kill_9_during_snapshots_never_damages_the_state(tmp_path: Path) -> None:
    """The suite's short run of `scripts/kill_state.py` (the long one: `--during-saves 20`)."""
    sys.path.insert(0, str(PROJECT_ROOT / "scripts"))
    try:
        import kill_state
    finally:
        sys.path.pop(0)
    figures = kill_state.run(kills=4, size_mb=3, root=tmp_path, seed=7, during_saves=2)
    assert figures.kills >= 4 and figures.state_bytes > 2_000_000
    assert figures.corruptions == 0, figures.problems
    assert figures.during_save >= 2  # kills that landed inside a save
