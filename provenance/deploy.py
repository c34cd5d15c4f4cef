"""Deploy the contracts, and keep a record the CLI finds next time.

A deployment is three transactions, sent through the same `Transactor` as every other write
(pre-flight, journal, decoded failures): the two libraries the registry is linked against
(`Membership`, `Derivations`), then `ProvenanceRegistry(initialAdminDelay, admin)` with their
addresses linked into its creation code. The registry's constructor creates the settlement
contract (`SupplyAgreements`), read back with `registry.settlement()`: there is no role to grant,
and no operator action can change which contract settles.

A deployment record is written per chain *identity* (chain id and genesis hash) to
`<data dir>/deployments/<chainId>-<genesis 8 bytes>.json`: contract and library addresses, the
operator hand-over delay, deploy block, transaction hashes and the hash of the artifact set that
was deployed. Later commands read it, so they need no address flags, and a chain started afresh
with the same id never picks up the old chain's record. A record written before identities
existed (`<chainId>.json`) is adopted once the contracts it names are found on the connected
chain. A record written for the contracts before version 2 (issue 9) is refused with a message
that says to redeploy: nothing of value was held by those deployments, so there is no migration.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from eth_account.signers.local import LocalAccount
from web3 import Web3

from provenance.chain import EMBEDDED, Chain, ChainIdentity
from provenance.compiler import ARTIFACTS_DIR, Artifact, artifacts_hash, load_artifact
from provenance.config import data_dir, write_json_atomic
from provenance.encoding import Address
from provenance.exceptions import ConfigError, NotFoundError, StateConflict
from provenance.reverts import explain
from provenance.times import Duration
from provenance.transactions import Transactor

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
    #: The genesis hash of the chain it was deployed on ("" in a record written before chain
    #: identities existed).
    genesis_hash: str = ""

    @property
    def identity(self) -> ChainIdentity | None:
        return ChainIdentity(self.chain_id, self.genesis_hash) if self.genesis_hash else None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Any) -> Deployment:
        """Parse a record; `ConfigError` for a record of an older contract version, `ValueError`
        for a malformed one."""
        if not isinstance(data, dict):
            raise ValueError(f"expected a JSON object, found {type(data).__name__}")
        version = int(data.get("version", 1))
        if version != RECORD_VERSION:
            raise ConfigError(
                f"it was written for version {version} of the contracts (this toolkit drives "
                f"version {RECORD_VERSION}: linked libraries, agreements settled on acceptance); "
                "old deployments are not migrated (they hold nothing of value): deploy the new "
                "contracts with `provenance deploy --force`"
            )
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown field(s) {', '.join(unknown)}")
        record = cls(**data)
        addresses = (
            record.registry,
            record.agreements,
            record.deployer,
            *record.libraries.values(),
        )
        for address in addresses:
            Address(address, "recorded address", allow_zero=True)
        if not isinstance(record.chain_id, int) or not isinstance(record.deploy_block, int):
            raise ValueError("chain_id and deploy_block must be numbers")
        if record.genesis_hash:
            ChainIdentity(record.chain_id, record.genesis_hash.lower())
        return record


def record_path(identity: ChainIdentity, root: Path | None = None) -> Path:
    return (root or data_dir()) / "deployments" / f"{identity.key}.json"


def _legacy_path(chain_id: int, root: Path | None) -> Path:
    return (root or data_dir()) / "deployments" / f"{chain_id}.json"


def _read(path: Path) -> Deployment | None:
    if not path.exists():
        return None
    try:
        return Deployment.from_json(json.loads(path.read_text(encoding="utf-8")))
    except ConfigError as exc:
        raise ConfigError(f"deployment record {path} is outdated: {exc}") from exc
    except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
        raise ConfigError(
            f"deployment record {path} is malformed ({exc}): move it away and deploy again "
            "with `provenance deploy --force`"
        ) from exc


def read_record(identity: ChainIdentity, root: Path | None = None) -> Deployment | None:
    """The record for this chain identity, if any."""
    return _read(record_path(identity, root))


def records(root: Path | None = None) -> list[tuple[Path, Deployment | None]]:
    """Every deployment record file, parsed (None for an unreadable one)."""
    found: list[tuple[Path, Deployment | None]] = []
    for path in sorted((root or data_dir()).glob("deployments/*.json")):
        try:
            found.append((path, _read(path)))
        except ConfigError:
            found.append((path, None))
    return found


def find_record_for_rpc(rpc: str, root: Path | None = None) -> Deployment | None:
    """The newest identity-bound deployment record made through the endpoint `rpc` (so the
    chain's identity is known even while that endpoint is down), or None."""
    wanted = rpc.rstrip("/")
    matching = [
        record
        for _path, record in records(root)
        if record is not None and record.identity is not None and record.rpc.rstrip("/") == wanted
    ]
    return max(matching, key=lambda r: r.deployed_at) if matching else None


def load_deployment(chain: Chain, root: Path | None = None) -> Deployment:
    """The deployment recorded for `chain`'s identity, after checking that its contracts are
    really there. A record from before chain identities is adopted if its contracts are."""
    record = read_record(chain.identity, root)
    if record is None:
        record = _adopt_legacy(chain, root)
    if record is None:
        others = [r for _p, r in records(root) if r is not None and r.chain_id == chain.chain_id]
        ids = sorted({p.stem for p, _r in records(root)})
        if others:
            hint = (
                f" (a record exists for another chain with id {chain.chain_id} — a node started "
                "afresh? — whose contracts are not on this one)"
            )
        elif ids:
            hint = f" (records exist for {', '.join(ids)}: wrong --rpc?)"
        else:
            hint = ""
        raise NotFoundError(
            f"no deployment recorded for {chain.identity.describe()}{hint}: run "
            "`provenance deploy` first"
        )
    _check_code(chain, record)
    return record


def _check_code(chain: Chain, record: Deployment) -> None:
    contracts = [(REGISTRY, record.registry), (AGREEMENTS, record.agreements)]
    contracts += sorted(record.libraries.items())
    for name, address in contracts:
        if not chain.has_code(address):
            raise ConfigError(
                f"no contract code at the recorded {name} address {address} on "
                f"{chain.identity.describe()} (was the node reset?): redeploy with "
                "`provenance deploy --force`"
            )


def _adopt_legacy(chain: Chain, root: Path | None) -> Deployment | None:
    path = _legacy_path(chain.chain_id, root)
    legacy = _read(path)
    if legacy is None:
        return None
    _check_code(chain, legacy)
    adopted = Deployment(**{**legacy.to_json(), "genesis_hash": chain.identity.genesis_hash})
    write_json_atomic(record_path(chain.identity, root), adopted.to_json())
    path.unlink(missing_ok=True)
    return adopted


def validate_admin_delay(seconds: int) -> int:
    """The operator hand-over delay, checked against the registry's `uint48`."""
    return int(Duration(seconds, "admin delay", max_seconds=MAX_ADMIN_DELAY))


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
    transactor: Transactor | None = None,
) -> Deployment:
    """Deploy the libraries and the registry (which creates SupplyAgreements), and record it.

    `account` becomes the operator (DEFAULT_ADMIN_ROLE); handing that role over later takes two
    steps `admin_delay` seconds apart. Refuses to replace a live deployment of the same chain
    (or a record of an older contract version) unless `force` is given. `save` defaults to True
    except on the embedded chain, which does not outlive the process. `transactor` (of
    `account` on `chain`) sends the three transactions; by default one without an outbox.
    """
    note = progress or (lambda _message: None)
    delay = validate_admin_delay(admin_delay)
    save = chain.rpc != EMBEDDED if save is None else save
    if save and not force:
        _refuse_to_replace(chain, root)
    tx = transactor or Transactor(chain, account, root=root)
    if tx.address != account.address:
        raise ConfigError(f"the transactor signs as {tx.address}, not {account.address}")
    registry_art = load_artifact(REGISTRY, artifacts_dir)

    libraries: dict[str, str] = {}
    tx_hashes: dict[str, str] = {}
    for name in LIBRARIES:
        note(f"deploying library {name} from {account.address}")
        library = load_artifact(name, artifacts_dir)
        libraries[name], tx_hashes[name], _ = _deploy_contract(chain, tx, library, {})
    note(f"deploying {REGISTRY} (operator {account.address}, hand-over delay {delay} s)")
    registry_address, tx_hashes["registry"], block = _deploy_contract(
        chain, tx, registry_art, libraries, delay, account.address
    )
    registry = chain.w3.eth.contract(
        address=Web3.to_checksum_address(registry_address), abi=registry_art.abi
    )
    agreements = Web3.to_checksum_address(registry.functions.settlement().call())
    note(f"{AGREEMENTS} created by the registry at {agreements}")

    deployment = Deployment(
        chain_id=chain.chain_id,
        genesis_hash=chain.identity.genesis_hash,
        registry=registry_address,
        agreements=str(agreements),
        deploy_block=block,
        deployer=account.address,
        artifact_hash=artifacts_hash(artifacts_dir),
        libraries=libraries,
        admin_delay=delay,
        tx_hashes=tx_hashes,
        deployed_at=time.time(),
        rpc=chain.rpc,
    )
    if save:
        write_json_atomic(record_path(chain.identity, root), deployment.to_json())
        _legacy_path(chain.chain_id, root).unlink(missing_ok=True)
    return deployment


def _refuse_to_replace(chain: Chain, root: Path | None) -> None:
    for path in (record_path(chain.identity, root), _legacy_path(chain.chain_id, root)):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            version = int(data.get("version", 1)) if isinstance(data, dict) else None
        except (OSError, ValueError, TypeError):
            continue
        if version is not None and version != RECORD_VERSION:
            raise StateConflict(
                f"the deployment recorded for chain id {chain.chain_id} is of version {version} "
                "of the contracts, which this toolkit no longer drives (there is no migration: "
                "those deployments hold nothing of value): pass --force to deploy the new "
                "contracts and replace the record"
            )
    existing = read_record(chain.identity, root)
    if existing and chain.has_code(existing.registry):
        raise StateConflict(
            f"contracts are already deployed on {chain.identity.describe()} (registry "
            f"{existing.registry}): pass --force to deploy a new set and replace the record"
        )


def _deploy_contract(
    chain: Chain,
    tx: Transactor,
    artifact: Artifact,
    libraries: dict[str, str],
    *args: Any,
) -> tuple[str, str, int]:
    bytecode = artifact.linked_bytecode(libraries) if artifact.libraries else artifact.bytecode
    factory = chain.w3.eth.contract(abi=artifact.abi, bytecode=bytecode)
    try:
        constructor = factory.constructor(*args)
    except Exception as exc:
        raise explain(exc, chain, f"encoding the constructor of {artifact.name}") from exc
    result = tx.create(constructor, description=f"deploy {artifact.name}")
    if not result.contract_address:  # pragma: no cover - a successful creation has an address
        raise ConfigError(f"deploying {artifact.name}: the receipt names no contract address")
    assert result.block_number is not None
    return Web3.to_checksum_address(result.contract_address), result.tx_hash, result.block_number
