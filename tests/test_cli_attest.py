"""`provenance attest add|revoke` against Anvil."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from provenance.encoding import hash_file
from tests.support.cli import FARM, Cli, create_batch, register_all

pytestmark = pytest.mark.anvil  # every test here runs on the session's Anvil


def test_attest_then_revoke_shows_in_verification(c: Cli, tmp_path: Path) -> None:
    register_all(c)
    bid = create_batch(c)
    cert = tmp_path / "cert.pdf"
    cert.write_bytes(b"organic certificate")
    data = c.json("attest", "add", bid, "--claim", "ORGANIC", "--doc", str(cert), "--valid-from",
                  "2020-01-01", "--valid-until", "+365d", "--account", "dev:5")  # fmt: skip
    assert data["attestationId"].startswith("0x")
    report = json.loads(c.run("verify", bid, "--json", expect=None).stdout)
    (att,) = report["attestations"]
    assert att["evidence"] == hash_file(cert) and att["valid_now"] is True
    c.run("attest", "revoke", bid, "--claim", "ORGANIC", "--doc", str(cert),
          "--reason", "withdrawn", "--account", "dev:5")  # fmt: skip
    report = json.loads(c.run("verify", bid, "--json", expect=None).stdout)
    assert report["attestations"][0]["revoked_at"] is not None


def test_attest_a_participant_address(c: Cli) -> None:
    register_all(c)
    out = c.run("attest", "add", FARM, "--claim", "GLOBALGAP", "--doc-hash", "0x" + "ab" * 32,
                "--valid-from", "2020-01-01", "--account", "dev:5").output  # fmt: skip
    assert "attested GLOBALGAP" in out
