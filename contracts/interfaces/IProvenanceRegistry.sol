// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @title IProvenanceRegistry
/// @notice Custody, lineage, attestations and recalls of GS1-identified batches (see docs/design.md).
/// @dev Safety properties every implementation must keep:
/// - every live (ACTIVE) batch has exactly one non-zero custodian, a registered participant;
/// - only the custodian initiates a handoff, only the named recipient accepts or rejects it, at most
///   one handoff is pending per batch, and only the sender cancels it;
/// - every acting participant is registered and active (cancel and reject only need registration,
///   they undo a pending handoff and never move custody);
/// - quantity is conserved: split parts + loss == parent quantity, merge child == sum of parents -
///   loss, transform consumes its inputs whole;
/// - consumed and recalled batches are frozen: no handoff, split, merge or transform starts from them
///   and a pending handoff of a recalled batch can no longer be accepted;
/// - attestations are append-only, issued only by active certifiers, revoked only by their issuer;
/// - each (signer, nonce) authorises at most one handoff; signatures for another chain id, another
///   contract, past their deadline, or with a high `s` (malleable) are rejected;
/// - no state-changing function loops over a user-growable storage array (loops run over calldata).
/// The event log is the provenance record: a batch's history is every log with its id as topic 1.
interface IProvenanceRegistry {
    // ------------------------------------------------------------------ types

    /// @notice One custody transfer, as initiated, recorded or signed (EIP-712 type `Handoff`).
    /// @param batchId The batch handed off.
    /// @param from The current custodian.
    /// @param to The recipient, a registered active participant.
    /// @param location GLN of the place of handoff, 0 = not given.
    /// @param bizStep CBV business step code (`provenance.types.BIZ_STEPS`), 0 = not given.
    /// @param disposition CBV disposition code (`provenance.types.DISPOSITIONS`), 0 = not given.
    /// @param transferOwnership Whether ownership moves to `to` together with custody.
    /// @param document Hash of the accompanying document (e.g. a despatch advice).
    struct Handoff {
        bytes32 batchId;
        address from;
        address to;
        uint64 location;
        uint8 bizStep;
        uint8 disposition;
        bool transferOwnership;
        bytes32 document;
    }

    /// @notice A party's EIP-712 consent to a `Handoff`.
    /// @param nonce The signer's current nonce (`nonces(signer)`).
    /// @param deadline Last timestamp at which the signature is valid.
    /// @param signature 65-byte `r || s || v` signature; empty when the party is `msg.sender`.
    struct Authorization {
        uint256 nonce;
        uint256 deadline;
        bytes signature;
    }

    /// @notice One child of a split.
    /// @param lot The child's lot (GS1 AI 10, left-aligned ASCII).
    /// @param quantity The child's quantity, in the parent's unit of measure.
    struct Part {
        bytes32 lot;
        uint48 quantity;
    }

    /// @notice One output of a transformation.
    /// @param gtin The output's 14-digit GTIN.
    /// @param lot The output's lot.
    /// @param quantity The output's quantity.
    /// @param uom The output's UN/ECE Rec 20 unit of measure.
    struct Output {
        uint256 gtin;
        bytes32 lot;
        uint48 quantity;
        bytes3 uom;
    }

    /// @notice A batch's current state, with participant ids resolved to addresses.
    /// @param custodian Who holds the batch.
    /// @param owner Who owns the batch.
    /// @param pendingTo Recipient of the pending handoff, zero if none.
    /// @param creator Who created the batch.
    /// @param state 0 unknown, 1 ACTIVE, 2 CONSUMED.
    /// @param recalled Whether the batch was recalled.
    /// @param flags The raw flags byte (see docs/design.md).
    /// @param gtin The batch's GTIN.
    /// @param quantity The batch's quantity.
    /// @param uom The batch's unit of measure.
    struct BatchInfo {
        address custodian;
        address owner;
        address pendingTo;
        address creator;
        uint8 state;
        bool recalled;
        uint8 flags;
        uint256 gtin;
        uint256 quantity;
        bytes3 uom;
    }

    /// @notice A participant's registration.
    /// @param id The participant's on-chain id (1, 2, ...), 0 if not registered.
    /// @param roles Role bitmask (PRODUCER 1, PROCESSOR 2, CARRIER 4, DISTRIBUTOR 8, RETAILER 16, CERTIFIER 32).
    /// @param active False while suspended.
    /// @param gln The participant's GLN, 0 = not given.
    struct ParticipantInfo {
        uint32 id;
        uint8 roles;
        bool active;
        uint64 gln;
    }

    // ----------------------------------------------------------------- errors

    /// @notice `account` is the zero address.
    error RegistryZeroAddress();
    /// @notice `account` is already registered.
    error RegistryParticipantExists(address account);
    /// @notice `account` is not registered.
    error RegistryUnknownParticipant(address account);
    /// @notice `account` is suspended.
    error RegistryParticipantInactive(address account);
    /// @notice `account` is already active.
    error RegistryParticipantActive(address account);
    /// @notice `roles` is zero or has bits outside the six defined roles.
    error RegistryInvalidRoles(uint8 roles);
    /// @notice `gln` has more than 13 digits.
    error RegistryInvalidGln(uint64 gln);
    /// @notice `account` lacks every role in `roles`.
    error RegistryMissingRole(address account, uint8 roles);
    /// @notice `gtin` is zero, has more than 14 digits or a wrong GS1 check digit.
    error RegistryInvalidGtin(uint256 gtin);
    /// @notice `lot` is empty, not left-aligned or longer than 20 bytes.
    error RegistryInvalidLot(bytes32 lot);
    /// @notice A quantity is zero.
    error RegistryZeroQuantity();
    /// @notice `uom` is empty.
    error RegistryInvalidUom(bytes3 uom);
    /// @notice A batch with this id already exists.
    error RegistryBatchExists(bytes32 batchId);
    /// @notice No batch has this id.
    error RegistryUnknownBatch(bytes32 batchId);
    /// @notice The batch is not ACTIVE (it was consumed).
    error RegistryBatchNotActive(bytes32 batchId, uint8 state);
    /// @notice The batch was recalled.
    error RegistryBatchRecalled(bytes32 batchId);
    /// @notice `caller` is not the custodian of the batch.
    error RegistryNotCustodian(bytes32 batchId, address caller);
    /// @notice `account` is not the owner of the batch.
    error RegistryNotOwner(bytes32 batchId, address account);
    /// @notice `caller` is not the handoff's `from`.
    error RegistryCallerNotSender(address from, address caller);
    /// @notice The batch already has a handoff pending to `pendingTo`.
    error RegistryHandoffPending(bytes32 batchId, address pendingTo);
    /// @notice The batch has no pending handoff.
    error RegistryNoPendingHandoff(bytes32 batchId);
    /// @notice `caller` is not the recipient of the pending handoff.
    error RegistryNotRecipient(bytes32 batchId, address caller);
    /// @notice A handoff from `account` to itself.
    error RegistrySelfHandoff(bytes32 batchId, address account);
    /// @notice The delivery of this custody was already claimed by an agreement.
    error RegistryDeliveryAlreadyClaimed(bytes32 batchId);
    /// @notice The authorization's deadline has passed.
    error RegistrySignatureExpired(address signer, uint256 deadline);
    /// @notice The authorization's nonce is not the signer's current nonce.
    error RegistryInvalidNonce(address signer, uint256 expected, uint256 given);
    /// @notice The signature is malformed, malleable (high s) or not by `signer` for this handoff.
    error RegistryInvalidSignature(address signer);
    /// @notice An input list is empty or too short (`count` items).
    error RegistryInvalidInputCount(uint256 count);
    /// @notice Parts plus loss do not add up to the parent's quantity, or the result does not fit.
    error RegistryQuantityMismatch(uint256 expected, uint256 actual);
    /// @notice Merge inputs differ in GTIN, unit of measure or owner.
    error RegistryIncompatibleBatches(bytes32 first, bytes32 other);
    /// @notice `validUntil` is before `validFrom`.
    error RegistryInvalidValidity(uint64 validFrom, uint64 validUntil);
    /// @notice An attestation with this id already exists.
    error RegistryAttestationExists(bytes32 attestationId);
    /// @notice No attestation with this id exists.
    error RegistryUnknownAttestation(bytes32 attestationId);
    /// @notice The attestation was already revoked.
    error RegistryAttestationRevoked(bytes32 attestationId);
    /// @notice `caller` is neither the batch's creator nor an admin.
    error RegistryNotRecaller(bytes32 batchId, address caller);

    // ----------------------------------------------------------------- events

    /// @notice A participant was registered.
    /// @param account The participant's address.
    /// @param id Its on-chain id.
    /// @param roles Its role bitmask.
    /// @param gln Its GLN, 0 = not given.
    /// @param metadataHash Hash of its off-chain profile.
    /// @param at Block timestamp.
    event ParticipantRegistered(
        address indexed account, uint32 indexed id, uint8 roles, uint64 gln, bytes32 metadataHash, uint64 at
    );
    /// @notice A participant's roles, GLN or profile changed.
    /// @param account The participant.
    /// @param roles New role bitmask.
    /// @param gln New GLN.
    /// @param metadataHash New profile hash.
    /// @param at Block timestamp.
    event ParticipantUpdated(address indexed account, uint8 roles, uint64 gln, bytes32 metadataHash, uint64 at);
    /// @notice A participant was suspended.
    /// @param account The participant.
    /// @param reason Hash or code of the reason.
    /// @param at Block timestamp.
    event ParticipantSuspended(address indexed account, bytes32 reason, uint64 at);
    /// @notice A suspended participant was reinstated.
    /// @param account The participant.
    /// @param at Block timestamp.
    event ParticipantReinstated(address indexed account, uint64 at);
    /// @notice A batch was created (commissioned, or produced by a merge or transform).
    /// @param batchId The batch.
    /// @param creator Who created it.
    /// @param gtin Its GTIN.
    /// @param lot Its lot.
    /// @param quantity Its quantity.
    /// @param uom Its unit of measure.
    /// @param document Hash of the accompanying document.
    /// @param at Block timestamp.
    event BatchCreated(
        bytes32 indexed batchId,
        address indexed creator,
        uint256 gtin,
        bytes32 lot,
        uint256 quantity,
        bytes3 uom,
        bytes32 document,
        uint64 at
    );
    /// @notice A handoff was initiated.
    /// @param batchId The batch.
    /// @param from The custodian.
    /// @param to The recipient.
    /// @param location GLN of the handoff.
    /// @param bizStep CBV business step code.
    /// @param disposition CBV disposition code.
    /// @param transferOwnership Whether ownership moves on acceptance.
    /// @param document Hash of the accompanying document.
    /// @param at Block timestamp.
    event HandoffInitiated(
        bytes32 indexed batchId,
        address indexed from,
        address indexed to,
        uint64 location,
        uint8 bizStep,
        uint8 disposition,
        bool transferOwnership,
        bytes32 document,
        uint64 at
    );
    /// @notice The recipient accepted a handoff; it is now the custodian.
    /// @param batchId The batch.
    /// @param from The previous custodian.
    /// @param to The new custodian.
    /// @param at Block timestamp.
    event HandoffAccepted(bytes32 indexed batchId, address indexed from, address indexed to, uint64 at);
    /// @notice The recipient rejected a handoff.
    /// @param batchId The batch.
    /// @param from The custodian.
    /// @param to The recipient who rejected.
    /// @param reason Hash or code of the reason.
    /// @param at Block timestamp.
    event HandoffRejected(bytes32 indexed batchId, address indexed from, address indexed to, bytes32 reason, uint64 at);
    /// @notice The sender cancelled a pending handoff.
    /// @param batchId The batch.
    /// @param from The custodian.
    /// @param to The recipient.
    /// @param at Block timestamp.
    event HandoffCancelled(bytes32 indexed batchId, address indexed from, address indexed to, uint64 at);
    /// @notice A batch was consumed by a split (1), merge (2) or transform (3).
    /// @dev For merge the operation's loss is carried by the first input's event, the others carry 0.
    /// @param batchId The consumed batch.
    /// @param by The custodian who consumed it.
    /// @param kind 1 split, 2 merge, 3 transform.
    /// @param loss Quantity lost in the operation.
    /// @param document Hash of the accompanying document.
    /// @param at Block timestamp.
    event BatchConsumed(
        bytes32 indexed batchId, address indexed by, uint8 kind, uint256 loss, bytes32 document, uint64 at
    );
    /// @notice A split produced a child (GTIN, uom, custodian, owner from the parent).
    /// @param childId The child.
    /// @param parentId The parent.
    /// @param lot The child's lot.
    /// @param quantity The child's quantity.
    event BatchSplit(bytes32 indexed childId, bytes32 indexed parentId, bytes32 lot, uint256 quantity);
    /// @notice One (output, input) edge of a merge or transform.
    /// @param childId The output.
    /// @param parentId The input.
    /// @param kind 2 merge, 3 transform.
    event BatchDerived(bytes32 indexed childId, bytes32 indexed parentId, uint8 kind);
    /// @notice A batch was recalled.
    /// @param batchId The batch.
    /// @param by Its creator or an admin.
    /// @param reason Hash or code of the reason.
    /// @param at Block timestamp.
    event BatchRecalled(bytes32 indexed batchId, address indexed by, bytes32 reason, uint64 at);
    /// @notice A settler claimed the current custody of a batch as a paid delivery; the recipient
    /// is now also the batch's owner.
    /// @param batchId The batch.
    /// @param recipient Its custodian, the agreement's buyer, and from now on its owner.
    /// @param settler The settling contract.
    /// @param at Block timestamp.
    event DeliveryClaimed(bytes32 indexed batchId, address indexed recipient, address indexed settler, uint64 at);
    /// @notice A certifier issued an attestation.
    /// @param subject A batch id or `bytes32(uint256(uint160(account)))`.
    /// @param claim The claim type.
    /// @param issuer The certifier.
    /// @param attestationId `keccak256(abi.encode(subject, claim, issuer, evidence))`.
    /// @param evidence Hash of the evidence (certificate, lab report).
    /// @param validFrom First valid timestamp.
    /// @param validUntil Last valid timestamp.
    /// @param at Block timestamp.
    event AttestationIssued(
        bytes32 indexed subject,
        bytes32 indexed claim,
        address indexed issuer,
        bytes32 attestationId,
        bytes32 evidence,
        uint64 validFrom,
        uint64 validUntil,
        uint64 at
    );
    /// @notice An issuer revoked its attestation.
    /// @param subject The subject.
    /// @param claim The claim type.
    /// @param issuer The certifier.
    /// @param attestationId The attestation.
    /// @param reason Hash or code of the reason.
    /// @param at Block timestamp.
    event AttestationRevoked(
        bytes32 indexed subject,
        bytes32 indexed claim,
        address indexed issuer,
        bytes32 attestationId,
        bytes32 reason,
        uint64 at
    );

    // ----------------------------------------------------------- participants

    /// @notice Register `account` as a participant with the next id.
    /// @dev Requirements:
    /// - caller has DEFAULT_ADMIN_ROLE;
    /// - `account` is non-zero and not registered;
    /// - `roles` is non-zero and within the six roles; `gln` has at most 13 digits.
    /// @param account The participant's address.
    /// @param roles Role bitmask.
    /// @param gln GLN, 0 = not given.
    /// @param metadataHash Hash of the off-chain profile (emitted only).
    function registerParticipant(address account, uint8 roles, uint64 gln, bytes32 metadataHash) external;

    /// @notice Change a participant's roles, GLN or profile.
    /// @dev Requirements:
    /// - caller has DEFAULT_ADMIN_ROLE; `account` is registered;
    /// - `roles` and `gln` valid as in `registerParticipant`.
    /// @param account The participant.
    /// @param roles New role bitmask.
    /// @param gln New GLN.
    /// @param metadataHash New profile hash.
    function updateParticipant(address account, uint8 roles, uint64 gln, bytes32 metadataHash) external;

    /// @notice Suspend a participant: it can no longer act.
    /// @dev Requirements:
    /// - caller has DEFAULT_ADMIN_ROLE; `account` is registered and active.
    /// @param account The participant.
    /// @param reason Hash or code of the reason.
    function suspendParticipant(address account, bytes32 reason) external;

    /// @notice Reinstate a suspended participant.
    /// @dev Requirements:
    /// - caller has DEFAULT_ADMIN_ROLE; `account` is registered and suspended.
    /// @param account The participant.
    function reinstateParticipant(address account) external;

    // ---------------------------------------------------------------- batches

    /// @notice Commission a new batch; the caller becomes creator, custodian and owner.
    /// @dev Requirements:
    /// - caller is an active PRODUCER;
    /// - `gtin` is a valid 14-digit GTIN (GS1 mod-10 check digit), `lot` valid, `quantity` > 0,
    ///   `uom` non-empty;
    /// - no batch with id `batchIdOf(gtin, lot)` exists.
    /// @param gtin The GTIN.
    /// @param lot The lot.
    /// @param quantity The quantity.
    /// @param uom The unit of measure.
    /// @param document Hash of the accompanying document.
    /// @return batchId `keccak256(abi.encode(gtin, lot))`.
    function createBatch(uint256 gtin, bytes32 lot, uint48 quantity, bytes3 uom, bytes32 document)
        external
        returns (bytes32 batchId);

    /// @notice Offer custody of a batch to `h.to`; it moves when `h.to` accepts.
    /// @dev Requirements:
    /// - caller is `h.from`, active, and the custodian (and the owner if `h.transferOwnership`);
    /// - the batch is ACTIVE, not recalled, with no pending handoff;
    /// - `h.to` is registered, active and not `h.from`.
    /// @param h The handoff.
    function initiateHandoff(Handoff calldata h) external;

    /// @notice Accept the pending handoff of a batch: the caller becomes custodian (and owner).
    /// @dev Requirements:
    /// - a handoff is pending and the caller, active, is its recipient;
    /// - the batch is not recalled.
    /// @param batchId The batch.
    function acceptHandoff(bytes32 batchId) external;

    /// @notice Reject the pending handoff of a batch; custody stays with the sender.
    /// @dev Requirements:
    /// - a handoff is pending and the caller is its recipient.
    /// @param batchId The batch.
    /// @param reason Hash or code of the reason.
    function rejectHandoff(bytes32 batchId, bytes32 reason) external;

    /// @notice Withdraw the pending handoff of a batch before it is accepted.
    /// @dev Requirements:
    /// - a handoff is pending and the caller is the custodian who initiated it.
    /// @param batchId The batch.
    function cancelHandoff(bytes32 batchId) external;

    /// @notice Initiate one handoff per batch, all from the caller to `to` with the same details.
    /// @dev Requirements: as `initiateHandoff` for every batch; `batchIds` non-empty.
    /// @param batchIds The batches.
    /// @param to The recipient.
    /// @param location GLN of the handoff.
    /// @param bizStep CBV business step code.
    /// @param disposition CBV disposition code.
    /// @param transferOwnership Whether ownership moves on acceptance.
    /// @param document Hash of the accompanying document.
    function initiateHandoffs(
        bytes32[] calldata batchIds,
        address to,
        uint64 location,
        uint8 bizStep,
        uint8 disposition,
        bool transferOwnership,
        bytes32 document
    ) external;

    /// @notice Accept the pending handoffs of several batches.
    /// @dev Requirements: as `acceptHandoff` for every batch; `batchIds` non-empty.
    /// @param batchIds The batches.
    function acceptHandoffs(bytes32[] calldata batchIds) external;

    /// @notice Initiate and accept a handoff in one transaction with EIP-712 consent of both parties.
    /// @dev Emits `HandoffInitiated` then `HandoffAccepted`. Requirements:
    /// - as `initiateHandoff`, except that the caller may be anyone;
    /// - each party that is not `msg.sender` (or that passes a non-empty signature) signed the
    ///   `Handoff` typed data with its current nonce, before the deadline, with a low-s signature
    ///   over this chain id and this contract; each verified nonce is consumed;
    /// - the batch is not recalled and the recipient is active.
    /// @param h The handoff.
    /// @param sender `h.from`'s authorization.
    /// @param receiver `h.to`'s authorization.
    function recordHandoff(Handoff calldata h, Authorization calldata sender, Authorization calldata receiver)
        external;

    // ---------------------------------------------------------------- lineage

    /// @notice Split a batch into children with new lots; the parent is consumed.
    /// @dev Requirements:
    /// - caller is active and the custodian; the parent is ACTIVE, not recalled, no pending handoff;
    /// - `parts` non-empty, each lot valid and each child id new, each quantity > 0;
    /// - sum of part quantities + `loss` == parent quantity.
    /// @param parentId The parent.
    /// @param parts The children's lots and quantities.
    /// @param loss Quantity lost in the operation.
    /// @param document Hash of the accompanying document.
    /// @return childIds The children's ids, in `parts` order.
    function splitBatch(bytes32 parentId, Part[] calldata parts, uint48 loss, bytes32 document)
        external
        returns (bytes32[] memory childIds);

    /// @notice Merge batches of one GTIN, uom and owner into a new batch; the parents are consumed.
    /// @dev Requirements:
    /// - caller is active and custodian of every parent; parents ACTIVE, not recalled, no pending
    ///   handoff, distinct, at least two, same GTIN, uom and owner;
    /// - the child id is new; child quantity = sum - `loss` > 0 and fits uint48.
    /// @param parentIds The parents.
    /// @param lot The child's lot.
    /// @param loss Quantity lost in the operation.
    /// @param document Hash of the accompanying document.
    /// @return childId The child's id.
    function mergeBatches(bytes32[] calldata parentIds, bytes32 lot, uint48 loss, bytes32 document)
        external
        returns (bytes32 childId);

    /// @notice Consume inputs whole and create outputs (new GTINs allowed) owned by the inputs' owner.
    /// @dev Requirements:
    /// - caller is an active PROCESSOR or PRODUCER and custodian of every input;
    /// - inputs ACTIVE, not recalled, no pending handoff, distinct, non-empty, one common owner;
    /// - outputs non-empty, each with a valid GTIN and lot, quantity > 0, uom non-empty, new id.
    /// @param inputIds The inputs.
    /// @param outputs The outputs.
    /// @param document Hash of the accompanying document.
    /// @return outputIds The outputs' ids, in `outputs` order.
    function transformBatches(bytes32[] calldata inputIds, Output[] calldata outputs, bytes32 document)
        external
        returns (bytes32[] memory outputIds);

    /// @notice The direct parents of a batch (none for a commissioned batch).
    /// @param batchId The batch.
    /// @return parents The parent ids.
    function parentsOf(bytes32 batchId) external view returns (bytes32[] memory parents);

    // ----------------------------------------------------------- attestations

    /// @notice Issue an attestation about a batch or an account.
    /// @dev Requirements:
    /// - caller is an active CERTIFIER; `validFrom <= validUntil`;
    /// - no attestation with the same (subject, claim, issuer, evidence) exists.
    /// @param subject A batch id or `bytes32(uint256(uint160(account)))`.
    /// @param claim The claim type.
    /// @param evidence Hash of the evidence.
    /// @param validFrom First valid timestamp.
    /// @param validUntil Last valid timestamp.
    /// @return attestationId `keccak256(abi.encode(subject, claim, msg.sender, evidence))`.
    function attest(bytes32 subject, bytes32 claim, bytes32 evidence, uint64 validFrom, uint64 validUntil)
        external
        returns (bytes32 attestationId);

    /// @notice Revoke one of the caller's attestations from now on.
    /// @dev Requirements:
    /// - the caller issued the attestation and it is not revoked yet.
    /// @param subject The subject.
    /// @param claim The claim type.
    /// @param evidence The evidence hash.
    /// @param reason Hash or code of the reason.
    function revokeAttestation(bytes32 subject, bytes32 claim, bytes32 evidence, bytes32 reason) external;

    /// @notice Whether an attestation exists, covers `at` and was not revoked at or before `at`.
    /// @param subject The subject.
    /// @param claim The claim type.
    /// @param issuer The certifier.
    /// @param evidence The evidence hash.
    /// @param at The timestamp asked about.
    /// @return valid True if valid at `at`.
    function isAttestationValid(bytes32 subject, bytes32 claim, address issuer, bytes32 evidence, uint64 at)
        external
        view
        returns (bool valid);

    // ---------------------------------------------------------------- recalls

    /// @notice Recall a batch (also a consumed one; descendants are found from events).
    /// @dev Requirements:
    /// - caller is the batch's creator or has DEFAULT_ADMIN_ROLE;
    /// - the batch exists and is not already recalled.
    /// @param batchId The batch.
    /// @param reason Hash or code of the reason.
    function recallBatch(bytes32 batchId, bytes32 reason) external;

    // ------------------------------------------------------------- settlement

    /// @notice Claim the current custody of a batch by `recipient` as one agreement's delivery; the
    /// recipient becomes the batch's owner (title passes with a paid delivery).
    /// @dev Requirements:
    /// - caller has SETTLER_ROLE;
    /// - the batch is ACTIVE, not recalled, no pending handoff, custodian is `recipient`;
    /// - this custody was not claimed before (the mark is cleared on every custody change).
    /// @param batchId The batch.
    /// @param recipient The expected custodian.
    /// @return gtin The batch's GTIN.
    /// @return quantity The batch's quantity.
    /// @return uom The batch's unit of measure.
    function claimDelivery(bytes32 batchId, address recipient)
        external
        returns (uint256 gtin, uint256 quantity, bytes3 uom);

    // ------------------------------------------------------------------ views

    /// @notice A batch's current state (all zero for an unknown id).
    /// @param batchId The batch.
    /// @return info The batch.
    function getBatch(bytes32 batchId) external view returns (BatchInfo memory info);

    /// @notice A participant's registration (all zero if not registered).
    /// @param account The participant.
    /// @return info The registration.
    function getParticipant(address account) external view returns (ParticipantInfo memory info);

    /// @notice The address of participant `id` (zero if none).
    /// @param id The participant id.
    /// @return account Its address.
    function participantAt(uint32 id) external view returns (address account);

    /// @notice The current EIP-712 nonce of `owner` (the one its next signature must use).
    /// @param owner The signer.
    /// @return nonce The current nonce.
    function nonces(address owner) external view returns (uint256 nonce);

    /// @notice The EIP-712 domain separator (name `ProvenanceRegistry`, version `1`).
    /// @return separator The domain separator.
    // solhint-disable-next-line func-name-mixedcase
    function DOMAIN_SEPARATOR() external view returns (bytes32 separator);

    /// @notice The batch id of a GTIN and lot.
    /// @param gtin The GTIN.
    /// @param lot The lot.
    /// @return batchId `keccak256(abi.encode(gtin, lot))`.
    function batchIdOf(uint256 gtin, bytes32 lot) external pure returns (bytes32 batchId);
}
