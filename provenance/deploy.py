"""Deploy the contracts, and keep a record the CLI finds next time.

A deployment is three transactions: the two libraries the registry is linked against (`Membership`,
`Derivations`), then `ProvenanceRegistry(initialAdminDelay, admin)` with their addresses linked
into its creation code. The registry's constructor creates the settlement contract
(`SupplyAgreements`), read back with `registry.settlement()`: there is no role to grant, and no
operator action can change which contract settles.

A deployment record is written per chain id to `<data dir>/deployments/<chainId>.json`: contract
and library addresses, the operator hand-over delay, deploy block, transaction hashes and the hash
of the artifact set that was deployed. Later commands read it, so they need no address flags. A
record written for the contracts before version 2 (issue 9) is refused with a message that says to
redeploy: nothing of value was held by those deployments, so there is no migration.
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
from provenance.compiler import ARTIFACTS_DIR, Artifact, artifacts_hash, load_artifact
from provenance.config import data_dir, write_json_atomic
from provenance.exceptions import ConfigError, TransactionError

REGISTRY = "ProvenanceRegistry"
AGREEMENTS = "SupplyAgreements"
#: The libraries linked into the registry, deployed first, in this order.
LIBRARIES = ("Membership", "Derivations")
#: Seconds between the two steps of an operator (DEFAULT_ADMIN_ROLE) hand-over, by default.
DEFAULT_ADMIN_DELAY = 2 * 24 * 3600
MAX_ADMIN_DELAY = 2**48 - 1
#: Version of the deployment record format: 2 = the contracts of issue 9 (linked libraries,
#: settlement created by the registry). Records without a version are version 1.
RECORD_VERSION = 2

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
    #: Library name → address (`Membership`, `Derivations`), linked into the registry.
    libraries: dict[str, str] = field(default_factory=dict)
    #: Seconds an operator hand-over waits between its two steps (the registry's constructor).
    admin_delay: int = DEFAULT_ADMIN_DELAY
    tx_hashes: dict[str, str] = field(default_factory=dict)
    deployed_at: float = 0.0
    rpc: str = ""
    version: int = RECORD_VERSION

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Deployment:
        """Parse a record; `ConfigError` for a record of an older contract version."""
        version = int(data.get("version", 1))
        if version != RECORD_VERSION:
            raise ConfigError(
                f"it was written for version {version} of the contracts (this toolkit drives "
                f"version {RECORD_VERSION}: linked libraries, agreements settled on acceptance); "
                "old deployments are not migrated (they hold nothing of value): deploy the new "
                "contracts with `provenance deploy --force`"
            )
        return cls(**data)


def record_path(chain_id: int, root: Path | None = None) -> Path:
    return (root or data_dir()) / "deployments" / f"{chain_id}.json"


def read_record(chain_id: int, root: Path | None = None) -> Deployment | None:
    path = record_path(chain_id, root)
    if not path.exists():
        return None
    try:
        return Deployment.from_json(json.loads(path.read_text()))
    except ConfigError as exc:
        raise ConfigError(f"deployment record {path} is outdated: {exc}") from exc
    except (ValueError, TypeError) as exc:
        raise ConfigError(
            f"deployment record {path} is unreadable ({exc}): delete it and redeploy"
        ) from exc


def _record_version(chain_id: int, root: Path | None) -> int | None:
    """The format version of the record for `chain_id` (None: no readable record)."""
    path = record_path(chain_id, root)
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return int(data.get("version", 1)) if isinstance(data, dict) else None


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
    contracts = [(REGISTRY, record.registry), (AGREEMENTS, record.agreements)]
    contracts += sorted(record.libraries.items())
    for name, address in contracts:
        if not has_code(chain, address):
            raise ConfigError(
                f"no contract code at the recorded {name} address {address} on chain id "
                f"{chain.chain_id} (was the node reset?): redeploy with `provenance deploy`"
            )
    return record


def validate_admin_delay(seconds: int) -> int:
    """The operator hand-over delay, checked against the registry's `uint48`."""
    if not isinstance(seconds, int) or not 0 <= seconds <= MAX_ADMIN_DELAY:
        raise ConfigError(
            f"invalid admin delay {seconds!r}: expected 0..{MAX_ADMIN_DELAY} seconds "
            f"(default {DEFAULT_ADMIN_DELAY}, two days)"
        )
    return seconds


def deploy(
    chain: Chain,
    account: LocalAccount,
    *,
    admin_delay: int = DEFAULT_ADMIN_DELAY,
    force: bool = False,
    save: bool | None = None,
    root: Path | None = None,
    artifacts_dir: Path = ARTIFACTS_DIR,
    progress: Progress | None = None,
) -> Deployment:
    """Deploy the libraries and the registry (which creates SupplyAgreements), and record it.

    `account` becomes the operator (DEFAULT_ADMIN_ROLE); handing that role over later takes two
    steps `admin_delay` seconds apart. Refuses to replace a live deployment of the same chain
    (or a record of an older contract version) unless `force` is given. `save` defaults to True
    except on the embedded chain, which does not outlive the process.
    """
    note = progress or (lambda _message: None)
    delay = validate_admin_delay(admin_delay)
    save = chain.rpc != EMBEDDED if save is None else save
    if save and not force:
        _refuse_to_replace(chain, root)
    registry_art = load_artifact(REGISTRY, artifacts_dir)

    libraries: dict[str, str] = {}
    tx_hashes: dict[str, str] = {}
    for name in LIBRARIES:
        note(f"deploying library {name} from {account.address}")
        library = load_artifact(name, artifacts_dir)
        libraries[name], tx_hashes[name], _ = _deploy_contract(chain, account, library, {})
    note(f"deploying {REGISTRY} (operator {account.address}, hand-over delay {delay} s)")
    registry_address, tx_hashes["registry"], receipt = _deploy_contract(
        chain, account, registry_art, libraries, delay, account.address
    )
    registry = chain.w3.eth.contract(
        address=Web3.to_checksum_address(registry_address), abi=registry_art.abi
    )
    agreements = Web3.to_checksum_address(registry.functions.settlement().call())
    note(f"{AGREEMENTS} created by the registry at {agreements}")

    deployment = Deployment(
        chain_id=chain.chain_id,
        registry=registry_address,
        agreements=str(agreements),
        deploy_block=int(receipt["blockNumber"]),
        deployer=account.address,
        artifact_hash=artifacts_hash(artifacts_dir),
        libraries=libraries,
        admin_delay=delay,
        tx_hashes=tx_hashes,
        deployed_at=time.time(),
        rpc=chain.rpc,
    )
    if save:
        write_json_atomic(record_path(chain.chain_id, root), deployment.to_json())
    return deployment


def _refuse_to_replace(chain: Chain, root: Path | None) -> None:
    version = _record_version(chain.chain_id, root)
    if version is not None and version != RECORD_VERSION:
        raise ConfigError(
            f"the deployment recorded for chain id {chain.chain_id} is of version {version} of "
            "the contracts, which this toolkit no longer drives (there is no migration: those "
            "deployments hold nothing of value): pass --force to deploy the new contracts and "
            "replace the record"
        )
    existing = read_record(chain.chain_id, root)
    if existing and has_code(chain, existing.registry):
        raise ConfigError(
            f"contracts are already deployed on chain id {chain.chain_id} (registry "
            f"{existing.registry}): pass --force to deploy a new set and replace the record"
        )


def _deploy_contract(
    chain: Chain,
    account: LocalAccount,
    artifact: Artifact,
    libraries: dict[str, str],
    *args: Any,
) -> tuple[str, str, Any]:
    bytecode = artifact.linked_bytecode(libraries) if artifact.libraries else artifact.bytecode
    factory = chain.w3.eth.contract(abi=artifact.abi, bytecode=bytecode)
    tx_hash, receipt = _send_built(chain, account, factory.constructor(*args), artifact.name)
    return Web3.to_checksum_address(receipt["contractAddress"]), tx_hash, receipt


def _send_built(chain: Chain, account: LocalAccount, call: Any, what: str) -> tuple[str, Any]:
    tx = call.build_transaction(
        {"from": account.address, "nonce": chain.w3.eth.get_transaction_count(account.address)}
    )
    signed = account.sign_transaction(tx)
    tx_hash = chain.w3.eth.send_raw_transaction(signed.raw_transaction)
    receipt = chain.wait_for_receipt(tx_hash)
    text = "0x" + bytes(tx_hash).hex().removeprefix("0x")
    if receipt["status"] != 1:
        raise TransactionError(f"deployment of {what}: transaction {text} reverted", text)
    return text, receipt
