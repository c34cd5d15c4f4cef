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
        assert (tmp_path / "deployments" / "31337.json").exists()
    finally:
        stopped = runner.invoke(cli, ["node", "stop"])
    assert stopped.exit_code == 0 and "stopped anvil" in stopped.output
    assert "no node is running" in runner.invoke(cli, ["node", "status"]).output
    assert json.loads(runner.invoke(cli, ["node", "status", "--json"]).output) == {"running": False}
