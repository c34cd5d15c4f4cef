"""`provenance node`: background Anvil/Ganache with a pid file and a persistent chain."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from provenance import node
from provenance.chain import connect
from provenance.exceptions import NodeError
from tests.conftest import free_port
from tests.roundtrip import deploy_and_hand_off, expected, read_back


@pytest.mark.parametrize("engine", ["anvil", pytest.param("ganache", marks=pytest.mark.ganache)])
def test_restarted_node_keeps_contracts_and_records(engine: str, tmp_path: Path) -> None:
    port = free_port()
    info = node.start(engine, port, tmp_path, fresh=True)
    try:
        assert node.status(tmp_path) == info
        trip = deploy_and_hand_off(connect(info.url), root=tmp_path)
    finally:
        node.stop(tmp_path)
    assert node.status(tmp_path) is None

    restarted = node.start(engine, port, tmp_path)
    try:
        chain = connect(restarted.url)
        assert read_back(chain, trip) == expected(trip)
        assert chain.w3.eth.get_code(trip.deployment.agreements) != b""
    finally:
        node.stop(tmp_path)


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


@pytest.mark.parametrize(
    ("interval", "expected"),
    [(1, ["--state-interval", "1"]), (10, ["--state-interval", "10"]), (0, [])],
)
def test_anvil_saves_its_state_every_interval_or_only_on_stop(
    interval: int, expected: list[str], tmp_path: Path
) -> None:
    argv = node.command("anvil", Path("anvil"), 8545, tmp_path / "s.json", interval)
    assert argv[argv.index("--state") + 1] == str(tmp_path / "s.json")
    tail = argv[argv.index("--state") + 2 : argv.index("--silent")]
    assert tail == expected
