"""`provenance batch …` against Anvil."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from provenance.encoding import hash_file
from provenance.gs1 import batch_id
from tests.support.cli import (
    FARM,
    GTIN,
    JAM_GTIN,
    PROCESSOR,
    PRODUCT_GTIN,
    Cli,
    create_batch,
    register_all,
)

pytestmark = pytest.mark.anvil  # every test here runs on the session's Anvil


def test_create_and_show_by_id_and_digital_link(c: Cli) -> None:
    register_all(c)
    out = c.run("batch", "create", "--gtin", GTIN, "--lot", "L1", "-q", "100", "--uom", "KGM",
                "--account", "dev:1").output  # fmt: skip
    bid = batch_id(GTIN, "L1")
    assert bid in out and f"https://id.gs1.org/01/{GTIN}/10/L1" in out
    shown = c.json("batch", "show", f"https://id.gs1.org/01/{GTIN}/10/L1")
    assert shown["batch_id"] == bid and shown["quantity"] == 100 and shown["state"] == "ACTIVE"
    assert shown["lot"] == "L1" and shown["origin"] == FARM and shown["bound_to"] is None
    assert shown["agreement"] is None and shown["parents"] == []
    text = c.run("batch", "show", bid).output
    assert "custodian" in text and "holds the recall right" in text


def test_only_the_prefix_holder_creates_a_gtin(c: Cli) -> None:
    register_all(c)
    c.run("participant", "update", PROCESSOR, "--roles", "processor,producer", "-a", "dev:0")
    refused = c.run("batch", "create", "--gtin", GTIN, "--lot", "X1", "-q", "1",
                    "--account", "dev:3", expect=1).output  # fmt: skip
    assert "does not hold the GS1 company prefix of GTIN 09506000134352" in refused
    c.run("batch", "create", "--gtin", JAM_GTIN, "--lot", "X1", "-q", "1", "--account", "dev:3")


def test_create_many_from_csv_and_json(c: Cli, tmp_path: Path) -> None:
    register_all(c)
    csv_file = tmp_path / "harvest.csv"
    csv_file.write_text(f"gtin,lot,quantity,uom\n{GTIN},H-1,100,KGM\n{PRODUCT_GTIN},H-2,20,H87\n")
    data = c.json("batch", "create-many", str(csv_file), "--account", "dev:1")
    assert [b["batchId"] for b in data["batches"]] == [
        batch_id(GTIN, "H-1"), batch_id(PRODUCT_GTIN, "H-2"),
    ]  # fmt: skip
    assert c.json("batch", "show", batch_id(PRODUCT_GTIN, "H-2"))["uom"] == "H87"
    json_file = tmp_path / "harvest.json"
    json_file.write_text(json.dumps([{"gtin": GTIN, "lot": "H-3", "quantity": 5}]))
    out = c.run("batch", "create-many", str(json_file), "--account", "dev:1").output
    assert "created 1 batches" in out and batch_id(GTIN, "H-3") in out
    bad = tmp_path / "bad.csv"
    bad.write_text(f"gtin,lot,quantity\n{GTIN},H-4,0\n")
    refused = c.run("batch", "create-many", str(bad), "--account", "dev:1", expect=1).output
    assert "bad.csv, entry 1" in refused and "greater than zero" in refused


def test_create_with_a_document_anchors_its_hash(c: Cli, tmp_path: Path) -> None:
    register_all(c)
    doc = tmp_path / "report.txt"
    doc.write_text("harvest")
    c.run("batch", "create", "--gtin", GTIN, "--lot", "D1", "-q", "5", "--doc", str(doc),
          "--account", "dev:1")  # fmt: skip
    report = c.run("verify", batch_id(GTIN, "D1"), "--doc", str(doc), "--json", expect=None)
    assert report.exit_code in (0, 1), report.output
    assert '"matched"' in report.output


def test_split_merge_transform_recall(c: Cli, tmp_path: Path) -> None:
    register_all(c)
    parent = create_batch(c, "P1", 100)
    refused = c.run("batch", "split", parent, "--part", "Q1-A:100", "--account", "dev:1",
                    expect=1).output  # fmt: skip
    assert "does not extend P1" in refused
    split = c.json("batch", "split", parent, "--part", "P1-A:60", "--part", "P1-B:30",
                   "--loss", "10", "--account", "dev:1")  # fmt: skip
    a, b = split["children"]
    assert a == batch_id(GTIN, "P1-A") and b == batch_id(GTIN, "P1-B")
    assert c.json("batch", "show", parent)["state"] == "CONSUMED"
    assert c.json("batch", "show", a)["parents"] == [parent]
    merged = c.json("batch", "merge", a, b, "--lot", "P1-A-M", "--account", "dev:1")
    assert merged["child"] == batch_id(GTIN, "P1-A-M")
    assert c.json("batch", "show", merged["child"])["quantity"] == 90
    # the farm (producer) may transform too, into GTINs under its own prefix
    out = c.json("batch", "transform", merged["child"], "--output",
                 f"{PRODUCT_GTIN}:JAM-1:180:H87", "--account", "dev:1")  # fmt: skip
    (jam,) = out["outputs"]
    shown = c.json("batch", "show", jam)
    assert shown["parents"] == [merged["child"]] and shown["origin"] == FARM
    notice = tmp_path / "notice.txt"
    notice.write_text("recall notice")
    refused = c.run("batch", "recall", jam, "--reason", "glass", "--account", "dev:3", expect=1)
    assert "only its origin" in refused.output
    assert "recalled" in c.run("batch", "recall", jam, "--reason", "glass", "--doc", str(notice),
                               "--account", "dev:1").output  # fmt: skip
    assert c.json("batch", "show", jam)["recalled"] is True
    report = json.loads(c.run("verify", jam, "--doc", str(notice), "--json", expect=2).stdout)
    assert report["documents"][0]["hash"] == hash_file(notice)
    assert report["documents"][0]["matched"]
    out = c.run("batch", "lift-recall", jam, "--reason", "false alarm", "--account", "dev:0")
    assert "lifted the recall" in out.output
    assert c.json("batch", "show", jam)["recalled"] is False
    lifted = json.loads(c.run("verify", jam, "--json", expect=0).stdout)
    (recall,) = lifted["recalls"]
    assert recall["lifted_at"] is not None and recall["relation"] == "batch"


def test_a_recall_reaches_the_descendants(c: Cli) -> None:
    register_all(c)
    parent = create_batch(c, "R1", 100)
    a, _b = c.json("batch", "split", parent, "--part", "R1-A:50", "--part", "R1-B:50",
                   "--account", "dev:1")["children"]  # fmt: skip
    c.run("batch", "recall", parent, "--reason", "listeria", "--account", "dev:1")
    shown = c.json("batch", "show", a)
    assert shown["recalled"] is False and shown["lineage_recalled"] is True
    refused = c.run("handoff", "send", a, "--to", PROCESSOR, "--account", "dev:1", expect=1)
    assert "comes from a recalled batch" in refused.output
