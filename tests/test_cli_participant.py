"""`provenance participant …` against Anvil."""

from __future__ import annotations

from cli_support import CARRIER, FARM, Cli


def test_register_show_list_update_suspend_reinstate(c: Cli) -> None:
    out = c.run("participant", "register", FARM, "--roles", "producer,carrier",
                "--gln", "0614141000012", "--account", "dev:0").output  # fmt: skip
    assert f"registered {FARM}" in out and "gas" in out
    shown = c.json("participant", "show", FARM)
    assert shown["roles"] == ["producer", "carrier"] and shown["active"] is True
    assert shown["gln"] == 614141000012 and shown["did"].endswith(FARM)
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
