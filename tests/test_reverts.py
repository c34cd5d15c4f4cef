"""Revert decoding: every contract error has a message and the right exception class."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from eth_abi.abi import encode
from web3.exceptions import ContractCustomError, ContractLogicError

from provenance.compiler import PROJECT_ROOT, load_artifact
from provenance.exceptions import (
    ContractRevert,
    InvalidInput,
    NotFoundError,
    PermissionDenied,
    ProvenanceError,
    StateConflict,
)
from provenance.reverts import (
    MESSAGES,
    build_table,
    decode_revert,
    default_table,
    error_selector,
    from_web3_error,
)

INTERFACES = [
    PROJECT_ROOT / "contracts" / "interfaces" / "IProvenanceRegistry.sol",
    PROJECT_ROOT / "contracts" / "interfaces" / "ISupplyAgreements.sol",
]
ALICE = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
BATCH = bytes.fromhex("12ab" + "00" * 28 + "cdef")


def interface_errors() -> list[str]:
    names = []
    for path in INTERFACES:
        names += re.findall(r"^\s*error\s+(\w+)\s*\(", path.read_text(), flags=re.M)
    return names


def artifact_errors() -> list[dict[str, Any]]:
    entries = []
    for name in ("ProvenanceRegistry", "SupplyAgreements"):
        entries += [e for e in load_artifact(name).abi if e["type"] == "error"]
    return entries


def sample(abi_type: str) -> Any:
    if abi_type == "address":
        return ALICE
    if abi_type == "bytes32":
        return BATCH
    if abi_type == "bytes3":
        return b"KGM"
    if abi_type.startswith("bytes") and abi_type[5:].isdigit():  # e.g. a bytes25 commitment
        return b"\x11" * int(abi_type[5:])
    if abi_type == "string":
        return "text"
    if abi_type.startswith("uint"):
        return 2
    raise AssertionError(abi_type)


def test_interfaces_declare_errors() -> None:
    assert len(interface_errors()) > 50


@pytest.mark.parametrize("name", interface_errors())
def test_every_interface_error_has_a_message(name: str) -> None:
    assert name in MESSAGES, f"add {name} to provenance.reverts.MESSAGES"
    exception, template = MESSAGES[name]
    assert issubclass(exception, (NotFoundError, PermissionDenied, InvalidInput, StateConflict))
    assert template


@pytest.mark.parametrize("entry", artifact_errors(), ids=lambda e: e["name"])
def test_every_artifact_error_decodes_to_its_class_with_a_full_message(
    entry: dict[str, Any],
) -> None:
    types = [i["type"] for i in entry["inputs"]]
    data = bytes.fromhex(error_selector(entry)[2:]) + encode(types, [sample(t) for t in types])
    error = decode_revert(data, build_table([[entry]]))
    assert error.error_name == entry["name"]
    assert type(error) is MESSAGES[entry["name"]][0]
    assert "reverted with" not in str(error)  # the template formatted with the ABI's arg names
    assert "{" not in str(error)
    assert len(error.error_args) == len(types)
    assert error.args == (str(error),)  # BaseException.args is the message, as everywhere


def test_default_table_covers_both_contracts() -> None:
    names = {spec.name for spec in default_table().values()}
    assert set(interface_errors()) <= names


def test_unknown_batch_message_names_the_fix_and_shortens_the_id() -> None:
    entry = next(e for e in artifact_errors() if e["name"] == "RegistryUnknownBatch")
    data = bytes.fromhex(error_selector(entry)[2:]) + encode(["bytes32"], [BATCH])
    error = decode_revert(data)
    assert isinstance(error, NotFoundError) and isinstance(error, ProvenanceError)
    assert str(error) == "unknown batch 0x12ab…cdef: create it first with `provenance batch create`"
    assert error.error_args == (BATCH,)


def test_addresses_are_checksummed_in_messages() -> None:
    entry = next(e for e in artifact_errors() if e["name"] == "RegistryNotCustodian")
    data = bytes.fromhex(error_selector(entry)[2:]) + encode(
        ["bytes32", "address"], [BATCH, ALICE.lower()]
    )
    error = decode_revert(data)
    assert isinstance(error, PermissionDenied)
    assert ALICE in str(error)


def test_unknown_selector_keeps_the_raw_selector() -> None:
    error = decode_revert("0xdeadbeef00")
    assert type(error) is ContractRevert
    assert error.selector == "0xdeadbeef"
    assert "unknown error 0xdeadbeef" in str(error)


def test_error_string_and_panic_are_decoded() -> None:
    text = decode_revert(bytes.fromhex("08c379a0") + encode(["string"], ["boom"]))
    assert str(text) == "reverted: boom"
    panic = decode_revert(bytes.fromhex("4e487b71") + encode(["uint256"], [0x11]))
    assert "overflow" in str(panic)
    assert "without a reason" in str(decode_revert(b""))


def test_web3_exceptions_are_translated() -> None:
    entry = next(e for e in artifact_errors() if e["name"] == "AgreementsUnknown")
    data = error_selector(entry) + encode(["uint256"], [7]).hex()
    custom = from_web3_error(ContractCustomError(data, data=data))
    assert isinstance(custom, NotFoundError) and "unknown agreement 7" in str(custom)
    rpc = from_web3_error(ValueError({"code": 3, "message": "execution reverted", "data": data}))
    assert isinstance(rpc, NotFoundError)
    logic = from_web3_error(ContractLogicError("execution reverted"))
    assert type(logic) is ContractRevert
    assert from_web3_error(ValueError("something else")) is None


def test_a_company_prefix_keeps_its_leading_zeros_in_messages() -> None:
    entry = next(e for e in artifact_errors() if e["name"] == "RegistryPrefixOverlap")
    data = bytes.fromhex(error_selector(entry)[2:]) + encode(["uint64", "uint8"], [614141, 7])
    error = decode_revert(data)
    assert isinstance(error, StateConflict)
    assert str(error).startswith("company prefix 0614141 (7 digits) overlaps an assigned one")


def test_library_errors_decode_through_the_registry_abi() -> None:
    """The linked libraries revert with the registry's own errors (declared in the interface):
    decoding them needs nothing but the registry and agreements ABIs."""
    registry = {e["name"] for e in artifact_errors()}
    for library in ("Membership", "Derivations"):
        errors = {e["name"] for e in load_artifact(library).abi if e["type"] == "error"}
        assert errors <= registry, errors - registry


def test_no_message_is_left_for_an_error_that_no_longer_exists() -> None:
    known = {e["name"] for e in artifact_errors()} | {
        # OpenZeppelin errors raised by calls the contracts make (tokens, signatures, addresses)
        "SafeERC20FailedOperation", "ERC20InsufficientAllowance", "ERC20InsufficientBalance",
        "ECDSAInvalidSignature", "ECDSAInvalidSignatureLength", "ECDSAInvalidSignatureS",
        "FailedCall", "InsufficientBalance", "AddressEmptyCode",
    }  # fmt: skip
    assert set(MESSAGES) <= known, set(MESSAGES) - known


def test_the_embedded_chains_reverts_are_decoded_too(tmp_path: Path) -> None:
    """eth-tester hands a custom error to web3, which puts it into the message as a bytes literal
    (`execution reverted: b'…'`): it still becomes the named exception with its message."""
    from provenance.chain import EMBEDDED, connect, dev_accounts
    from provenance.deploy import deploy
    from provenance.registry import RegistryClient
    from provenance.transactions import Transactor

    chain = connect(EMBEDDED)
    operator, stranger = dev_accounts(2)
    deployment = deploy(chain, operator, root=tmp_path)
    client = RegistryClient.from_deployment(
        chain, deployment, Transactor(chain, stranger, root=tmp_path)
    )
    with pytest.raises(PermissionDenied, match="only the operator"):
        client.register_participant(stranger.address, "producer")
    with pytest.raises(NotFoundError, match="is not a registered participant"):
        client.create_batch("09506000134352", "L1", 1)
