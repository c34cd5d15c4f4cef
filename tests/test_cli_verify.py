"""`provenance verify`: verdict, report sections, exit codes, --doc, --json, --gtin/--lot."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.support.cli import (
    CARRIER,
    GTIN,
    Cli,
    create_batch,
    register_all,
)

pytestmark = pytest.mark.anvil  # every test here runs on the session's Anvil


def _history(c: Cli) -> str:
    register_all(c)
    bid = create_batch(c, "V1", 100)
    c.run("handoff", "send", bid, "--to", CARRIER, "--account", "dev:1")
    c.run("handoff", "accept", bid, "--account", "dev:2")
    return bid


def test_verified_history_exits_0_with_every_section(c: Cli) -> None:
    bid = _history(c)
    result = c.run("verify", bid, expect=0)
    for section in ("VERIFIED", "Custody timeline", "Lineage", "Attestations", "Recalls",
                    "Deliveries", "handed off", "accepted"):  # fmt: skip
        assert section in result.output


def test_digital_link_and_gtin_lot_give_the_same_report(c: Cli) -> None:
    bid = _history(c)
    by_id = json.loads(c.run("verify", bid, "--json").stdout)
    by_link = json.loads(c.run("verify", f"https://id.gs1.org/01/{GTIN}/10/V1", "--json").stdout)
    by_keys = json.loads(c.run("verify", "--gtin", GTIN, "--lot", "V1", "--json").stdout)
    assert by_id["batch_id"] == by_link["batch_id"] == by_keys["batch_id"] == bid
    assert by_id["verdict"] == "VERIFIED" and by_id["exit_code"] == 0


def test_recalled_batch_fails_with_exit_2(c: Cli) -> None:
    bid = _history(c)
    c.run("batch", "recall", bid, "--reason", "listeria", "--account", "dev:0")
    result = c.run("verify", bid, expect=2)
    assert "FAILED" in result.output and "listeria" in result.output


def test_recalled_sibling_warns_with_exit_1(c: Cli) -> None:
    register_all(c)
    bid = create_batch(c, "S1", 100)
    split = c.json("batch", "split", bid, "--part", "S1-A:50", "--part", "S1-B:50",
                   "--account", "dev:1")  # fmt: skip
    a, b = split["children"]
    c.run("batch", "recall", b, "--reason", "glass", "--account", "dev:1")
    result = c.run("verify", a, expect=1)
    assert "WARNING" in result.output and "sibling" in result.output


def test_unanchored_document_fails(c: Cli, tmp_path: Path) -> None:
    bid = _history(c)
    stranger = tmp_path / "forged.pdf"
    stranger.write_bytes(b"not anchored")
    result = c.run("verify", bid, "--doc", str(stranger), expect=2)
    assert "NOT anchored" in result.output


def test_names_option_labels_addresses(c: Cli) -> None:
    bid = _history(c)
    out = c.run("verify", bid, "--name", f"{CARRIER}=Trucking Ltd").output
    assert "Trucking Ltd" in out
