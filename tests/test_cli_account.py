"""`provenance account new|import|list`, and signing with a keystore account."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_support import Cli

from provenance.accounts import Keystore, keystore_dir
from provenance.chain import dev_accounts

pytest_plugins = ["cli_support"]

KEY8 = dev_accounts(9)[8].key.hex()
ADDR8 = dev_accounts(9)[8].address


def test_new_import_list_never_print_the_key(
    c: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROVENANCE_PASSWORD", "pw")
    new = c.run("account", "new", "alice").output
    assert "created keystore alice: 0x" in new
    key_file = tmp_path / "key.txt"
    key_file.write_text(KEY8 + "\n")
    out = c.run("account", "import", "bob", "--key-file", str(key_file)).output
    assert ADDR8 in out and KEY8.removeprefix("0x") not in out
    listed = c.json("account", "list")
    assert {a["name"] for a in listed} == {"alice", "bob"}
    assert all("key" not in str(a).lower().replace("keystore", "") for a in listed)
    assert "bob" in c.run("account", "list").output


def test_import_from_a_hidden_prompt_with_a_password_file(c: Cli, tmp_path: Path) -> None:
    password = tmp_path / "pw.txt"
    password.write_text("secret\n")
    out = c.run("account", "import", "carol", "--password-file", str(password),
                input=KEY8 + "\n").output  # fmt: skip
    assert ADDR8 in out and KEY8.removeprefix("0x") not in out


def test_a_keystore_account_signs_transactions(
    c: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROVENANCE_PASSWORD", "pw")
    fast = Keystore(keystore_dir(c.home), work_factor=2**10)  # cheap scrypt for the test
    fast.import_key("operator8", KEY8, "pw")
    c.run("participant", "register", ADDR8, "--roles", "producer", "--account", "dev:0")
    c.run("batch", "create", "--gtin", "09506000134352", "--lot", "K1", "-q", "1",
          "--account", "operator8")  # fmt: skip
    c.run("batch", "create", "--gtin", "09506000134352", "--lot", "K2", "-q", "1",
          "--account", ADDR8)  # by address  # fmt: skip
