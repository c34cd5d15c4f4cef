"""`provenance node start|status|stop` and the default RPC selection."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from provenance.cli import cli
from tests.support import free_port


@pytest.mark.anvil
def test_start_status_stop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROVENANCE_HOME", str(tmp_path))
    monkeypatch.delenv("PROVENANCE_RPC", raising=False)
    runner = CliRunner()
    port = free_port()
    started = runner.invoke(cli, ["node", "start", "--port", str(port), "--fresh"])
    try:
        assert started.exit_code == 0, started.output
        status = json.loads(runner.invoke(cli, ["node", "status", "--json"]).output)
        assert status["running"] is True and status["port"] == port
        again = runner.invoke(cli, ["node", "start", "--port", str(port)])
        assert again.exit_code == 1 and "already running" in again.output
        # with a node running, commands use it by default (no --rpc): deploy persists
        deployed = runner.invoke(cli, ["deploy", "--account", "dev:0", "--json"])
        assert deployed.exit_code == 0, deployed.output
        key = status["identity"]
        assert (tmp_path / "deployments" / f"31337-{key['genesis_hash'][2:18]}.json").exists()
    finally:
        stopped = runner.invoke(cli, ["node", "stop"])
    assert stopped.exit_code == 0 and "stopped anvil" in stopped.output
    assert "is NOT running: writes are queued" in runner.invoke(cli, ["node", "status"]).output
    after = json.loads(runner.invoke(cli, ["node", "status", "--json"]).output)
    assert after["running"] is False and after["port"] == port  # still this data directory's
    forgotten = runner.invoke(cli, ["node", "stop", "--forget"])
    assert forgotten.exit_code == 0 and "forgotten" in forgotten.output
    assert json.loads(runner.invoke(cli, ["node", "status", "--json"]).output) == {
        "recorded": False,
        "running": False,
    }
