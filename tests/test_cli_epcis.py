"""`provenance epcis import|export` end to end through the CLI on Anvil."""

from __future__ import annotations

import json

import pytest

from tests.support.cli import Cli
from tests.support.epcis import FIXTURES, GLNS, PREFIXES, PROCESSOR, ROLES

pytestmark = pytest.mark.anvil
FIXTURE = str(FIXTURES / "farm-to-jam.jsonld")


def setup_cast(c: Cli) -> None:
    for address, role in ROLES.items():
        c.run("participant", "register", address, "--roles", role.name.lower(),  # type: ignore[union-attr]
              "--gln", str(GLNS[address]), "--account", "dev:0")  # fmt: skip
    for address, prefixes in PREFIXES.items():
        for prefix in prefixes:
            c.run("participant", "prefix", "assign", address, prefix, "--account", "dev:0")


def test_import_dry_run_then_import_then_export(c: Cli) -> None:
    setup_cast(c)
    plan = c.json("epcis", "import", FIXTURE, "--account", "dev:1", "--dry-run")
    assert plan["dryRun"] and plan["counts"]["planned"] == 4 and plan["transactions"] == 0
    farm = c.json("epcis", "import", FIXTURE, "--account", "dev:1")
    assert farm["counts"] == {"planned": 0, "recorded": 4, "already recorded": 0,
                              "duplicate": 0, "rejected": 3, "failed": 0}  # fmt: skip
    rejected = [e for e in farm["events"] if e["status"] == "rejected"]
    assert PROCESSOR.address in rejected[0]["reason"]
    with open(FIXTURE, "rb") as handle:  # `-` reads standard input
        result = c.run("epcis", "import", "-", "--account", "dev:3", "--json",
                       input=handle.read().decode())  # fmt: skip
    assert json.loads(result.stdout)["counts"]["recorded"] == 2
    again = c.json("epcis", "import", FIXTURE, "--account", "dev:1")
    assert again["transactions"] == 0 and again["counts"]["already recorded"] == 6
    table = c.run("epcis", "import", FIXTURE, "--account", "dev:1", "--dry-run")
    assert "already recorded" in table.stdout and "events/s" not in table.stdout
    doc = json.loads(c.run("epcis", "export", "--all").stdout)
    assert doc["type"] == "EPCISDocument" and len(doc["epcisBody"]["eventList"]) == 6
    one = c.run("epcis", "export", "https://id.gs1.org/01/09521234000013/10/JAM-1", "--lineage")
    assert [e.get("bizStep") for e in json.loads(one.stdout)["epcisBody"]["eventList"]] == [
        "commissioning", "shipping", "receiving", "commissioning",
    ]  # fmt: skip
    rebuilt = c.run("epcis", "export", "--gtin", "09506000134352", "--lot", "FARM-001",
                    "--no-store")  # fmt: skip
    assert "rebuilt from the chain" in rebuilt.stderr
    verified = json.loads(
        c.run(
            "verify", "https://id.gs1.org/01/09521234000013/10/JAM-1", "--json", expect=None
        ).stdout
    )
    assert any("match their on-chain anchors" in r["message"] for r in verified["reasons"])


@pytest.mark.parametrize(
    "args",
    [
        ("epcis", "export"),
        ("epcis", "export", "--all", "--lineage"),
        ("epcis", "export", "--gtin", "09506000134352"),
        ("epcis", "export", "0x" + "11" * 32, "--from-block", "3"),
    ],
)
def test_export_usage_errors(c: Cli, args: tuple[str, ...]) -> None:
    assert c.run(*args, expect=2).exit_code == 2
