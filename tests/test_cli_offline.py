"""Nothing is lost when the chain is unreachable: a write is signed, queued in the outbox, and
recorded exactly once by `outbox flush` after the node comes back."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from provenance import node
from provenance.chain import connect
from provenance.cli import cli
from provenance.deploy import read_record
from provenance.logs import EventDecoder, fetch_logs
from provenance.registry import RegistryClient, registry_abi
from tests.support import free_port
from tests.support.cli import CARRIER, FARM, FARM_PREFIX, GTIN


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    root = tmp_path / "home"
    root.mkdir()
    monkeypatch.setenv("PROVENANCE_HOME", str(root))
    monkeypatch.delenv("PROVENANCE_ACCOUNT", raising=False)
    monkeypatch.delenv("PROVENANCE_PASSWORD", raising=False)
    yield root
    node.stop(root)


def run(*args: str, expect: int = 0) -> Result:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == expect, f"{args}: {result.output}\n{result.exception!r}"
    return result


@pytest.mark.anvil
def test_handoff_while_node_is_down_is_queued_then_flushed_exactly_once(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    info = node.start("anvil", port, home, fresh=True)
    monkeypatch.setenv("PROVENANCE_RPC", info.url)
    run("deploy", "--account", "dev:0")
    for address, role in ((FARM, "producer"), (CARRIER, "carrier")):
        run("participant", "register", address, "--roles", role, "--account", "dev:0")
    run("participant", "prefix", "assign", FARM, FARM_PREFIX, "--account", "dev:0")
    created = json.loads(
        run(
            "batch",
            "create",
            "--gtin",
            GTIN,
            "--lot",
            "OFF-1",
            "-q",
            "10",
            "--account",
            "dev:1",
            "--json",
        ).stdout
    )
    batch = str(created["batchId"])

    node.stop(home)
    sent = run("handoff", "send", batch, "--to", CARRIER, "--account", "dev:1")
    assert f"chain unreachable at {info.url}" in sent.stdout
    assert "queued in the outbox" in sent.stdout and "provenance outbox flush" in sent.stdout
    listed = json.loads(run("outbox", "list", "--json").stdout)
    queued = [e for e in listed if e["status"] == "pending"]
    assert len(queued) == 1 and queued[0]["tx_hash"] in sent.stdout
    assert f"(nonce {queued[0]['nonce']})" in sent.stdout

    node.start("anvil", port, home)  # same state file: the chain is back as it was
    first = run("outbox", "flush")
    assert f"resubmitted: {queued[0]['tx_hash']}" in first.stdout
    second = run("outbox", "flush")
    assert "resubmitted" not in second.stdout
    assert f"finalized: {queued[0]['tx_hash']}" in second.stdout or (
        f"already recorded: {queued[0]['tx_hash']}" in second.stdout
    )

    chain = connect(info.url)
    deployment = read_record(chain.identity, home)
    assert deployment is not None
    registry = RegistryClient.from_deployment(chain, deployment)
    assert registry.get_batch(batch).pending_to == CARRIER
    decoder = EventDecoder(registry_abi())
    offered = decoder.decode_all(
        fetch_logs(
            chain,
            deployment.registry,
            [decoder.topic("HandoffInitiated")],
            deployment.deploy_block,
        )
    )
    assert len(offered) == 1


@pytest.mark.anvil
def test_write_to_a_dead_endpoint_without_a_deployment_record_fails_in_one_line(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROVENANCE_RPC", f"http://127.0.0.1:{free_port()}")
    result = run(
        "batch", "create", "--gtin", GTIN, "--lot", "X", "-q", "1", "--account", "dev:1", expect=1
    )
    assert "cannot reach the chain" in result.output
