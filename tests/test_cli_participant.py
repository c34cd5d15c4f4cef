"""`provenance participant …` against Anvil: participants, company prefixes, key migration."""

from __future__ import annotations

import pytest

from provenance.chain import dev_accounts
from tests.support.cli import CARRIER, FARM, GTIN, Cli, create_batch, register_all

pytestmark = pytest.mark.anvil  # every test here runs on the session's Anvil

NEW_KEY = dev_accounts(9)[8].address


def test_register_show_list_update_suspend_reinstate(c: Cli) -> None:
    out = c.run("participant", "register", FARM, "--roles", "producer,carrier",
                "--gln", "0614141000012", "--account", "dev:0").output  # fmt: skip
    assert f"registered {FARM}" in out and "gas" in out
    shown = c.json("participant", "show", FARM)
    assert shown["roles"] == ["producer", "carrier"] and shown["active"] is True
    assert shown["gln"] == 614141000012 and shown["did"].endswith(FARM)
    assert shown["prefixes"] == []
    c.run("participant", "register", CARRIER, "--roles", "4", "--account", "dev:0")
    listed = c.json("participant", "list")
    assert [p["address"] for p in listed] == [FARM, CARRIER]
    assert "producer, carrier" in c.run("participant", "list").output
    c.run("participant", "update", FARM, "--roles", "producer", "--account", "dev:0")
    assert c.json("participant", "show", FARM)["roles"] == ["producer"]
    c.run("participant", "suspend", FARM, "--reason", "audit", "--account", "dev:0")
    assert c.json("participant", "show", FARM)["active"] is False
    assert "SUSPENDED" in c.run("participant", "list").output
    c.run("participant", "reinstate", FARM, "--account", "dev:0")
    assert c.json("participant", "show", FARM)["active"] is True


def test_prefix_assign_list_revoke(c: Cli) -> None:
    c.run("participant", "register", FARM, "--roles", "producer", "--account", "dev:0")
    c.run("participant", "register", CARRIER, "--roles", "producer", "--account", "dev:0")
    out = c.run("participant", "prefix", "assign", FARM, "0614141", "--account", "dev:0").output
    assert f"assigned company prefix 0614141 to {FARM}" in out
    c.run("participant", "prefix", "assign", CARRIER, "9506000", "--account", "dev:0")
    listed = c.json("participant", "prefix", "list")
    assert [(p["prefix"], p["length"], p["holder"]) for p in listed] == [
        ("0614141", 7, FARM),
        ("9506000", 7, CARRIER),
    ]
    assert all(p["assignedAt"] > 0 for p in listed)
    assert [p["prefix"] for p in c.json("participant", "prefix", "list", "--holder", FARM)] == [
        "0614141"
    ]
    assert c.json("participant", "show", FARM)["prefixes"] == ["0614141"]
    overlap = c.run("participant", "prefix", "assign", CARRIER, "06141412", "--account", "dev:0",
                    expect=1).output  # fmt: skip
    assert "company prefix 06141412 (8 digits) overlaps an assigned one" in overlap
    restricted = c.run("participant", "prefix", "assign", CARRIER, "2012345", "--account",
                       "dev:0", expect=2).output  # fmt: skip
    assert "restricted-circulation" in restricted
    c.run("participant", "prefix", "revoke", "0614141", "--account", "dev:0")
    assert [p["prefix"] for p in c.json("participant", "prefix", "list")] == ["9506000"]
    assert "9506000" in c.run("participant", "prefix", "list").output


def test_migrate_moves_the_participant_its_prefixes_and_its_batches(c: Cli) -> None:
    register_all(c)
    bid = create_batch(c, "M1", 10)
    out = c.run("participant", "migrate", FARM, NEW_KEY, "--reason", "key lost",
                "--account", "dev:0").output  # fmt: skip
    assert f"migrated {FARM} to {NEW_KEY}" in out
    moved = c.json("participant", "show", NEW_KEY)
    assert moved["id"] == 1 and moved["roles"] == ["producer"] and moved["prefixes"] == ["9506000"]
    assert FARM not in [p["address"] for p in c.json("participant", "list")]
    shown = c.json("batch", "show", bid)
    assert shown["custodian"] == shown["owner"] == shown["origin"] == NEW_KEY
    c.run("batch", "create", "--gtin", GTIN, "--lot", "M2", "-q", "1", "--account", "dev:8")
    refused = c.run("batch", "create", "--gtin", GTIN, "--lot", "M3", "-q", "1", "--account",
                    "dev:1", expect=1).output  # fmt: skip
    assert "not a registered participant" in refused
    report = c.json("verify", bid)
    assert report["verdict"] == "VERIFIED", report["reasons"]
