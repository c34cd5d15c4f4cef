"""Deploy the provenance contracts: a thin shell over `provenance.deploy`.

    brownie run scripts/deploy.py            # on brownie's development network (Anvil)
    python scripts/deploy.py --rpc URL       # on any EVM JSON-RPC endpoint
    python scripts/deploy.py                 # on the embedded in-process chain (a dry run)

Three transactions: the Membership and Derivations libraries, then ProvenanceRegistry linked
against them (its constructor creates SupplyAgreements, read back with `settlement()`).

On a remote network pass `--keystore FILE` (an eth-account keystore; password from the
PROVENANCE_PASSWORD environment variable or a prompt). On local chains the first dev account
deploys.
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

from provenance.chain import Chain, connect, dev_accounts
from provenance.deploy import DEFAULT_ADMIN_DELAY, deploy


def _brownie_rpc() -> str | None:
    """The endpoint brownie is connected to, when this file runs under `brownie run`."""
    if "brownie" not in sys.modules:
        return None
    from brownie import network, web3  # type: ignore[import-not-found]

    return str(web3.provider.endpoint_uri) if network.is_connected() else None


def _account(chain: Chain, keystore: str | None) -> LocalAccount:
    if keystore:
        password = os.environ.get("PROVENANCE_PASSWORD") or getpass.getpass("keystore password: ")
        key = Account.decrypt(json.loads(Path(keystore).read_text()), password)
        return Account.from_key(key)
    if not chain.is_local:
        raise SystemExit("deploying to a non-local chain needs --keystore FILE")
    return dev_accounts(1)[0]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="Deploy the libraries and ProvenanceRegistry (which creates SupplyAgreements)."
    )
    parser.add_argument("--rpc", help="JSON-RPC URL (default: brownie's network, else embedded)")
    parser.add_argument("--keystore", help="eth-account keystore JSON of the deployer")
    parser.add_argument("--force", action="store_true", help="replace an existing deployment")
    parser.add_argument(
        "--admin-delay",
        type=int,
        default=DEFAULT_ADMIN_DELAY,
        help=f"seconds between the two steps of an operator hand-over (default "
        f"{DEFAULT_ADMIN_DELAY})",
    )
    args = parser.parse_args([] if argv is None and "brownie" in sys.modules else argv)
    chain = connect(args.rpc or _brownie_rpc())
    deployment = deploy(
        chain, _account(chain, args.keystore), admin_delay=args.admin_delay, force=args.force
    )
    print(f"chain id     {deployment.chain_id}")
    print(f"registry     {deployment.registry}")
    print(f"agreements   {deployment.agreements}")
    for name, address in deployment.libraries.items():
        print(f"{name.lower():<12} {address}")
    print(f"admin delay  {deployment.admin_delay} s")
    print(f"deploy block {deployment.deploy_block}")


if __name__ == "__main__":
    main()
