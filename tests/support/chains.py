"""A deploy + handoff round trip that every supported chain must run identically."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_account.signers.local import LocalAccount
from web3 import Web3

from provenance.chain import Chain, dev_accounts
from provenance.compiler import load_artifact
from provenance.deploy import Deployment, deploy

PRODUCER, CARRIER = 1, 4
GTIN = 9521234543213  # valid GS1 check digit
PREFIX, PREFIX_LENGTH = 9521234, 7  # the farm's company prefix, covering GTIN
LOT = b"LOT-2026-001".ljust(32, b"\0")


@dataclass(frozen=True)
class RoundTrip:
    deployment: Deployment
    batch_id: bytes
    farm: str
    carrier: str


def send(chain: Chain, account: LocalAccount, call: Any) -> Any:
    tx = call.build_transaction(
        {"from": account.address, "nonce": chain.w3.eth.get_transaction_count(account.address)}
    )
    receipt = chain.wait_for_receipt(
        chain.w3.eth.send_raw_transaction(account.sign_transaction(tx).raw_transaction)
    )
    assert receipt["status"] == 1
    return receipt


def registry(chain: Chain, deployment: Deployment) -> Any:
    abi = load_artifact("ProvenanceRegistry").abi
    return chain.w3.eth.contract(address=deployment.registry, abi=abi)


def deploy_and_hand_off(chain: Chain, **deploy_kwargs: Any) -> RoundTrip:
    """Deploy (libraries, then the linked registry), register a farm and a carrier, assign the
    farm's company prefix, create a batch and hand it to the carrier."""
    operator, farm, carrier = dev_accounts(3)
    deployment = deploy(chain, operator, **deploy_kwargs)
    contract = registry(chain, deployment)
    f = contract.functions
    send(chain, operator, f.registerParticipant(farm.address, PRODUCER, 0, b"\1" * 32))
    send(chain, operator, f.registerParticipant(carrier.address, CARRIER, 0, b"\2" * 32))
    send(chain, operator, f.assignPrefix(farm.address, PREFIX, PREFIX_LENGTH))
    send(chain, farm, f.createBatch(GTIN, LOT, 1000, b"KGM", b"\3" * 32))
    batch_id = f.batchIdOf(GTIN, LOT).call()
    handoff = (batch_id, farm.address, carrier.address, 0, 1, 1, False, b"\4" * 32)
    send(chain, farm, f.initiateHandoff(handoff))
    send(chain, carrier, f.acceptHandoff(batch_id, b"\5" * 32))
    return RoundTrip(deployment, batch_id, farm.address, carrier.address)


def read_back(chain: Chain, trip: RoundTrip) -> dict[str, Any]:
    """What the chain says about the round trip's batch, in a comparable form."""
    contract = registry(chain, trip.deployment)
    info = contract.functions.getBatch(trip.batch_id).call()
    (custodian, owner, pending, origin, bound, state, recalled, lineage_recalled, _tender,
     _title, gtin, quantity, uom, _number, ancestors) = info  # fmt: skip
    holder, prefix, length = contract.functions.prefixOf(GTIN).call()
    return {
        "custodian": Web3.to_checksum_address(custodian),
        "owner": Web3.to_checksum_address(owner),
        "pending": int(pending, 16),
        "origin": Web3.to_checksum_address(origin),
        "bound": int(bound, 16),
        "state": state,
        "recalled": recalled or lineage_recalled,
        "gtin": gtin,
        "quantity": quantity,
        "uom": uom,
        "ancestors": ancestors,
        "prefix": (Web3.to_checksum_address(holder), prefix, length),
        "settlement": contract.functions.settlement().call() == trip.deployment.agreements,
    }


def expected(trip: RoundTrip) -> dict[str, Any]:
    return {
        "custodian": trip.carrier,
        "owner": trip.farm,
        "pending": 0,
        "origin": trip.farm,
        "bound": 0,
        "state": 1,
        "recalled": False,
        "gtin": GTIN,
        "quantity": 1000,
        "uom": b"KGM",
        "ancestors": 0,
        "prefix": (trip.farm, PREFIX, PREFIX_LENGTH),
        "settlement": True,
    }
