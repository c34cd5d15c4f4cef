"""The exception tree. Every error the library raises on purpose is a `ProvenanceError`."""

from __future__ import annotations


class ProvenanceError(Exception):
    """Root of every error this package raises on purpose; the CLI prints its message."""


class CompilerError(ProvenanceError):
    """The contracts could not be compiled, or the compiler could not be found."""


class ConfigError(ProvenanceError):
    """Bad configuration, deployment record or command-line input."""


class NodeError(ProvenanceError):
    """A local node (Anvil/Ganache) could not be started, stopped or reached."""


class ChainError(ProvenanceError):
    """The RPC endpoint is unreachable or answered something unusable."""


class KeystoreError(ProvenanceError):
    """A keystore account is missing, unreadable, or the password is wrong."""


class SignatureError(ProvenanceError):
    """A signed message (e.g. a signed handoff file) is malformed, tampered with, expired or for
    another chain or contract."""


class OutboxError(ProvenanceError):
    """The outbox of signed transactions could not be read or written."""


class TransactionError(ProvenanceError):
    """A transaction failed or is stuck after it was sent; `tx_hash` says which one."""

    def __init__(self, message: str, tx_hash: str | None = None) -> None:
        super().__init__(message)
        self.tx_hash = tx_hash


class InsufficientFunds(TransactionError):
    """The sending account cannot pay for gas (plus the value sent): the node refused it, or
    would. `address` is the account, `balance` its balance in wei (None if unknown)."""

    def __init__(
        self,
        message: str,
        tx_hash: str | None = None,
        *,
        address: str = "",
        balance: int | None = None,
    ) -> None:
        super().__init__(message, tx_hash)
        self.address = address
        self.balance = balance


class ContractRevert(ProvenanceError):
    """A contract call reverted. `error_name` is the Solidity custom error (e.g.
    `RegistryUnknownBatch`), `args` its decoded arguments; the message is human readable.

    Raised as one of the subclasses below, chosen by `provenance.reverts`.
    """

    def __init__(
        self,
        message: str,
        error_name: str = "",
        args: tuple[object, ...] = (),
        selector: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.error_name = error_name
        self.args = tuple(args)  # the decoded custom-error arguments (not the message)
        self.selector = selector
        self.tx_hash: str | None = None  # set when a mined transaction reverted

    def __str__(self) -> str:
        return self.message


class NotFoundError(ContractRevert):
    """The thing referred to (batch, participant, agreement, attestation) does not exist."""


class PermissionDenied(ContractRevert):
    """The caller is not allowed to do this (wrong role, not custodian, not a party…)."""


class InvalidInput(ContractRevert):
    """An argument is invalid (bad GTIN, lot, quantity, signature…); also raised client-side."""


class StateConflict(ContractRevert):
    """The call does not fit the current state (already exists, pending handoff, wrong status…)."""
