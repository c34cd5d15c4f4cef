"""`provenance demo` plays the whole story on the embedded chain and ends with the verification."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from provenance.chain import Chain
from provenance.cli import cli


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PROVENANCE_HOME", str(tmp_path))
    monkeypatch.delenv("PROVENANCE_RPC", raising=False)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_demo_tells_the_whole_story_on_the_embedded_chain(home: Path) -> None:
    result = CliRunner().invoke(cli, ["demo"])
    assert result.exit_code == 0, result.output
    out = result.output
    # numbered steps, who did what, gas
    for text in (
        " 1. operator: deployed",
        "registered the participants",
        "farm: created batch STRAW-2026-001",
        "certifier: attested the batch ORGANIC",
        "agreement 1 with the farm: proposed, accepted, funded",
        "processor signed offline, EIP-712",
        "minus the late penalty",
        "penalty 0.025 ETH back to the processor",
        "made 2000 jars of jam",
        "split the jars into two lots",
        "recalled lot B",
        "gas ",
    ):
        assert text in out, f"missing {text!r} in the demo output"
    # the customer's verification report: verdict, timeline, lineage, recall of the sibling
    report = out.split("What the customer sees", 1)[1]
    assert "WARNING" in report or "VERIFIED" in report
    assert "FAILED" not in report
    assert "sibling" in report and "recalled" in report
    assert "Custody timeline" in report and "Lineage" in report
    assert "STRAW-2026-001" in report  # the lineage reaches the origin batch
    # the agreement paid for the ancestor (the strawberries), reported for that batch
    assert "STRAW-2026-001: paid by agreement #1" in report
    assert "supplier farm, late 1 day(s), penalty 0.025 ETH" in report
    assert "farm (producer)" in report and "carrier (carrier)" in report
    assert not (home / "deployments").exists(), "the embedded demo must not record a deployment"


@pytest.mark.anvil
def test_demo_on_anvil_as_json_records_its_deployment_for_later_verification(
    anvil_chain: Chain, snapshot: None, home: Path
) -> None:
    runner = CliRunner()
    result = runner.invoke(cli, ["--rpc", anvil_chain.rpc, "demo", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["penalty"] == 25 * 10**15  # 2.5 % of 1 ETH: one full day late
    assert data["supplierAmount"] == 10**18 - data["penalty"]
    assert data["report"]["verdict"] in ("VERIFIED", "WARNING")
    assert any(r["relation"] == "sibling" for r in data["report"]["recalls"])
    assert [s["number"] for s in data["steps"]] == list(range(1, len(data["steps"]) + 1))
    product = data["product"]
    again = runner.invoke(cli, ["--rpc", anvil_chain.rpc, "verify", product, "--json"])
    assert again.exit_code in (0, 1), again.output
    assert json.loads(again.stdout)["batch_id"] == product
