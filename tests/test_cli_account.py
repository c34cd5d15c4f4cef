"""`provenance account new|import|list|balance|fund`, and signing with a keystore account."""

from __future__ import annotations

from pathlib import Path

import pytest

from provenance.accounts import Keystore, keystore_dir
from provenance.chain import dev_accounts
from tests.support.cli import Cli

pytestmark = pytest.mark.anvil  # every test here runs on the session's Anvil

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
    c.run("participant", "prefix", "assign", ADDR8, "9506000", "--account", "dev:0")
    c.run("batch", "create", "--gtin", "09506000134352", "--lot", "K1", "-q", "1",
          "--account", "operator8")  # fmt: skip
    c.run("batch", "create", "--gtin", "09506000134352", "--lot", "K2", "-q", "1",
          "--account", ADDR8)  # by address  # fmt: skip


def test_fund_a_new_account_then_it_can_send(
    c: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PROVENANCE_PASSWORD", "pw")
    fast = Keystore(keystore_dir(c.home), work_factor=2**10)  # cheap scrypt for the test
    info = fast.create("fresh", "pw")
    c.run("participant", "register", info.address, "--roles", "producer", "--account", "dev:0")
    c.run("participant", "prefix", "assign", info.address, "9506000", "--account", "dev:0")
    assert c.run("account", "balance", "fresh").output.strip() == f"{info.address}: 0 ETH"
    refused = c.run("batch", "create", "--gtin", "09506000134352", "--lot", "F1", "-q", "1",
                    "--account", "fresh", expect=1).output  # fmt: skip
    assert refused.startswith(f"Error: account {info.address} cannot pay for gas (balance 0 ETH)")
    assert "provenance account fund" in refused and "-32003" not in refused
    out = c.run("account", "fund", "fresh", "--amount", "1.5eth", "--account", "dev:0").output
    assert f"sent 1.5 ETH to {info.address}: tx 0x" in out
    assert f"{info.address}: 1.5 ETH" in out
    assert c.json("account", "balance", "fresh") == {
        "address": info.address,
        "balance_wei": str(15 * 10**17),
        "balance": "1.5 ETH",
    }
    c.run("batch", "create", "--gtin", "09506000134352", "--lot", "F1", "-q", "1",
          "--account", "fresh")  # fmt: skip


def test_fund_by_address_and_balance_of_a_dev_account(c: Cli) -> None:
    data = c.json("account", "fund", ADDR8, "--amount", "1000wei", "--account", "dev:0")
    assert data["address"] == ADDR8 and data["tx"]["status"] == 1
    assert int(data["balance_wei"]) == c.chain.balance(ADDR8)
    assert c.json("account", "balance", "dev:8")["address"] == ADDR8
