"""Deploy the registry and the agreements contract, and keep a record the CLI finds next time.

A deployment record is written per chain id to `<data dir>/deployments/<chainId>.json`: contract
addresses, deploy block, transaction hashes and the hash of the artifact set that was deployed.
Later commands read it, so they need no address flags.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from web3 import Web3

from provenance.chain import EMBEDDED, Chain
from provenance.compiler import ARTIFACTS_DIR, artifacts_hash, load_artifact
from provenance.config import data_dir, write_json_atomic
from provenance.exceptions import ConfigError, TransactionError

REGISTRY = "ProvenanceRegistry"
AGREEMENTS = "SupplyAgreements"
SETTLER_ROLE = Web3.keccak(text="SETTLER_ROLE")

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Deployment:
    """Where the contracts of one chain live, and how they got there."""

    chain_id: int
    registry: str
    agreements: str
    deploy_block: int
    deployer: str
    artifact_hash: str
    tx_hashes: dict[str, str] = field(default_factory=dict)
    deployed_at: float = 0.0
    rpc: str = ""

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Deployment:
        return cls(**data)


def record_path(chain_id: int, root: Path | None = None) -> Path:
    return (root or data_dir()) / "deployments" / f"{chain_id}.json"


def read_record(chain_id: int, root: Path | None = None) -> Deployment | None:
    path = record_path(chain_id, root)
    if not path.exists():
        return None
    try:
        return Deployment.from_json(json.loads(path.read_text()))
    except (ValueError, TypeError) as exc:
        raise ConfigError(
            f"deployment record {path} is unreadable ({exc}): delete it and redeploy"
        ) from exc


def find_record_for_rpc(rpc: str, root: Path | None = None) -> Deployment | None:
    """The deployment record made through the endpoint `rpc` (its chain id is then known even
    while that endpoint is down), or None. The most recent one wins if several match."""
    wanted = rpc.rstrip("/")
    found: list[Deployment] = []
    for path in sorted((root or data_dir()).glob("deployments/*.json")):
        try:
            record = read_record(int(path.stem), root)
        except (ValueError, ConfigError):
            continue
        if record is not None and record.rpc.rstrip("/") == wanted:
            found.append(record)
    return max(found, key=lambda r: r.deployed_at) if found else None


def has_code(chain: Chain, address: str) -> bool:
    return len(chain.w3.eth.get_code(Web3.to_checksum_address(address))) > 0


def load_deployment(chain: Chain, root: Path | None = None) -> Deployment:
    """The deployment recorded for `chain`, after checking that its contracts are really there."""
    record = read_record(chain.chain_id, root)
    if record is None:
        others = sorted(p.stem for p in (root or data_dir()).glob("deployments/*.json"))
        hint = f" (records exist for chain ids {', '.join(others)}: wrong --rpc?)" if others else ""
        raise ConfigError(
            f"no deployment recorded for chain id {chain.chain_id}{hint}: "
            "run `provenance deploy` first"
        )
    for name, address in ((REGISTRY, record.registry), (AGREEMENTS, record.agreements)):
        if not has_code(chain, address):
            raise ConfigError(
                f"no contract code at the recorded {name} address {address} on chain id "
                f"{chain.chain_id} (was the node reset?): redeploy with `provenance deploy`"
            )
    return record


def deploy(
    chain: Chain,
    account: LocalAccount,
    *,
    force: bool = False,
    save: bool | None = None,
    root: Path | None = None,
    artifacts_dir: Path = ARTIFACTS_DIR,
    progress: Progress | None = None,
) -> Deployment:
    """Deploy ProvenanceRegistry and SupplyAgreements, link them, and record the deployment.

    Refuses to replace a live deployment of the same chain unless `force` is given. `save`
    defaults to True except on the embedded chain, which does not outlive the process.
    """
    note = progress or (lambda _message: None)
    save = chain.rpc != EMBEDDED if save is None else save
    existing = read_record(chain.chain_id, root) if save else None
    if existing and not force and has_code(chain, existing.registry):
        raise ConfigError(
            f"contracts are already deployed on chain id {chain.chain_id} (registry "
            f"{existing.registry}): pass --force to deploy a new set and replace the record"
        )
    start_block = chain.w3.eth.block_number
    registry_art = load_artifact(REGISTRY, artifacts_dir)
    agreements_art = load_artifact(AGREEMENTS, artifacts_dir)

    note(f"deploying {REGISTRY} from {account.address}")
    registry_address, registry_tx = _deploy_contract(
        chain, account, registry_art.abi, registry_art.bytecode
    )
    note(f"deploying {AGREEMENTS}")
    agreements_address, agreements_tx = _deploy_contract(
        chain, account, agreements_art.abi, agreements_art.bytecode, registry_address
    )
    note(f"granting SETTLER_ROLE to {AGREEMENTS}")
    registry = chain.w3.eth.contract(
        address=Web3.to_checksum_address(registry_address), abi=registry_art.abi
    )
    grant_tx = _send(chain, account, registry.functions.grantRole(SETTLER_ROLE, agreements_address))

    deployment = Deployment(
        chain_id=chain.chain_id,
        registry=registry_address,
        agreements=agreements_address,
        deploy_block=start_block + 1,
        deployer=account.address,
        artifact_hash=artifacts_hash(artifacts_dir),
        tx_hashes={"registry": registry_tx, "agreements": agreements_tx, "grantSettler": grant_tx},
        deployed_at=time.time(),
        rpc=chain.rpc,
    )
    if save:
        write_json_atomic(record_path(chain.chain_id, root), deployment.to_json())
    return deployment


def _deploy_contract(
    chain: Chain, account: LocalAccount, abi: list[dict[str, Any]], bytecode: str, *args: Any
) -> tuple[str, str]:
    factory = chain.w3.eth.contract(abi=abi, bytecode=bytecode)
    tx_hash, receipt = _send_built(chain, account, factory.constructor(*args))
    return Web3.to_checksum_address(receipt["contractAddress"]), tx_hash


def _send(chain: Chain, account: LocalAccount, call: Any) -> str:
    tx_hash, _receipt = _send_built(chain, account, call)
    return tx_hash


def _send_built(chain: Chain, account: LocalAccount, call: Any) -> tuple[str, Any]:
    tx = call.build_transaction(
        {"from": account.address, "nonce": chain.w3.eth.get_transaction_count(account.address)}
    )
    signed = account.sign_transaction(tx)
    tx_hash = chain.w3.eth.send_raw_transaction(signed.raw_transaction)
    receipt = chain.wait_for_receipt(tx_hash)
    if receipt["status"] != 1:
        raise TransactionError(f"deployment transaction {tx_hash.hex()} reverted")
    return "0x" + bytes(tx_hash).hex().removeprefix("0x"), receipt
