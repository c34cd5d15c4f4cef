"""The exception tree. Every error the library raises on purpose is a `ProvenanceError`.

One root, a few category bases that also derive from the built-in a caller would catch, and the
specific errors below them::

    ProvenanceError
    ├── InvalidInput (ValueError)        bad input, refused before anything is sent
    ├── NotFoundError (LookupError)      unknown batch, participant, agreement, account, record
    ├── PermissionDenied                 the caller may not do this
    ├── StateConflict                    does not fit the current state
    ├── ChainError                       the endpoint answered something unusable
    │   └── ChainUnreachable (ConnectionError)   no answer at all: the chain is down
    ├── ConfigError, CompilerError, NodeError, KeystoreError, SignatureError, OutboxError
    ├── TransactionError                 a transaction failed or is stuck (`tx_hash`)
    │   └── InsufficientFunds
    └── ContractRevert                   a contract call reverted (`error_name`, `error_args`)
        └── one per category: RevertedInvalid (also InvalidInput), RevertedNotFound (also
            NotFoundError), RevertedPermission (also PermissionDenied), RevertedState (also
            StateConflict)

A revert of invalid arguments is both a `ContractRevert` and an `InvalidInput`; input refused by
the library before anything reaches a contract is an `InvalidInput` only.
"""

from __future__ import annotations


class ProvenanceError(Exception):
    """Root of every error this package raises on purpose; the CLI prints its message."""


# ------------------------------------------------------------------------------- categories


class InvalidInput(ProvenanceError, ValueError):
    """An argument is invalid (bad GTIN, lot, amount, time, address…): nothing was sent."""


class NotFoundError(ProvenanceError, LookupError):
    """The thing referred to (batch, participant, agreement, account, record) does not exist."""


class PermissionDenied(ProvenanceError):
    """The caller is not allowed to do this (wrong role, not custodian, not a party…)."""


class StateConflict(ProvenanceError):
    """The request does not fit the current state (already exists, pending handoff, wrong
    status, too early or too late…)."""


class ChainError(ProvenanceError):
    """The RPC endpoint answered something unusable."""


class ChainUnreachable(ChainError, ConnectionError):
    """The RPC endpoint did not answer at all (refused, timed out, node stopped): the chain is
    down from here. Writes are queued in the outbox; reads fail with this."""


# ---------------------------------------------------------------------------- local matters


class CompilerError(ProvenanceError):
    """The contracts could not be compiled, or the compiler could not be found."""


class ConfigError(ProvenanceError):
    """Bad configuration or local files: data directory, deployment record, node record."""


class NodeError(ProvenanceError):
    """A local node (Anvil/Ganache) could not be started, stopped or reached."""


class KeystoreError(ProvenanceError):
    """A keystore account is missing, unreadable, or the password is wrong."""


class PasswordUnavailable(KeystoreError):
    """No password could be had: no --password-file / PROVENANCE_PASSWORD and no terminal, an
    unreadable password file, or the prompt was interrupted. The keystore itself is fine."""


class SignatureError(ProvenanceError):
    """A signed message (e.g. a signed handoff file) is malformed, tampered with, expired or for
    another chain or contract."""


class OutboxError(ProvenanceError):
    """The outbox of signed transactions could not be read or written."""


# ----------------------------------------------------------------------------- transactions


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
    `RegistryUnknownBatch`), `error_args` its decoded arguments; the message is human readable.

    Raised as one of the subclasses below, chosen by `provenance.reverts` (also when the client
    predicts the revert before sending: same class, same message).
    """

    def __init__(
        self,
        message: str,
        error_name: str = "",
        error_args: tuple[object, ...] = (),
        selector: str = "",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.error_name = error_name
        self.error_args = tuple(error_args)
        self.selector = selector
        self.tx_hash: str | None = None  # set when a mined transaction reverted

    def __str__(self) -> str:
        return self.message


class RevertedInvalid(ContractRevert, InvalidInput):
    """The contract refused an argument (bad GTIN, lot, quantity, signature…)."""


class RevertedNotFound(ContractRevert, NotFoundError):
    """The contract does not know the batch, participant, agreement or attestation."""


class RevertedPermission(ContractRevert, PermissionDenied):
    """The contract refused the caller (wrong role, not custodian, not a party…)."""


class RevertedState(ContractRevert, StateConflict):
    """The contract refused the call in the current state."""
