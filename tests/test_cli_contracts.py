"""`provenance deploy` (and that `compile` is wired to the compiler)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from provenance.chain import Chain
from provenance.cli import cli
from tests.support.cli import Cli, make_cli


@pytest.mark.anvil
def test_deploy_records_the_deployment_and_refuses_to_replace_it(
    anvil_chain: Chain, snapshot: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    c: Cli = make_cli(anvil_chain, tmp_path, monkeypatch, deployed=False)
    out = c.run("deploy", "--account", "dev:0").output
    assert "ProvenanceRegistry" in out and "SupplyAgreements" in out
    record = json.loads((c.home / "deployments" / f"{anvil_chain.identity.key}.json").read_text())
    again = c.run("deploy", "--account", "dev:0", expect=1)
    assert "already deployed" in again.output and "--force" in again.output
    forced = json.loads(c.run("deploy", "--account", "dev:0", "--force", "--json").stdout)
    assert forced["registry"] != record["registry"]


def test_deploy_on_the_embedded_chain_says_nothing_persists(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROVENANCE_HOME", str(tmp_path))
    monkeypatch.setenv("PROVENANCE_RPC", "embedded")
    result = CliRunner().invoke(cli, ["deploy", "--account", "dev:0"])
    assert result.exit_code == 0, result.output
    assert "nothing persists" in result.output
