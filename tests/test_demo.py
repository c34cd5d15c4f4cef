"""`provenance demo` plays the whole story on the embedded chain and ends with the verifications.

The next issue's web page relies on the four verdicts the story leads to: lot A WARNING (its
sibling recalled), lot B FAILED (recalled), the farm's batch WARNING (a descendant recalled) and an
unrelated batch VERIFIED."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from provenance.chain import Chain
from provenance.cli import cli
from provenance.demo import EXPECTED


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
        " 1. operator: deployed the libraries, then ProvenanceRegistry",
        "assigned two GS1 company prefixes",
        "prefix 9506000 → farm (its GTIN 09506000134352)",
        "prefix 9521234 → processor (its GTIN 09521234000013)",
        "farm: harvested STRAW-2026-001 (1000 kg) and STRAW-2026-002 (200 kg)",
        "certifier: attested STRAW-2026-001 ORGANIC",
        "signed by the farm offline (EIP-712), recorded and funded",
        "to the carrier named in the terms (as FCA)",
        "farm: tendered STRAW-2026-001 under agreement 1 to the carrier: 1 day late",
        "penalty 0.025 ETH",
        "carrier: picked the strawberries up",
        "agreement 1 settled in the same transaction",
        "farm credited 0.975 ETH",
        "under its own prefix",
        "split the jars into two lots",
        "recalled lot B",
        "gas ",
    ):
        assert text in out, f"missing {text!r} in the demo output"
    # who recalled what, and the four verdicts
    assert "the processor, origin of the jam, recalled lot B" in out
    verdicts = out.split("Verdicts", 1)[1].split("What the customer sees", 1)[0]
    for label, verdict in EXPECTED.items():
        assert f"{label:15} {verdict.value}" in verdicts, verdicts
    assert "sibling batch JAM-2026-01-B" in verdicts
    assert "descendant batch JAM-2026-01-B" in verdicts
    # the customer's verification report of lot A: timeline, lineage, deliveries, title
    report = out.split("What the customer sees", 1)[1]
    assert report.splitlines()[2].startswith("WARNING  batch ")  # lot A's verdict
    assert "Custody timeline" in report and "Lineage" in report
    assert "STRAW-2026-001" in report  # the lineage reaches the origin batch
    assert "tendered under agreement #1, 1 day(s) late" in report
    assert "accepted the delivery (agreement #1 settled, title passed)" in report
    assert "STRAW-2026-001: agreement #1 of 1 ETH, supplier farm → buyer processor via carrier" in (
        report
    )
    assert "penalty 0.025 ETH to the buyer" in report
    assert "farm → processor by delivery (agreement #1)" in report
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
    assert data["daysLate"] == 1
    assert data["penalty"] == 25 * 10**15  # 2.5 % of 1 ETH: one whole day late at the tender
    assert data["supplierAmount"] == 10**18 - data["penalty"]
    assert data["buyerRefund"] == 102 * 10**16 - data["supplierAmount"]  # penalty + tolerance
    assert data["verdicts"] == {label: v.value for label, v in EXPECTED.items()}
    assert any(r["relation"] == "sibling" for r in data["report"]["recalls"])
    assert data["reports"]["lot B"]["recalls"][0]["relation"] == "batch"
    assert data["reports"]["farm batch"]["recalls"][0]["relation"] == "descendant"
    (delivery,) = data["reports"]["farm batch"]["agreements"]
    assert delivery["status"] == "settled" and delivery["carrier"] == data["cast"]["carrier"]
    assert [s["number"] for s in data["steps"]] == list(range(1, len(data["steps"]) + 1))
    product = data["product"]
    again = runner.invoke(cli, ["--rpc", anvil_chain.rpc, "verify", product, "--json"])
    assert again.exit_code == 1, again.output
    assert json.loads(again.stdout)["batch_id"] == product
