"""`provenance docs hash` needs no chain."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from provenance.cli import cli
from provenance.encoding import keccak_hex


def test_hash_one_and_many_files(tmp_path: Path) -> None:
    a, b = tmp_path / "a.pdf", tmp_path / "b.pdf"
    a.write_bytes(b"alpha")
    b.write_bytes(b"beta")
    runner = CliRunner()
    one = runner.invoke(cli, ["docs", "hash", str(a)])
    assert one.exit_code == 0 and one.output.strip() == keccak_hex(b"alpha")
    many = runner.invoke(cli, ["docs", "hash", str(a), str(b), "--json"])
    assert [d["hash"] for d in json.loads(many.output)] == [
        keccak_hex(b"alpha"),
        keccak_hex(b"beta"),
    ]
