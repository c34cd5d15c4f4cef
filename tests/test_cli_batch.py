"""`provenance batch …` against Anvil."""

from __future__ import annotations

from pathlib import Path

from cli_support import GTIN, PRODUCT_GTIN, Cli, create_batch, register_all

from provenance.types import batch_id


def test_create_and_show_by_id_and_digital_link(c: Cli) -> None:
    register_all(c)
    out = c.run("batch", "create", "--gtin", GTIN, "--lot", "L1", "-q", "100", "--uom", "KGM",
                "--account", "dev:1").output  # fmt: skip
    bid = batch_id(GTIN, "L1")
    assert bid in out and f"https://id.gs1.org/01/{GTIN}/10/L1" in out
    shown = c.json("batch", "show", f"https://id.gs1.org/01/{GTIN}/10/L1")
    assert shown["batch_id"] == bid and shown["quantity"] == 100 and shown["state"] == "ACTIVE"
    assert "custodian" in c.run("batch", "show", bid).output


def test_create_with_a_document_anchors_its_hash(c: Cli, tmp_path: Path) -> None:
    register_all(c)
    doc = tmp_path / "report.txt"
    doc.write_text("harvest")
    c.run("batch", "create", "--gtin", GTIN, "--lot", "D1", "-q", "5", "--doc", str(doc),
          "--account", "dev:1")  # fmt: skip
    report = c.run("verify", batch_id(GTIN, "D1"), "--doc", str(doc), "--json", expect=None)
    assert report.exit_code in (0, 1), report.output
    assert '"matched"' in report.output


def test_split_merge_transform_recall(c: Cli) -> None:
    register_all(c)
    parent = create_batch(c, "P1", 100)
    split = c.json("batch", "split", parent, "--part", "P1-A:60", "--part", "P1-B:30",
                   "--loss", "10", "--account", "dev:1")  # fmt: skip
    a, b = split["children"]
    assert a == batch_id(GTIN, "P1-A") and b == batch_id(GTIN, "P1-B")
    assert c.json("batch", "show", parent)["state"] == "CONSUMED"
    merged = c.json("batch", "merge", a, b, "--lot", "P1-M", "--account", "dev:1")
    assert merged["child"] == batch_id(GTIN, "P1-M")
    assert c.json("batch", "show", merged["child"])["quantity"] == 90
    # the farm (producer) may transform too
    out = c.json("batch", "transform", merged["child"], "--output",
                 f"{PRODUCT_GTIN}:JAM-1:180:H87", "--account", "dev:1")  # fmt: skip
    (jam,) = out["outputs"]
    assert c.json("batch", "show", jam)["parents"] == [merged["child"]]
    assert "recalled" in c.run("batch", "recall", jam, "--reason", "glass", "--account",
                               "dev:1").output  # fmt: skip
    assert c.json("batch", "show", jam)["recalled"] is True
