"""Encrypted keystore accounts in `<data>/keystore/<name>.json`, and account specs.

Keystores are standard Web3 Secret Storage v3 files (eth-account `encrypt`/`decrypt`, scrypt), so
geth, Foundry (`cast wallet`) and MetaMask can read them. Passwords come from the caller (the CLI
resolves prompt / `--password-file` / `PROVENANCE_PASSWORD`). No function here prints, logs or
puts a private key in an error message.

An account *spec* is one of:

- a keystore name (``alice``);
- the address of a keystore (``0xAbC…``);
- ``dev:N`` — development-mnemonic account N, allowed on local chains only.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO, cast

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils.address import is_hex_address, to_checksum_address

from provenance.chain import Chain, dev_accounts
from provenance.config import data_dir, write_json_atomic
from provenance.exceptions import KeystoreError, NotFoundError, PasswordUnavailable

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
DEV_PREFIX = "dev:"
DEV_ACCOUNT_COUNT = 10

Password = str | Callable[[], str]


@dataclass(frozen=True)
class KeystoreInfo:
    """A keystore file: its account name, address and path (no secret material). `problem`
    says why a file in the keystore folder cannot be used (truncated, not a keystore…); its
    `address` is then "" unless the file still names one."""

    name: str
    address: str
    path: Path
    problem: str = ""

    @property
    def usable(self) -> bool:
        return not self.problem


def keystore_dir(root: Path | None = None) -> Path:
    return (root or data_dir()) / "keystore"


def validate_name(name: str) -> str:
    if not _NAME.match(name or ""):
        raise KeystoreError(
            f"invalid account name {name!r}: use 1–64 letters, digits, '.', '_' or '-'"
        )
    if name.startswith("dev") and name[3:4] == ":":
        raise KeystoreError("account names cannot start with 'dev:' (reserved for dev accounts)")
    return name


def parse_private_key(text: str | bytes) -> LocalAccount:
    """A `LocalAccount` from a hex private key (with or without 0x, surrounding space ignored)."""
    if isinstance(text, bytes):
        try:
            text = text.decode("ascii")
        except UnicodeDecodeError:
            raise KeystoreError("the private key is not hex text") from None
    key = text.strip().removeprefix("0x").removeprefix("0X")
    if not re.fullmatch(r"[0-9a-fA-F]{64}", key):
        raise KeystoreError("not a private key: expected 64 hex digits (32 bytes), optional 0x")
    try:
        return cast(LocalAccount, Account.from_key("0x" + key))
    except Exception:  # the message could echo the key: never chain it
        raise KeystoreError("not a valid secp256k1 private key (out of range)") from None


def read_private_key(source: TextIO | Path | str) -> LocalAccount:
    """Read a private key from an open stream (e.g. stdin) or a file path; never echoed."""
    try:
        if isinstance(source, str | Path):
            text = Path(source).read_text(encoding="utf-8")
        else:
            text = source.read()
    except OSError as exc:
        raise KeystoreError(f"cannot read the private key from {source}: {exc.strerror}") from None
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) != 1:
        raise KeystoreError("expected exactly one line holding the private key")
    return parse_private_key(lines[0])


def _password(password: Password) -> str:
    value = password() if callable(password) else password
    if not isinstance(value, str):
        raise PasswordUnavailable("no password given")
    return value


class Keystore:
    """The keystore directory (default `<data>/keystore`).

    `work_factor` is the scrypt N parameter for new files (None = eth-account's default, 2**18);
    tests pass a small power of two to keep them fast.
    """

    def __init__(self, directory: Path | None = None, *, work_factor: int | None = None) -> None:
        self.directory = directory or keystore_dir()
        self.work_factor = work_factor

    def path(self, name: str) -> Path:
        return self.directory / f"{validate_name(name)}.json"

    def exists(self, name: str) -> bool:
        return self.path(name).exists()

    def list(self) -> list[KeystoreInfo]:
        """Every file in the keystore folder, sorted by name — a damaged one too, with its
        `problem` (so it is never silently missing from a listing)."""
        found = []
        for path in sorted(self.directory.glob("*.json")):
            if path.name.startswith("."):
                continue
            found.append(_inspect(path))
        return found

    def find(self, address: str) -> KeystoreInfo | None:
        wanted = to_checksum_address(address)
        return next((info for info in self.list() if info.address == wanted and info.usable), None)

    def create(self, name: str, password: Password) -> KeystoreInfo:
        """A new account with a fresh random key."""
        return self._store(name, Account.create(), password)

    def import_key(self, name: str, private_key: str | bytes, password: Password) -> KeystoreInfo:
        """Store an existing hex private key under `name` (see `read_private_key` for stdin)."""
        return self._store(name, parse_private_key(private_key), password)

    def import_account(self, name: str, account: LocalAccount, password: Password) -> KeystoreInfo:
        return self._store(name, account, password)

    def _store(self, name: str, account: LocalAccount, password: Password) -> KeystoreInfo:
        path = self.path(name)
        if path.exists():
            raise KeystoreError(
                f"account {name!r} already exists ({path}): choose another name or delete it"
            )
        existing = self.find(account.address)
        if existing is not None:
            raise KeystoreError(
                f"address {account.address} is already stored as account {existing.name!r}"
            )
        secret = _password(password)
        if not secret:
            raise KeystoreError("refusing an empty password: keystores must be encrypted")
        kwargs: dict[str, Any] = {"kdf": "scrypt"}
        if self.work_factor is not None:
            kwargs["iterations"] = self.work_factor
        data = Account.encrypt(account.key, secret, **kwargs)
        write_json_atomic(path, data)  # mkstemp creates the file with mode 0600
        os.chmod(path, 0o600)
        return KeystoreInfo(name, account.address, path)

    def load(self, name: str, password: Password) -> LocalAccount:
        """Decrypt account `name`. `NotFoundError` for an unknown name, `KeystoreError` for a
        wrong password or a damaged file, `PasswordUnavailable` when no password could be had
        (the file is not even looked at then: a missing password file is not a corrupt key)."""
        path = self.path(name)
        if not path.exists():
            known = ", ".join(info.name for info in self.list()) or "none"
            raise NotFoundError(
                f"no account named {name!r} in {self.directory} (known: {known}); create one with "
                "`provenance account new` or `provenance account import`"
            )
        info = _inspect(path)
        if info.problem:
            raise KeystoreError(
                f"keystore {path} is damaged ({info.problem}): restore it from your backup; "
                "the key cannot be read from this file"
            )
        data = json.loads(path.read_text())
        secret = _password(password)  # before decrypting: its failures are not the file's
        try:
            key = Account.decrypt(data, secret)
        except ValueError:
            raise KeystoreError(f"wrong password for account {name}") from None
        except Exception as exc:
            raise KeystoreError(
                f"keystore {path} is damaged ({type(exc).__name__}): restore it from your backup"
            ) from None
        return cast(LocalAccount, Account.from_key(key))


def _inspect(path: Path) -> KeystoreInfo:
    """A keystore file as listed: usable, or with the reason it is not."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        return KeystoreInfo(path.stem, "", path, f"unreadable: {exc.strerror or exc}")
    try:
        data = json.loads(text)
    except ValueError as exc:
        return KeystoreInfo(path.stem, "", path, f"truncated or not JSON ({exc})")
    if not isinstance(data, dict):
        return KeystoreInfo(path.stem, "", path, "not a keystore file")
    try:
        address = str(to_checksum_address("0x" + str(data["address"]).removeprefix("0x")))
    except (KeyError, ValueError, TypeError):
        address = ""
    crypto = data.get("crypto") or data.get("Crypto")
    if not address or not isinstance(crypto, dict) or "ciphertext" not in crypto:
        return KeystoreInfo(path.stem, address, path, "not a complete keystore (v3) file")
    return KeystoreInfo(path.stem, address, path)


def is_dev_spec(spec: str) -> bool:
    return spec.strip().lower().startswith(DEV_PREFIX)


def address_of(spec: str, *, keystore: Keystore | None = None) -> str:
    """The address behind a spec without unlocking anything: a keystore name, any address
    (it need not be in the keystore), or `dev:N`."""
    text = spec.strip()
    if is_dev_spec(text):
        index_text = text[len(DEV_PREFIX) :]
        if not index_text.isdigit() or int(index_text) >= DEV_ACCOUNT_COUNT:
            raise KeystoreError(
                f"bad dev account {spec!r}: use dev:0 … dev:{DEV_ACCOUNT_COUNT - 1}"
            )
        return str(dev_accounts(int(index_text) + 1)[int(index_text)].address)
    if text.lower().startswith("0x"):
        from provenance.encoding import Address

        return Address(text, "address", allow_zero=True)
    store = keystore or Keystore()
    name = validate_name(text)
    info = next((i for i in store.list() if i.name == name), None)
    if info is None:
        raise NotFoundError(
            f"no account named {name!r}: give an address, dev:N, or a keystore name from "
            "`provenance account list`"
        )
    return info.address


def resolve_account(
    spec: str,
    *,
    chain: Chain | None,
    password: Password | None = None,
    keystore: Keystore | None = None,
) -> LocalAccount:
    """The account behind a spec (keystore name, keystore address, or `dev:N`).

    `dev:N` needs a local `chain` (embedded or localhost): the dev mnemonic is public, so it is
    refused anywhere else. `password` may be a callable so that the prompt only happens when a
    keystore is really opened.
    """
    text = spec.strip()
    if is_dev_spec(text):
        index_text = text[len(DEV_PREFIX) :]
        if not index_text.isdigit() or int(index_text) >= DEV_ACCOUNT_COUNT:
            raise KeystoreError(
                f"bad dev account {spec!r}: use dev:0 … dev:{DEV_ACCOUNT_COUNT - 1}"
            )
        if chain is None or not chain.is_local:
            where = chain.rpc if chain is not None else "an unknown chain"
            raise KeystoreError(
                f"dev accounts ({spec}) use the public test mnemonic and are only allowed on "
                f"local chains, not on {where}: use a keystore account (`provenance account new`)"
            )
        return dev_accounts(int(index_text) + 1)[int(index_text)]
    store = keystore or Keystore()
    if is_hex_address(text):
        info = store.find(text)
        if info is None:
            raise NotFoundError(
                f"no keystore holds address {to_checksum_address(text)}: import its key with "
                "`provenance account import`"
            )
        name = info.name
    else:
        name = text
    if password is None:
        raise PasswordUnavailable(f"a password is needed to unlock account {name}")
    return store.load(name, password)
