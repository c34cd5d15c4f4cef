"""The ONE place where revert data becomes a Python exception, and where any failed call is
explained (`explain`: a decoded revert, else `provenance.chain.rpc_failure`).

Every custom error of both contracts (and the OpenZeppelin errors they can bubble up) has an entry
in `MESSAGES`: which `ContractRevert` subclass it raises and a message template over the error's
ABI argument names. The selector → error table is built from the ABI "error" entries of the
compiled artifacts, so decoding follows the contracts; `tests/test_reverts.py` fails when an error
in an interface has no message here.

Use `decode_revert(data)` for raw revert bytes, `from_web3_error(exc)` for whatever web3 raised,
and `explain(exc, chain, action)` to turn any failure of a call or transaction into one library
error. It sits with the transport: the transactor decodes a revert before anything is signed.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from eth_abi.abi import decode as abi_decode
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from provenance.chain import Chain, rpc_failure
from provenance.encoding import bytes32_to_text, short_hex
from provenance.exceptions import (
    CompilerError,
    ContractRevert,
    ProvenanceError,
    RevertedInvalid,
    RevertedNotFound,
    RevertedPermission,
    RevertedState,
)
from provenance.records import AgreementStatus, Role
from provenance.times import format_time
from provenance.units import uom_from_bytes

CONTRACTS = ("ProvenanceRegistry", "SupplyAgreements")

_N, _P, _I, _S = RevertedNotFound, RevertedPermission, RevertedInvalid, RevertedState
_REGISTER = "ask the operator to register it (`provenance participant register`)"

#: error name → (exception class, message template over the ABI argument names).
MESSAGES: dict[str, tuple[type[ContractRevert], str]] = {
    # --- ProvenanceRegistry: participants
    "RegistryZeroAddress": (_I, "the zero address cannot be a participant or recipient"),
    "RegistryParticipantExists": (
        _S,
        "{account} is already registered: use `provenance participant update` to change it",
    ),
    "RegistryUnknownParticipant": (_N, f"{{account}} is not a registered participant: {_REGISTER}"),
    "RegistryParticipantInactive": (
        _P,
        "participant {account} is suspended: ask the operator to reinstate it",
    ),
    "RegistryParticipantActive": (_S, "participant {account} is already active (not suspended)"),
    "RegistryParticipantLimit": (
        _S,
        "the registry holds the most participants its ids can number (16,777,215)",
    ),
    "RegistryInvalidRoles": (
        _I,
        "invalid roles mask {roles}: combine producer, processor, carrier, distributor, "
        "retailer, certifier",
    ),
    "RegistryInvalidGln": (_I, "invalid GLN {gln}: a GLN has 13 digits"),
    "RegistryMissingRole": (
        _P,
        "{account} lacks the role {roles}: ask the operator to add it "
        "(`provenance participant update`)",
    ),
    # --- company prefixes
    "RegistryInvalidPrefix": (
        _I,
        "invalid company prefix {prefix} ({length} digits): 4-12 digits, not restricted-"
        "circulation or coupon space (02, 04, 05, 20-29, 98, 99); the GTIN-8 space only as "
        "00000 + the first 7 digits of one GTIN-8",
    ),
    "RegistryPrefixOverlap": (
        _S,
        "company prefix {prefix} ({length} digits) overlaps an assigned one (it, a prefix of it "
        "or an extension of it is taken): see `provenance participant prefix list`",
    ),
    "RegistryPrefixNotAssigned": (
        _N,
        "company prefix {prefix} ({length} digits) is not assigned: see "
        "`provenance participant prefix list`",
    ),
    "RegistryNotPrefixHolder": (
        _P,
        "{account} does not hold the GS1 company prefix of GTIN {gtin}: only the prefix's "
        "holder commissions it (ask the operator: `provenance participant prefix assign`)",
    ),
    # --- batches
    "RegistryInvalidGtin": (_I, "invalid GTIN {gtin}: 14 digits with a valid GS1 check digit"),
    "RegistryInvalidLot": (
        _I,
        "invalid lot {lot}: 1–20 left-aligned characters of the GS1 AI character set 82",
    ),
    "RegistryLotNotExtended": (
        _I,
        "lot {lot} does not extend {parentLot}: the lots a split or merge creates start with "
        "the (first) parent's lot and are longer",
    ),
    "RegistryLotMismatch": (
        _I,
        "{lot} is not the lot of batch {batchId}: give the batch's own lot",
    ),
    "RegistryZeroQuantity": (_I, "quantity must be greater than zero"),
    "RegistryInvalidUom": (_I, "invalid unit of measure {uom}: use a code such as KGM or H87"),
    "RegistryBatchExists": (
        _S,
        "batch {batchId} already exists: use another lot for a new batch",
    ),
    "RegistryUnknownBatch": (
        _N,
        "unknown batch {batchId}: create it first with `provenance batch create`",
    ),
    "RegistryBatchNotActive": (
        _S,
        "batch {batchId} is {state}: it was split, merged or transformed; act on its children",
    ),
    "RegistryBatchRecalled": (_S, "batch {batchId} was recalled: it can no longer move or change"),
    "RegistryBatchNotRecalled": (_S, "batch {batchId} is not recalled: there is nothing to lift"),
    "RegistryAncestorRecalled": (
        _S,
        "batch {batchId} comes from a recalled batch (lineage number {lineageNumber}): it can "
        "no longer move or change",
    ),
    "RegistryLineageTooLarge": (
        _I,
        "the result would carry more than {max} ancestors: the registry bounds the lineage a "
        "recall has to reach; combine fewer batches",
    ),
    "RegistryNotCustodian": (
        _P,
        "{caller} is not the custodian of batch {batchId}: only the current holder can do this",
    ),
    "RegistryNotOwner": (
        _P,
        "{account} is not the owner of batch {batchId}: only the owner can transfer ownership "
        "or tender it",
    ),
    "RegistryCallerNotSender": (
        _P,
        "{caller} cannot initiate a handoff from {from}: send it from that account",
    ),
    "RegistryHandoffPending": (
        _S,
        "batch {batchId} already has a handoff pending to {pendingTo}: wait for it to be "
        "accepted or rejected, or cancel it with `provenance handoff cancel`",
    ),
    "RegistryNoPendingHandoff": (_S, "batch {batchId} has no pending handoff"),
    "RegistryNotRecipient": (
        _P,
        "{caller} is not the recipient of the pending handoff of batch {batchId}",
    ),
    "RegistrySelfHandoff": (_I, "cannot hand batch {batchId} off from {account} to itself"),
    "RegistryBoundDelivery": (
        _S,
        "batch {batchId} is a delivery bound to an agreement with buyer {buyer}: it moves only "
        "to carriers or to the buyer, without title, cannot be split, merged or transformed, "
        "and the buyer accepts it with `provenance handoff accept` (settling the agreement)",
    ),
    "RegistryNotBound": (_S, "batch {batchId} is not a delivery bound to buyer {buyer}"),
    "RegistryTenderPending": (
        _S,
        "the pending handoff of batch {batchId} is a tender: the supplier withdraws it with "
        "`provenance agreement withdraw-tender`, the buyer rejects it with `provenance handoff "
        "reject`",
    ),
    "RegistryNotSettlement": (
        _P,
        "{caller} is not the settlement contract: bound deliveries go through the agreements "
        "contract",
    ),
    # --- signatures
    "RegistrySignatureExpired": (
        _I,
        "the signature of {signer} expired at {deadline}: ask for a new signed handoff",
    ),
    "RegistryInvalidNonce": (
        _S,
        "the signature of {signer} uses nonce {given} but the current nonce is {expected}: "
        "it was already used or is stale; sign again",
    ),
    "RegistryInvalidSignature": (
        _I,
        "invalid signature for {signer}: not signed by that account for this handoff, chain and "
        "registry (or malleable, or refused by its EIP-1271 wallet)",
    ),
    # --- lineage
    "RegistryInvalidInputCount": (
        _I,
        "wrong number of inputs ({count}): give at least the minimum",
    ),
    "RegistryQuantityMismatch": (
        _I,
        "quantities do not add up ({expected} and {actual}): a split's parts plus its loss must "
        "equal the parent's quantity; a merge's loss must be less than its inputs' total",
    ),
    "RegistryIncompatibleBatches": (
        _I,
        "batches {first} and {other} differ in GTIN, unit of measure, owner or origin: they "
        "cannot be combined",
    ),
    # --- attestations
    "RegistryInvalidValidity": (
        _I,
        "invalid validity: valid-until {validUntil} is before valid-from {validFrom}",
    ),
    "RegistryAttestationExists": (
        _S,
        "attestation {attestationId} already exists: use other evidence for a new one",
    ),
    "RegistryUnknownAttestation": (
        _N,
        "unknown attestation {attestationId}: check the subject, claim, issuer and evidence",
    ),
    "RegistryNotIssuer": (
        _P,
        "{caller} did not issue attestation {attestationId}: only its issuer can revoke it",
    ),
    "RegistryAttestationRevoked": (_S, "attestation {attestationId} is already revoked"),
    "RegistryNotRecaller": (
        _P,
        "{caller} cannot recall batch {batchId}: only its origin (its producer, or the "
        "transformer of a product), while active, or the operator can",
    ),
    # --- SupplyAgreements
    "AgreementsUnknown": (
        _N,
        "unknown agreement {id}: check the id with `provenance agreement list`",
    ),
    "AgreementsTermsMismatch": (
        _I,
        "the terms given for agreement {id} do not match the stored ones (hash {given} ≠ {stored})",
    ),
    "AgreementsInvalidParties": (
        _I,
        "invalid parties: buyer {buyer}, supplier {supplier} and arbiter {arbiter} must be "
        "non-zero and distinct, and the carrier {carrier} neither buyer nor supplier",
    ),
    "AgreementsInvalidAmounts": (
        _I,
        "invalid amounts: price {price} and quantity {quantity} must be greater than zero "
        "(quantity below 2^48, escrow within 256 bits)",
    ),
    "AgreementsInvalidBps": (
        _I,
        "invalid basis points: penalty cap {penaltyCapBps} and tolerance {toleranceBps} must be "
        "at most 10000",
    ),
    "AgreementsDeadlineInPast": (
        _I,
        "the delivery deadline {deliveryDeadline} is not in the future (now {now_})",
    ),
    "AgreementsInvalidPeriods": (
        _I,
        "the inspection period ({inspectionPeriod} s) and the arbiter timeout "
        "({arbiterTimeout} s) must be greater than zero",
    ),
    "AgreementsTooManyClaims": (_I, "too many required claims: {count}, at most {max}"),
    "AgreementsInvalidAttester": (
        _I,
        "invalid attester {attester} for claim {claim}: name a certifier that is neither the "
        "buyer nor the supplier",
    ),
    "AgreementsNotParty": (_P, "{caller} is neither buyer nor supplier of agreement {id}"),
    "AgreementsNotCounterparty": (
        _P,
        "{caller} cannot accept agreement {id}: only the party that did not propose it can",
    ),
    "AgreementsNotBuyer": (_P, "{caller} is not the buyer of agreement {id}"),
    "AgreementsNotSupplier": (_P, "{caller} is not the supplier of agreement {id}"),
    "AgreementsNotArbiter": (_P, "{caller} is not the arbiter of agreement {id}"),
    "AgreementsWrongStatus": (_S, "agreement {id} is {status}: this is not allowed in that status"),
    "AgreementsWrongValue": (
        _I,
        "wrong payment for agreement {id}: expected {expected} wei, sent {sent}",
    ),
    "AgreementsTransferMismatch": (
        _I,
        "token {token} transferred {received} instead of {expected} (fee-on-transfer tokens are "
        "not supported)",
    ),
    "AgreementsFundingClosed": (
        _S,
        "agreement {id} can no longer be funded: its delivery deadline {deliveryDeadline} has "
        "passed (now {now_})",
    ),
    "AgreementsTenderClosed": (
        _S,
        "agreement {id} no longer accepts a tender: deadline + grace ended at {closedAt} "
        "(now {now_})",
    ),
    "AgreementsGtinMismatch": (
        _I,
        "batch {batchId} has GTIN {actual}, the agreement requires {expected}",
    ),
    "AgreementsUomMismatch": (
        _I,
        "batch {batchId} is measured in {actual}, the agreement requires {expected}",
    ),
    "AgreementsQuantityOutOfTolerance": (
        _I,
        "batch {batchId} holds {delivered}, outside the agreed {agreed} ± the tolerance",
    ),
    "AgreementsClaimCount": (
        _I,
        "the agreement requires {required} claim(s), {given} proof(s) given: pass one per "
        "required claim",
    ),
    "AgreementsClaimInvalid": (
        _I,
        "claim {claim} of batch {batchId} is not vouched for by {attester} (an attestation "
        "valid now on {subject}, by that certifier, still active)",
    ),
    "AgreementsNotTenderedBatch": (
        _I,
        "batch {batchId} is not the batch tendered under agreement {id}",
    ),
    "AgreementsInspectionPending": (
        _S,
        "the buyer of agreement {id} may still inspect the tender until {escalableAfter} "
        "(now {now_}): escalate after that",
    ),
    "AgreementsNotRefundableYet": (
        _S,
        "agreement {id} cannot be reclaimed before {refundableAfter} (now {now_})",
    ),
    "AgreementsArbiterTimeoutPending": (
        _S,
        "the arbiter of agreement {id} still has time until {defaultAfter} (now {now_})",
    ),
    "AgreementsAwardTooHigh": (
        _I,
        "award {supplierAmount} to the supplier of agreement {id} exceeds the escrow {escrow}",
    ),
    "AgreementsNothingToDeliver": (
        _I,
        "agreement {id} was disputed by a rejection: the goods went back to the supplier, so "
        "the arbiter cannot order their delivery (resolve without --deliver)",
    ),
    "AgreementsTenderInTransit": (
        _S,
        "the tender of batch {batchId} under agreement {id} was already accepted by the tender "
        "point: it can no longer be withdrawn",
    ),
    "AgreementsGoodsRecalled": (
        _S,
        "batch {batchId} of agreement {id} is recalled: no payment by default; the buyer may "
        "reject it (`provenance handoff reject`) or the arbiter decides",
    ),
    "AgreementsNothingToWithdraw": (_S, "{account} has no credit in {token} to withdraw"),
    "AgreementsEthTransferFailed": (
        _S,
        "sending {amount} wei to {account} failed; the credit is kept (can it receive ETH?)",
    ),
    "AgreementsSignatureExpired": (
        _I,
        "the signature of {signer} expired at {deadline}: sign the agreement again",
    ),
    "AgreementsInvalidNonce": (
        _S,
        "the signature of {signer} uses nonce {given} but the current nonce is {expected}: "
        "sign again",
    ),
    "AgreementsInvalidSignature": (
        _I,
        "invalid signature of {signer}: not its approval of these terms (ECDSA or EIP-1271)",
    ),
    # --- OpenZeppelin errors that can surface through these contracts
    "AccessControlUnauthorizedAccount": (
        _P,
        "{account} lacks the role {neededRole}: only the operator (deployer) can do this",
    ),
    "AccessControlBadConfirmation": (_I, "bad confirmation for renouncing a role"),
    "AccessControlEnforcedDefaultAdminRules": (
        _P,
        "the operator role moves only in two steps: begin the transfer, then the new operator "
        "accepts it after the delay",
    ),
    "AccessControlEnforcedDefaultAdminDelay": (
        _S,
        "the operator hand-over delay has not passed yet (it ends at {schedule})",
    ),
    "AccessControlInvalidDefaultAdmin": (_I, "{defaultAdmin} cannot become the operator"),
    "ReentrancyGuardReentrantCall": (_S, "reentrant call refused"),
    "SafeERC20FailedOperation": (_S, "the token {token} refused the transfer"),
    "ERC20InsufficientAllowance": (
        _I,
        "token allowance of {spender} is {allowance}, {needed} needed: approve first",
    ),
    "ERC20InsufficientBalance": (_I, "{sender} holds {balance} tokens, {needed} needed"),
    "ECDSAInvalidSignature": (_I, "invalid signature"),
    "ECDSAInvalidSignatureLength": (_I, "invalid signature length {length}: expected 65 bytes"),
    "ECDSAInvalidSignatureS": (_I, "malleable signature (high s) refused"),
    "InvalidAccountNonce": (_S, "invalid nonce for {account}: current nonce is {currentNonce}"),
    "FailedCall": (_S, "a call from the contract failed"),
    "InsufficientBalance": (_S, "insufficient balance {balance}, {needed} needed"),
    "AddressEmptyCode": (_I, "no contract at {target}"),
    "InvalidShortString": (_I, "invalid short string"),
    "StringTooLong": (_I, "string too long: {str}"),
    "SafeCastOverflowedUintDowncast": (_I, "value {value} does not fit in uint{bits}"),
}

ERROR_STRING_SELECTOR = "0x08c379a0"  # Error(string)
PANIC_SELECTOR = "0x4e487b71"  # Panic(uint256)
PANIC_CODES = {
    0x01: "assertion failed",
    0x11: "arithmetic overflow or underflow",
    0x12: "division by zero",
    0x21: "invalid enum value",
    0x31: "pop on an empty array",
    0x32: "array index out of bounds",
    0x41: "out of memory",
    0x51: "call to an invalid internal function",
}


@dataclass(frozen=True)
class ErrorSpec:
    """One custom error: how to decode it and what to raise."""

    selector: str
    name: str
    input_names: tuple[str, ...]
    input_types: tuple[str, ...]
    exception: type[ContractRevert]
    template: str


def _abi_type(entry: dict[str, Any]) -> str:
    kind = str(entry["type"])
    if kind.startswith("tuple"):
        inner = ",".join(_abi_type(c) for c in entry.get("components", []))
        return f"({inner}){kind[5:]}"
    return kind


def error_signature(entry: dict[str, Any]) -> str:
    return f"{entry['name']}({','.join(_abi_type(i) for i in entry.get('inputs', []))})"


def error_selector(entry: dict[str, Any]) -> str:
    return "0x" + keccak(text=error_signature(entry))[:4].hex()


def build_table(abis: Iterable[list[dict[str, Any]]]) -> dict[str, ErrorSpec]:
    """selector → ErrorSpec for every "error" entry of the given ABIs.

    Errors without a `MESSAGES` entry still decode, as a plain `ContractRevert`.
    """
    table: dict[str, ErrorSpec] = {}
    for abi in abis:
        for entry in abi:
            if entry.get("type") != "error":
                continue
            name = str(entry["name"])
            exception, template = MESSAGES.get(name, (ContractRevert, ""))
            selector = error_selector(entry)
            table[selector] = ErrorSpec(
                selector=selector,
                name=name,
                input_names=tuple(
                    str(i.get("name") or f"arg{n}") for n, i in enumerate(entry.get("inputs", []))
                ),
                input_types=tuple(_abi_type(i) for i in entry.get("inputs", [])),
                exception=exception,
                template=template,
            )
    return table


@lru_cache(maxsize=1)
def default_table() -> dict[str, ErrorSpec]:
    """The table from the packaged artifacts of both contracts (empty if none are built)."""
    from provenance.compiler import load_artifact

    abis = []
    for name in CONTRACTS:
        try:
            abis.append(load_artifact(name).abi)
        except CompilerError:
            continue
    return build_table(abis)


# ------------------------------------------------------------------------------ formatting


def moment(value: int) -> str:
    """How messages show a unix time: `1767225600 (2026-01-01 00:00:00Z)`; any integer works."""
    if value <= 0:
        return str(value)
    return f"{value} ({format_time(value)})"


_TIME_NAMES = {
    "deadline",
    "now_",
    "deliveryDeadline",
    "refundableAfter",
    "closedAt",
    "defaultAfter",
    "escalableAfter",
    "validFrom",
    "validUntil",
    "schedule",
}


def format_arg(name: str, abi_type: str, value: Any) -> str:
    """Human form of one error argument (addresses checksummed, ids shortened)."""
    if abi_type == "address":
        return str(to_checksum_address(value))
    if abi_type == "bytes32":
        raw = bytes(value)
        if name in ("claim", "reason", "lot", "parentLot", "neededRole"):
            return bytes32_to_text(raw) if name != "neededRole" else _role_name(raw)
        return short_hex(raw)
    if abi_type == "bytes3":
        return uom_from_bytes(bytes(value)) or "(empty)"
    if abi_type.startswith("uint") and isinstance(value, int):
        if name == "roles":
            names = Role(value & 63).names()
            return "|".join(names) if names and value < 64 else str(value)
        if name == "status":
            try:
                return AgreementStatus(value).name.lower()
            except ValueError:
                return str(value)
        if name == "state":
            return {0: "unknown", 1: "active", 2: "consumed"}.get(value, str(value))
        if name == "gtin":
            return str(value).zfill(14)
        if name in _TIME_NAMES:
            return moment(value)
        return str(value)
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return str(value)


def _role_name(raw: bytes) -> str:
    if raw == b"\0" * 32:
        return "DEFAULT_ADMIN_ROLE"
    return short_hex(raw)


# -------------------------------------------------------------------------------- decoding


def decode_revert(
    data: bytes | str | None, table: dict[str, ErrorSpec] | None = None
) -> ContractRevert:
    """Turn raw revert data into the matching `ContractRevert` subclass (not raised)."""
    raw = _as_bytes(data)
    if len(raw) < 4:
        return ContractRevert(
            "the transaction reverted without a reason (out of gas, or a call to a non-contract?)"
        )
    selector = "0x" + raw[:4].hex()
    body = raw[4:]
    if selector == ERROR_STRING_SELECTOR:
        try:
            (reason,) = abi_decode(["string"], body)
        except Exception:
            reason = body.hex()
        return ContractRevert(f"reverted: {reason}", "Error", (reason,), selector)
    if selector == PANIC_SELECTOR:
        try:
            (code,) = abi_decode(["uint256"], body)
        except Exception:
            code = -1
        what = PANIC_CODES.get(code, f"code {code:#x}" if code >= 0 else "unknown code")
        return ContractRevert(f"the contract panicked: {what}", "Panic", (code,), selector)
    spec = (table if table is not None else default_table()).get(selector)
    if spec is None:
        return ContractRevert(
            f"reverted with unknown error {selector} (data 0x{raw.hex()}): are the artifacts "
            "current? run `provenance compile`",
            "",
            (),
            selector,
        )
    try:
        values = abi_decode(list(spec.input_types), body)
    except Exception:
        return spec.exception(
            f"reverted with {spec.name} (undecodable arguments 0x{body.hex()})",
            spec.name,
            (),
            selector,
        )
    return spec.exception(_message(spec, values), spec.name, tuple(values), selector)


def _message(spec: ErrorSpec, values: Iterable[Any]) -> str:
    formatted = {
        name: format_arg(name, abi_type, value)
        for name, abi_type, value in zip(spec.input_names, spec.input_types, values, strict=True)
    }
    if "prefix" in formatted and "length" in formatted and formatted["length"].isdigit():
        formatted["prefix"] = formatted["prefix"].zfill(int(formatted["length"]))
    if not spec.template:
        args = ", ".join(f"{k}={v}" for k, v in formatted.items())
        return f"reverted with {spec.name}({args})"
    try:
        return spec.template.format(**formatted)
    except (KeyError, IndexError):
        args = ", ".join(f"{k}={v}" for k, v in formatted.items())
        return f"reverted with {spec.name}({args})"


def revert_data_of(exc: BaseException) -> bytes | None:
    """Revert data carried by a web3/provider exception, or None if it is not a revert."""
    candidates: list[Any] = [getattr(exc, "data", None)]
    response = getattr(exc, "rpc_response", None)
    if isinstance(response, dict):
        error = response.get("error")
        if isinstance(error, dict):
            candidates.append(error.get("data"))
    for arg in getattr(exc, "args", ()):
        if isinstance(arg, dict):
            candidates.append(arg.get("data"))
        elif isinstance(arg, str):
            candidates.append(_tester_revert_bytes(arg))
    for candidate in candidates:
        found = _find_hex(candidate)
        if found is not None:
            return found
    return None


_TESTER_REVERT = re.compile(r"execution reverted: (b'.*'|b\".*\")\Z", re.DOTALL)


def _tester_revert_bytes(message: str) -> bytes | None:
    """The revert data of the embedded chain (eth-tester), which web3 puts into the message as a
    Python bytes literal (`execution reverted: b'\\x9e…'`) when it is not an `Error(string)`."""
    match = _TESTER_REVERT.search(message)
    if match is None:
        return None
    try:
        value = ast.literal_eval(match.group(1))
    except (ValueError, SyntaxError):
        return None
    return value if isinstance(value, bytes) else None


def _find_hex(candidate: Any) -> bytes | None:
    if isinstance(candidate, bytes | bytearray):
        return bytes(candidate)
    if isinstance(candidate, str) and candidate.startswith("0x"):
        try:
            return bytes.fromhex(candidate[2:])
        except ValueError:
            return None
    if isinstance(candidate, dict):  # e.g. Ganache: {"data": "0x…"} or {txhash: {"return": …}}
        for key in ("data", "result", "return"):
            found = _find_hex(candidate.get(key))
            if found is not None:
                return found
        for value in candidate.values():
            if isinstance(value, dict):
                found = _find_hex(value)
                if found is not None:
                    return found
    return None


def from_web3_error(
    exc: BaseException, table: dict[str, ErrorSpec] | None = None
) -> ContractRevert | None:
    """The decoded revert behind a web3 exception, or None when `exc` is not a revert."""
    from web3.exceptions import ContractLogicError, Web3RPCError

    data = revert_data_of(exc)
    if data is not None:
        return decode_revert(data, table)
    if isinstance(exc, ContractLogicError):
        text = str(exc.message if hasattr(exc, "message") else exc)
        return ContractRevert(f"the call reverted: {text}")
    if isinstance(exc, Web3RPCError | ValueError) and "revert" in str(exc).lower():
        return ContractRevert(f"the call reverted: {_first_line(exc)}")
    return None


def replay_mined(chain: Chain, params: Any, block: int) -> ContractRevert | None:
    """Why a transaction mined in `block` reverted: its call replayed in that block (its time),
    then on its parent's state, decoded; None when the node does not reproduce the revert."""
    for at in (block, max(block - 1, 0)):
        try:
            chain.w3.eth.call(params, block_identifier=at)
        except Exception as exc:
            decoded = from_web3_error(exc)
            if decoded is not None:
                return decoded
    return None


def replay_mined_tx(chain: Chain, tx_hash: str, block: int) -> ContractRevert | None:
    """`replay_mined` for a transaction known only by its hash (read back from the chain);
    None when it cannot be read or the revert is not reproduced."""
    try:
        tx = chain.w3.eth.get_transaction(tx_hash)  # type: ignore[arg-type]
    except Exception:
        return None
    params: dict[str, Any] = {"from": tx["from"], "value": tx.get("value", 0),
                              "data": tx.get("input", b""), "gas": tx.get("gas")}  # fmt: skip
    if tx.get("to") is not None:
        params["to"] = tx["to"]
    return replay_mined(chain, params, block)


def _first_line(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]


def _as_bytes(data: bytes | str | None) -> bytes:
    if data is None:
        return b""
    if isinstance(data, bytes | bytearray):
        return bytes(data)
    text = data[2:] if data.startswith("0x") else data
    try:
        return bytes.fromhex(text)
    except ValueError:
        return b""


def expected_revert(name: str, **args: str) -> ContractRevert:
    """The exception a client-side pre-check raises for a revert it predicts (same class and
    message as the contract's error `name`; `args` are already formatted strings)."""
    exception, template = MESSAGES.get(name, (ContractRevert, ""))
    try:
        message = template.format(**args) if template else name
    except (KeyError, IndexError):
        message = f"{name}({', '.join(f'{k}={v}' for k, v in args.items())})"
    return exception(message, name, tuple(args.values()))


def explain(exc: BaseException, chain: Chain, action: str) -> ProvenanceError:
    """Any failure of a call or transaction as one library error: the decoded revert if it is
    one, else what `provenance.chain.rpc_failure` makes of it."""
    if isinstance(exc, ProvenanceError):
        return exc
    decoded = from_web3_error(exc)
    if decoded is not None:
        return decoded
    return rpc_failure(exc, chain.rpc, action, chain.timeout)
