"""Deploy the provenance contracts: a thin shell over `provenance.session.Session.deploy`.

    brownie run scripts/deploy.py            # on brownie's development network (Anvil)
    python scripts/deploy.py --rpc URL       # on any EVM JSON-RPC endpoint
    python scripts/deploy.py                 # on the embedded in-process chain (a dry run)

Three transactions, sent through the session's transactor like every write of the toolkit (and
journaled in the outbox of the data directory): the Membership and Derivations libraries, then
ProvenanceRegistry linked against them (its constructor creates SupplyAgreements, read back with
`settlement()`). The record is written for the chain's identity, as `provenance deploy` does.

On a remote network pass `--keystore FILE` (an eth-account keystore; password from the
PROVENANCE_PASSWORD environment variable or a prompt) or `--account NAME` (a keystore of the data
directory). On local chains the first dev account deploys.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from pathlib import Path

from eth_account import Account
from eth_account.signers.local import LocalAccount

from provenance.deploy import DEFAULT_ADMIN_DELAY
from provenance.exceptions import ProvenanceError
from provenance.session import Session


def _brownie_rpc() -> str | None:
    """The endpoint brownie is connected to, when this file runs under `brownie run`."""
    if "brownie" not in sys.modules:
        return None
    from brownie import network, web3  # type: ignore[import-not-found]

    return str(web3.provider.endpoint_uri) if network.is_connected() else None


def _keystore_account(path: str) -> LocalAccount:
    password = os.environ.get("PROVENANCE_PASSWORD") or getpass.getpass("keystore password: ")
    key = Account.decrypt(json.loads(Path(path).read_text()), password)
    return Account.from_key(key)  # type: ignore[no-any-return]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="Deploy the libraries and ProvenanceRegistry (which creates SupplyAgreements)."
    )
    parser.add_argument("--rpc", help="JSON-RPC URL (default: brownie's network, else embedded)")
    parser.add_argument("--keystore", help="eth-account keystore JSON of the deployer")
    parser.add_argument("--account", help="keystore name, address or dev:N (default: dev:0)")
    parser.add_argument("--force", action="store_true", help="replace an existing deployment")
    parser.add_argument(
        "--admin-delay",
        type=int,
        default=DEFAULT_ADMIN_DELAY,
        help=f"seconds between the two steps of an operator hand-over (default "
        f"{DEFAULT_ADMIN_DELAY})",
    )
    args = parser.parse_args([] if argv is None and "brownie" in sys.modules else argv)
    rpc = args.rpc or _brownie_rpc() or "embedded"
    signer = _keystore_account(args.keystore) if args.keystore else None
    session = Session(
        rpc,
        account=args.account or (None if signer else "dev:0"),
        signer=signer,
        password=lambda: os.environ.get("PROVENANCE_PASSWORD") or getpass.getpass("password: "),
    )
    try:
        deployment = session.deploy(admin_delay=args.admin_delay, force=args.force)
    except ProvenanceError as exc:
        raise SystemExit(f"error: {exc}") from None
    print(f"chain        {session.identity.describe()}")
    print(f"registry     {deployment.registry}")
    print(f"agreements   {deployment.agreements}")
    for name, address in deployment.libraries.items():
        print(f"{name.lower():<12} {address}")
    print(f"admin delay  {deployment.admin_delay} s")
    print(f"deploy block {deployment.deploy_block}")


if __name__ == "__main__":
    main()
