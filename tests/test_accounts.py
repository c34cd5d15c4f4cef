"""Keystore accounts and account specs."""

from __future__ import annotations

import io
import stat
from pathlib import Path

import pytest
from web3 import HTTPProvider, Web3

from provenance.accounts import Keystore, parse_private_key, read_private_key, resolve_account
from provenance.chain import Chain, dev_accounts
from provenance.exceptions import KeystoreError, NotFoundError, PasswordUnavailable
from tests.support import identity

KEY = "0x" + "4c" * 32
FAST = 2**4  # scrypt N for tests


@pytest.fixture
def store(tmp_path: Path) -> Keystore:
    return Keystore(tmp_path / "keystore", work_factor=FAST)


def remote_chain() -> Chain:
    url = "https://rpc.example.org"
    return Chain(Web3(HTTPProvider(url)), url, identity(1))


def local_chain() -> Chain:
    url = "http://127.0.0.1:8545"
    return Chain(Web3(HTTPProvider(url)), url, identity(31337))


def test_import_then_load_round_trips(store: Keystore) -> None:
    info = store.import_key("alice", KEY, "pw")
    assert info.address == parse_private_key(KEY).address
    assert stat.S_IMODE(info.path.stat().st_mode) == 0o600
    assert KEY[2:] not in info.path.read_text()
    assert store.load("alice", "pw").address == info.address
    assert store.load("alice", lambda: "pw").key.hex().removeprefix("0x") == KEY[2:]


def test_new_account_is_listed_and_found_by_address(store: Keystore) -> None:
    bob = store.create("bob", "pw")
    carol = store.import_key("carol", KEY, "pw")
    assert [i.name for i in store.list()] == ["bob", "carol"]
    assert store.find(carol.address.lower()) == carol
    assert bob.address != carol.address


def test_wrong_password_is_a_keystore_error(store: Keystore) -> None:
    store.import_key("alice", KEY, "pw")
    with pytest.raises(KeystoreError, match=r"^wrong password for account alice$"):
        store.load("alice", "nope")


@pytest.mark.parametrize(
    ("action", "message"),
    [
        (lambda s: s.load("ghost", "pw"), "no account named 'ghost'"),
        (lambda s: s.import_key("bad name", KEY, "pw"), "invalid account name"),
        (lambda s: s.import_key("x", "0x1234", "pw"), "expected 64 hex digits"),
        (lambda s: s.import_key("x", "0x" + "00" * 32, "pw"), "out of range"),
        (lambda s: s.import_key("x", KEY, ""), "empty password"),
        (lambda s: s.import_key("dev:1", KEY, "pw"), "invalid account name|reserved"),
    ],
)
def test_keystore_errors(store: Keystore, action: object, message: str) -> None:
    with pytest.raises((KeystoreError, NotFoundError), match=message) as info:
        action(store)  # type: ignore[operator]
    assert KEY[2:] not in str(info.value)


def test_duplicate_name_and_address_are_refused(store: Keystore) -> None:
    store.import_key("alice", KEY, "pw")
    with pytest.raises(KeystoreError, match="already exists"):
        store.create("alice", "pw")
    with pytest.raises(KeystoreError, match="already stored as account 'alice'"):
        store.import_key("alice2", KEY, "pw")


def test_read_private_key_from_stream_and_file(tmp_path: Path) -> None:
    assert read_private_key(io.StringIO(KEY + "\n")).address == parse_private_key(KEY).address
    path = tmp_path / "key.txt"
    path.write_text(KEY[2:] + "\n")
    assert read_private_key(path).address == parse_private_key(KEY).address
    with pytest.raises(KeystoreError, match="exactly one line"):
        read_private_key(io.StringIO(""))


def test_resolve_account_specs(store: Keystore) -> None:
    info = store.import_key("alice", KEY, "pw")
    assert (
        resolve_account("alice", chain=None, password="pw", keystore=store).address == info.address
    )
    assert resolve_account(info.address, chain=None, password="pw", keystore=store).address == (
        info.address
    )
    assert resolve_account("dev:3", chain=local_chain()).address == dev_accounts(4)[3].address


@pytest.mark.parametrize(
    ("spec", "chain", "message"),
    [
        ("dev:0", remote_chain(), "only allowed on local chains, not on https://rpc.example.org"),
        ("dev:0", None, "only allowed on local chains"),
        ("dev:99", local_chain(), "use dev:0"),
        ("0x" + "11" * 20, None, "no keystore holds address"),
        ("alice", None, "a password is needed"),
    ],
)
def test_resolve_account_refusals(
    store: Keystore, spec: str, chain: Chain | None, message: str
) -> None:
    store.import_key("alice", KEY, "pw")
    with pytest.raises((KeystoreError, NotFoundError), match=message):
        resolve_account(spec, chain=chain, keystore=store)


def test_a_password_that_cannot_be_had_is_not_a_corrupt_keystore(store: Keystore) -> None:
    store.import_key("alice", KEY, "pw")

    def missing() -> str:
        raise PasswordUnavailable("cannot read the password file pw.txt: No such file")

    with pytest.raises(PasswordUnavailable, match="cannot read the password file") as info:
        store.load("alice", missing)
    assert "corrupt" not in str(info.value) and "damaged" not in str(info.value)
    assert store.load("alice", "pw").address  # the keystore is untouched


def test_a_truncated_keystore_is_listed_with_what_is_wrong(store: Keystore) -> None:
    good = store.import_key("alice", KEY, "pw")
    store.create("bob", "pw")
    bob = store.path("bob")
    bob.write_text(bob.read_text()[:40])
    listed = {info.name: info for info in store.list()}
    assert listed["alice"] == good and listed["alice"].usable
    assert not listed["bob"].usable and "truncated" in listed["bob"].problem
    with pytest.raises(KeystoreError, match=r"keystore .*bob.json is damaged .*restore it"):
        store.load("bob", "pw")
