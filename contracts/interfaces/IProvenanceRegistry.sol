// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {BatchState} from "../types/BatchWord.sol";

/// @title IProvenanceRegistry
/// @notice Custody, title, lineage, attestations and recalls of GS1-identified batches, and the custody
/// side of escrowed deliveries (see docs/design.md).
/// @dev Properties every implementation keeps (each is a Foundry invariant in tests/foundry/):
/// - Custody: every Active batch has one custodian and one owner, both registered participants; only
///   the custodian initiates a handoff (the owner initiates a tender, see below), only the named
///   recipient accepts or rejects it, at most one handoff is pending per batch.
/// - Title: the owner changes only by an owner's handoff with `transferOwnership`, by the completion
///   of a bound delivery, or by `transferTitle` from the settlement contract.
/// - Acting parties are registered and active, except that cancel and reject (which undo a pending
///   handoff) only need registration. A suspended participant never receives custody or title by its
///   own act.
/// - Brands own their GTINs: a batch is commissioned (`createBatch`, `createBatches`, transform
///   outputs) only by the holder of the GS1 company prefix of its GTIN, an active participant. Prefixes
///   are prefix-free (no assigned prefix starts another). Restricted-circulation and coupon numbers
///   (GTIN-13 starting 02, 04, 05, 20-29, 98, 99) are refused; a GTIN-8 is assigned explicitly as a
///   12-digit prefix (`00000` + its first 7 digits) and never by a shorter one.
/// - Lots: splits and merges create lots that extend the (first) parent's lot, so nobody can claim a
///   lot outside the lots it holds; lots are 1-20 characters of the GS1 AI encodable set.
/// - Quantity is conserved: split parts + loss == parent quantity; merge child == sum of parents -
///   loss; transform consumes its inputs whole.
/// - Recall reaches descendants with bounded cost: every derived batch carries the lineage numbers of
///   all its ancestors (at most `MAX_LINEAGE` = 15; an operation whose output would carry more is
///   refused). No handoff, acceptance, consumption, tender or completion happens to a batch that is
///   recalled or has a recalled ancestor. The recall right belongs to the batch's origin (the producer
///   that created it, the transformer for its outputs; splits and merges keep it) while that
///   participant is active, and to the operator. Only the operator lifts a recall.
/// - Bound deliveries (tenders) are driven only by the settlement contract fixed at deployment: a bound
///   batch is owned by the agreement's supplier, moves only to carriers or to its buyer, is never
///   consumed, and only the buyer's acceptance through the settlement contract completes it.
/// - Each (signer, nonce) authorises at most one handoff; signatures for another chain id, another
///   contract, past their deadline, malleable (high s) or by a contract that does not approve them
///   (EIP-1271) are rejected.
/// - No state-changing function loops over a user-growable storage array (loops run over calldata or
///   over the fixed-size lineage set and prefix lengths).
/// The event log is the provenance record: a batch's history is every log with its id as topic 1.
interface IProvenanceRegistry {
    // ------------------------------------------------------------------ types

    /// @notice How a batch was consumed.
    enum OperationKind {
        None,
        Split,
        Merge,
        Transform
    }

    /// @notice One custody transfer, as initiated, recorded or signed (EIP-712 type `Handoff`).
    /// @param batchId The batch handed off.
    /// @param from The current custodian.
    /// @param to The recipient, a registered active participant.
    /// @param location GLN of the place of handoff, 0 = not given.
    /// @param bizStep CBV business step code (`provenance.cbv`), 0 = not given.
    /// @param disposition CBV disposition code (`provenance.cbv`), 0 = not given.
    /// @param transferOwnership Whether title moves to `to` together with custody.
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

    /// @notice The place, CBV codes and document of a tender (the handoff that starts a bound delivery).
    /// @param location GLN of the place of handoff, 0 = not given.
    /// @param bizStep CBV business step code, 0 = not given.
    /// @param disposition CBV disposition code, 0 = not given.
    /// @param document Hash of the accompanying document.
    struct Leg {
        uint64 location;
        uint8 bizStep;
        uint8 disposition;
        bytes32 document;
    }

    /// @notice A party's EIP-712 consent to a `Handoff`.
    /// @param nonce The signer's current nonce (`nonces(signer)`).
    /// @param deadline Last timestamp at which the signature is valid.
    /// @param signature An ECDSA `r || s || v` signature, or what the signer contract's EIP-1271
    /// `isValidSignature` accepts; empty when the party is `msg.sender`.
    struct Authorization {
        uint256 nonce;
        uint256 deadline;
        bytes signature;
    }

    /// @notice A batch to commission, for `createBatches`.
    /// @param gtin The GTIN-14 as a number.
    /// @param lot The lot (GS1 AI 10, left-aligned ASCII).
    /// @param quantity The quantity.
    /// @param uom The UN/ECE Rec 20 unit of measure.
    /// @param document Hash of the accompanying document (e.g. an EPCIS event hash).
    struct NewBatch {
        uint256 gtin;
        bytes32 lot;
        uint48 quantity;
        bytes3 uom;
        bytes32 document;
    }

    /// @notice One child of a split.
    /// @param lot The child's lot: the parent's lot followed by at least one character.
    /// @param quantity The child's quantity, in the parent's unit of measure.
    struct Part {
        bytes32 lot;
        uint48 quantity;
    }

    /// @notice One output of a transformation.
    /// @param gtin The output's GTIN-14, under a company prefix the caller holds.
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
    /// @param owner Who holds title.
    /// @param pendingTo Recipient of the pending handoff, zero if none.
    /// @param origin Who holds the recall right (the creator, or the transformer of an output).
    /// @param boundTo The buyer of the bound delivery in progress, zero if none.
    /// @param state The lifecycle state.
    /// @param recalled The batch itself is recalled.
    /// @param lineageRecalled An ancestor is recalled.
    /// @param tenderLeg The pending handoff is the tender of a bound delivery.
    /// @param pendingOwnership The pending handoff also transfers title (asked for by the owner, or the
    /// leg of a bound delivery to its buyer).
    /// @param gtin The batch's GTIN.
    /// @param quantity The batch's quantity.
    /// @param uom The batch's unit of measure.
    /// @param lineageNumber The number the batch's descendants carry (set once it is consumed).
    /// @param ancestors How many ancestors the batch carries in its lineage set.
    struct BatchInfo {
        address custodian;
        address owner;
        address pendingTo;
        address origin;
        address boundTo;
        BatchState state;
        bool recalled;
        bool lineageRecalled;
        bool tenderLeg;
        bool pendingOwnership;
        uint256 gtin;
        uint256 quantity;
        bytes3 uom;
        uint32 lineageNumber;
        uint8 ancestors;
    }

    /// @notice A participant's registration.
    /// @param id The participant's on-chain id (1, 2, ...), 0 if not registered.
    /// @param roles Role bitmask (PRODUCER 1, PROCESSOR 2, CARRIER 4, DISTRIBUTOR 8, RETAILER 16, CERTIFIER 32).
    /// @param active False while suspended.
    /// @param gln The participant's GLN, 0 = not given.
    struct ParticipantInfo {
        uint24 id;
        uint8 roles;
        bool active;
        uint64 gln;
    }

    // ----------------------------------------------------------------- errors

    /// @notice An address argument is the zero address.
    error RegistryZeroAddress();
    /// @notice `account` is already registered.
    error RegistryParticipantExists(address account);
    /// @notice `account` is not registered.
    error RegistryUnknownParticipant(address account);
    /// @notice `account` is suspended.
    error RegistryParticipantInactive(address account);
    /// @notice `account` is already active.
    error RegistryParticipantActive(address account);
    /// @notice The registry holds the most participants its ids can number (2^24 - 1).
    error RegistryParticipantLimit();
    /// @notice `roles` is zero or has bits outside the six defined roles.
    error RegistryInvalidRoles(uint8 roles);
    /// @notice `gln` has more than 13 digits.
    error RegistryInvalidGln(uint64 gln);
    /// @notice `account` lacks every role in `roles`.
    error RegistryMissingRole(address account, uint8 roles);
    /// @notice A company prefix is not 4-12 digits, is restricted-circulation or coupon space, or is a
    /// GTIN-8 space prefix shorter than 12 digits.
    error RegistryInvalidPrefix(uint64 prefix, uint8 length);
    /// @notice The prefix, a prefix of it or an extension of it is already assigned.
    error RegistryPrefixOverlap(uint64 prefix, uint8 length);
    /// @notice The prefix is not assigned.
    error RegistryPrefixNotAssigned(uint64 prefix, uint8 length);
    /// @notice No assigned company prefix covers `gtin`, or `account` is not its holder.
    error RegistryNotPrefixHolder(uint256 gtin, address account);
    /// @notice `gtin` is zero, has more than 14 digits or a wrong GS1 check digit.
    error RegistryInvalidGtin(uint256 gtin);
    /// @notice `lot` is empty, not left-aligned, longer than 20 bytes or outside the GS1 AI encodable set.
    error RegistryInvalidLot(bytes32 lot);
    /// @notice A derived lot does not extend its parent's lot `parentLot`.
    error RegistryLotNotExtended(bytes32 parentLot, bytes32 lot);
    /// @notice `lot` is not the lot of `batchId` (the id is `keccak256(abi.encode(gtin, lot))`).
    error RegistryLotMismatch(bytes32 batchId, bytes32 lot);
    /// @notice A quantity is zero.
    error RegistryZeroQuantity();
    /// @notice `uom` is not 2-3 characters A-Z, 0-9, left-aligned.
    error RegistryInvalidUom(bytes3 uom);
    /// @notice A batch with this id already exists.
    error RegistryBatchExists(bytes32 batchId);
    /// @notice No batch has this id.
    error RegistryUnknownBatch(bytes32 batchId);
    /// @notice The batch is not Active (it was consumed).
    error RegistryBatchNotActive(bytes32 batchId, BatchState state);
    /// @notice The batch is recalled.
    error RegistryBatchRecalled(bytes32 batchId);
    /// @notice The batch is not recalled.
    error RegistryBatchNotRecalled(bytes32 batchId);
    /// @notice An ancestor of the batch, with lineage number `lineageNumber`, is recalled.
    error RegistryAncestorRecalled(bytes32 batchId, uint32 lineageNumber);
    /// @notice The batch's output would carry more than `max` ancestors.
    error RegistryLineageTooLarge(uint256 max);
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
    /// @notice The batch is bound to a delivery for `buyer`; it moves only to carriers or the buyer,
    /// without title, and the buyer accepts it through the settlement contract.
    error RegistryBoundDelivery(bytes32 batchId, address buyer);
    /// @notice The batch is not bound to a delivery for `buyer`.
    error RegistryNotBound(bytes32 batchId, address buyer);
    /// @notice The pending handoff is a tender: only the settlement contract withdraws it.
    error RegistryTenderPending(bytes32 batchId);
    /// @notice Only the settlement contract fixed at deployment may call this.
    error RegistryNotSettlement(address caller);
    /// @notice The authorization's deadline has passed.
    error RegistrySignatureExpired(address signer, uint256 deadline);
    /// @notice The authorization's nonce is not the signer's current nonce.
    error RegistryInvalidNonce(address signer, uint256 expected, uint256 given);
    /// @notice The signature is malformed, malleable (high s) or not `signer`'s approval of this handoff.
    error RegistryInvalidSignature(address signer);
    /// @notice An input list is empty or too short (`count` items).
    error RegistryInvalidInputCount(uint256 count);
    /// @notice Parts plus loss do not add up to the parent's quantity, or the result does not fit.
    error RegistryQuantityMismatch(uint256 expected, uint256 actual);
    /// @notice Merge inputs differ in GTIN, unit, owner or origin, or transform inputs in owner.
    error RegistryIncompatibleBatches(bytes32 first, bytes32 other);
    /// @notice `validUntil` is before `validFrom`.
    error RegistryInvalidValidity(uint64 validFrom, uint64 validUntil);
    /// @notice An attestation with this id already exists.
    error RegistryAttestationExists(bytes32 attestationId);
    /// @notice No attestation with this id exists.
    error RegistryUnknownAttestation(bytes32 attestationId);
    /// @notice `caller` is not the participant that issued the attestation.
    error RegistryNotIssuer(bytes32 attestationId, address caller);
    /// @notice The attestation was already revoked.
    error RegistryAttestationRevoked(bytes32 attestationId);
    /// @notice `caller` may not recall the batch: it is neither its active origin nor the operator.
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
        address indexed account, uint24 indexed id, uint8 roles, uint64 gln, bytes32 metadataHash, uint64 at
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
    /// @notice The operator moved a participant (its id, roles, prefixes, batches) to a new key.
    /// @param from The old address, no longer registered.
    /// @param to The new address.
    /// @param id The participant id, unchanged.
    /// @param reason Hash or code of the reason.
    /// @param at Block timestamp.
    event ParticipantMigrated(address indexed from, address indexed to, uint24 indexed id, bytes32 reason, uint64 at);
    /// @notice A GS1 company prefix was assigned.
    /// @param account The holder.
    /// @param prefix The prefix digits as a number.
    /// @param length The number of digits (leading zeros count).
    /// @param at Block timestamp.
    event PrefixAssigned(address indexed account, uint64 prefix, uint8 length, uint64 at);
    /// @notice A GS1 company prefix was revoked; batches already commissioned under it are unaffected.
    /// @param account The former holder.
    /// @param prefix The prefix digits as a number.
    /// @param length The number of digits.
    /// @param at Block timestamp.
    event PrefixRevoked(address indexed account, uint64 prefix, uint8 length, uint64 at);
    /// @notice A batch was created (commissioned, or produced by a merge or transform).
    /// @param batchId The batch.
    /// @param creator Who created it (for a merge output: the merger; the recall right is `getBatch().origin`).
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
    /// @notice A handoff was initiated. A tender (the start of a bound delivery) is initiated by the
    /// settlement contract on the supplier's behalf, in the transaction of the agreement's
    /// `DeliveryTendered`; from then on the batch is bound until its buyer accepts it (custody and
    /// title pass, the agreement settles), it is released (`DeliveryReleased`) or title is transferred
    /// (`TitleTransferred`).
    /// @param batchId The batch.
    /// @param from The custodian.
    /// @param to The recipient.
    /// @param location GLN of the handoff.
    /// @param bizStep CBV business step code.
    /// @param disposition CBV disposition code.
    /// @param transferOwnership Whether title moves to `to` on acceptance: asked for by the owner, or the
    /// leg of a bound delivery that ends at its buyer.
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
    /// @param document Hash of the receiving document (e.g. a receiving advice).
    /// @param at Block timestamp.
    event HandoffAccepted(bytes32 indexed batchId, address indexed from, address indexed to, bytes32 document, uint64 at);
    /// @notice The recipient rejected a handoff.
    /// @param batchId The batch.
    /// @param from The custodian.
    /// @param to The recipient who rejected.
    /// @param reason Hash or code of the reason.
    /// @param document Hash of the accompanying document.
    /// @param at Block timestamp.
    event HandoffRejected(
        bytes32 indexed batchId, address indexed from, address indexed to, bytes32 reason, bytes32 document, uint64 at
    );
    /// @notice A pending handoff was withdrawn (by its sender, or because its delivery was released).
    /// @param batchId The batch.
    /// @param from The custodian.
    /// @param to The recipient.
    /// @param document Hash of the accompanying document.
    /// @param at Block timestamp.
    event HandoffCancelled(bytes32 indexed batchId, address indexed from, address indexed to, bytes32 document, uint64 at);
    /// @notice A bound delivery ended without completion (withdrawn, rejected, or resolved without
    /// delivery); title stayed with the supplier.
    /// @param batchId The batch.
    /// @param agreementId The agreement.
    /// @param at Block timestamp.
    event DeliveryReleased(bytes32 indexed batchId, uint256 indexed agreementId, uint64 at);
    /// @notice The settlement contract passed title to the buyer after an arbiter's award or default.
    /// @param batchId The batch.
    /// @param agreementId The agreement.
    /// @param from The previous owner (the supplier).
    /// @param to The buyer.
    /// @param at Block timestamp.
    event TitleTransferred(
        bytes32 indexed batchId, uint256 indexed agreementId, address indexed from, address to, uint64 at
    );
    /// @notice A batch was consumed by a split, merge or transform.
    /// @dev For merge the operation's loss is carried by the first input's event, the others carry 0.
    /// @param batchId The consumed batch.
    /// @param by The custodian who consumed it.
    /// @param kind The operation.
    /// @param loss Quantity lost in the operation.
    /// @param document Hash of the accompanying document.
    /// @param at Block timestamp.
    event BatchConsumed(
        bytes32 indexed batchId, address indexed by, OperationKind kind, uint256 loss, bytes32 document, uint64 at
    );
    /// @notice A split produced a child (GTIN, uom, custodian, owner and origin from the parent).
    /// @param childId The child.
    /// @param parentId The parent.
    /// @param lot The child's lot.
    /// @param quantity The child's quantity.
    event BatchSplit(bytes32 indexed childId, bytes32 indexed parentId, bytes32 lot, uint256 quantity);
    /// @notice One (output, input) edge of a merge or transform.
    /// @param childId The output.
    /// @param parentId The input.
    /// @param kind Merge or Transform.
    event BatchDerived(bytes32 indexed childId, bytes32 indexed parentId, OperationKind kind);
    /// @notice A batch was recalled; every descendant is frozen with it.
    /// @param batchId The batch.
    /// @param by Its origin or the operator.
    /// @param reason Hash or code of the reason.
    /// @param document Hash of the recall notice.
    /// @param at Block timestamp.
    event BatchRecalled(bytes32 indexed batchId, address indexed by, bytes32 reason, bytes32 document, uint64 at);
    /// @notice The operator lifted a recall (a mistaken one).
    /// @param batchId The batch.
    /// @param by The operator.
    /// @param reason Hash or code of the reason.
    /// @param document Hash of the accompanying document.
    /// @param at Block timestamp.
    event RecallLifted(bytes32 indexed batchId, address indexed by, bytes32 reason, bytes32 document, uint64 at);
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
    /// @param issuer The address that issued it.
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
    /// @notice An account used up its current EIP-712 nonce, invalidating every consent signed with it.
    /// @param account The signer.
    /// @param nonce The nonce used.
    event NonceInvalidated(address indexed account, uint256 nonce);

    // ----------------------------------------------------------- participants

    /// @notice Register `account` as a participant with the next id.
    /// @dev Requirements:
    /// - caller is the operator (DEFAULT_ADMIN_ROLE);
    /// - `account` is non-zero and not registered; fewer than 2^24 - 1 participants exist;
    /// - `roles` is non-zero and within the six roles; `gln` has at most 13 digits.
    /// @param account The participant's address.
    /// @param roles Role bitmask.
    /// @param gln GLN, 0 = not given.
    /// @param metadataHash Hash of the off-chain profile (emitted only).
    function registerParticipant(address account, uint8 roles, uint64 gln, bytes32 metadataHash) external;

    /// @notice Change a participant's roles, GLN or profile.
    /// @dev Requirements:
    /// - caller is the operator; `account` is registered;
    /// - `roles` and `gln` valid as in `registerParticipant`.
    /// @param account The participant.
    /// @param roles New role bitmask.
    /// @param gln New GLN.
    /// @param metadataHash New profile hash.
    function updateParticipant(address account, uint8 roles, uint64 gln, bytes32 metadataHash) external;

    /// @notice Suspend a participant: it can no longer act, receive custody or title by its own act,
    /// attest, revoke or recall.
    /// @dev Requirements:
    /// - caller is the operator; `account` is registered and active.
    /// @param account The participant.
    /// @param reason Hash or code of the reason.
    function suspendParticipant(address account, bytes32 reason) external;

    /// @notice Reinstate a suspended participant.
    /// @dev Requirements:
    /// - caller is the operator; `account` is registered and suspended.
    /// @param account The participant.
    function reinstateParticipant(address account) external;

    /// @notice Move a participant to a new key (a lost or compromised key): its id, roles, GLN, status,
    /// prefixes, custody, title and recall rights follow. Agreements name addresses and are unchanged.
    /// @dev Requirements:
    /// - caller is the operator; `from` is registered; `to` is non-zero and not registered.
    /// @param from The current address.
    /// @param to The new address.
    /// @param reason Hash or code of the reason.
    function migrateParticipant(address from, address to, bytes32 reason) external;

    /// @notice Assign a GS1 company prefix: from now on only `account` commissions GTINs under it.
    /// @dev The prefix is matched against the GTIN-13 form of a GTIN (the GTIN-14 without its indicator
    /// digit). Requirements:
    /// - caller is the operator; `account` is registered;
    /// - `length` is 4-12 and `prefix < 10^length`;
    /// - the prefix does not start with 02, 04, 05, 20-29, 98 or 99 (restricted circulation, coupons);
    ///   a prefix starting with `00000` (GTIN-8 space) has 12 digits and its sixth digit is not 0 or 2;
    /// - no assigned prefix starts with it or is a start of it; at most 65,535 per length.
    /// @param account The holder.
    /// @param prefix The prefix digits as a number.
    /// @param length The number of digits, leading zeros included.
    function assignPrefix(address account, uint64 prefix, uint8 length) external;

    /// @notice Revoke a company prefix; batches already commissioned under it keep their origin.
    /// @dev Requirements:
    /// - caller is the operator; the prefix is assigned.
    /// @param prefix The prefix digits as a number.
    /// @param length The number of digits.
    function revokePrefix(uint64 prefix, uint8 length) external;

    // ---------------------------------------------------------------- batches

    /// @notice Commission a new batch; the caller becomes its origin, custodian and owner.
    /// @dev Requirements:
    /// - caller is an active PRODUCER and holds the company prefix of `gtin`;
    /// - `gtin` is a valid GTIN (GS1 mod-10 check digit), `lot` valid, `quantity` > 0, `uom` valid;
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

    /// @notice Commission several batches in one transaction, each with its own document.
    /// @dev Requirements: as `createBatch` for every entry; `batches` non-empty.
    /// @param batches The batches.
    /// @return batchIds Their ids, in order.
    function createBatches(NewBatch[] calldata batches) external returns (bytes32[] memory batchIds);

    /// @notice Offer custody of a batch to `h.to`; it moves when `h.to` accepts.
    /// @dev Requirements:
    /// - caller is `h.from`, active, and the custodian (and the owner if `h.transferOwnership`);
    /// - the batch is Active, neither it nor an ancestor recalled, with no pending handoff;
    /// - `h.to` is registered, active and not `h.from`;
    /// - a bound batch goes only to its buyer or to a CARRIER, and without title.
    /// @param h The handoff.
    function initiateHandoff(Handoff calldata h) external;

    /// @notice Initiate one handoff per batch, all from the caller to `to` with the same details.
    /// @dev Requirements: as `initiateHandoff` for every batch; `batchIds` non-empty.
    /// @param batchIds The batches.
    /// @param to The recipient.
    /// @param location GLN of the handoff.
    /// @param bizStep CBV business step code.
    /// @param disposition CBV disposition code.
    /// @param transferOwnership Whether title moves on acceptance.
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

    /// @notice Accept the pending handoff of a batch: the caller becomes custodian (and owner).
    /// @dev Requirements:
    /// - a handoff is pending and the caller, active, is its recipient;
    /// - neither the batch nor an ancestor is recalled;
    /// - the caller is not the buyer of a bound delivery (the buyer accepts through the settlement
    ///   contract, which settles the agreement in the same transaction).
    /// @param batchId The batch.
    /// @param document Hash of the receiving document.
    function acceptHandoff(bytes32 batchId, bytes32 document) external;

    /// @notice Accept the pending handoffs of several batches.
    /// @dev Requirements: as `acceptHandoff` for every batch; `batchIds` non-empty.
    /// @param batchIds The batches.
    /// @param document Hash of the receiving document.
    function acceptHandoffs(bytes32[] calldata batchIds, bytes32 document) external;

    /// @notice Reject the pending handoff of a batch; custody stays with the sender.
    /// @dev Requirements:
    /// - a handoff is pending and the caller is its recipient; it is not a tender (a buyer rejects a
    ///   tender through the settlement contract).
    /// @param batchId The batch.
    /// @param reason Hash or code of the reason.
    /// @param document Hash of the accompanying document.
    function rejectHandoff(bytes32 batchId, bytes32 reason, bytes32 document) external;

    /// @notice Withdraw the pending handoff of a batch before it is accepted.
    /// @dev Requirements:
    /// - a handoff is pending, it is not a tender, and the caller is the custodian.
    /// @param batchId The batch.
    /// @param document Hash of the accompanying document.
    function cancelHandoff(bytes32 batchId, bytes32 document) external;

    /// @notice Initiate and accept a handoff in one transaction with EIP-712 consent of both parties.
    /// @dev Emits `HandoffInitiated` then `HandoffAccepted`. Requirements:
    /// - as `initiateHandoff` and `acceptHandoff`, except that the caller may be anyone;
    /// - each party that is not `msg.sender` (or that passes a non-empty signature) approved the
    ///   `Handoff` typed data with its current nonce, before the deadline, over this chain id and this
    ///   contract (domain `ProvenanceRegistry`, version `2`): a low-s ECDSA signature, or an EIP-1271
    ///   approval when the party is a contract; each verified nonce is consumed.
    /// @param h The handoff.
    /// @param sender `h.from`'s authorization.
    /// @param receiver `h.to`'s authorization.
    function recordHandoff(Handoff calldata h, Authorization calldata sender, Authorization calldata receiver)
        external;

    /// @notice Use up the caller's current EIP-712 nonce, invalidating every outstanding consent signed
    /// with it.
    /// @return nonce The nonce used.
    function useNonce() external returns (uint256 nonce);

    // ---------------------------------------------------------------- lineage

    /// @notice Split a batch into children whose lots extend its lot; the parent is consumed.
    /// @dev Requirements:
    /// - caller is active and the custodian; the parent is Active, not bound, no pending handoff,
    ///   neither it nor an ancestor recalled; `parentLot` is its lot;
    /// - `parts` non-empty, each lot valid, extending `parentLot` and new, each quantity > 0;
    /// - sum of part quantities + `loss` == parent quantity;
    /// - the children carry at most `MAX_LINEAGE` ancestors.
    /// @param parentId The parent.
    /// @param parentLot The parent's lot.
    /// @param parts The children's lots and quantities.
    /// @param loss Quantity lost in the operation.
    /// @param document Hash of the accompanying document.
    /// @return childIds The children's ids, in `parts` order.
    function splitBatch(bytes32 parentId, bytes32 parentLot, Part[] calldata parts, uint48 loss, bytes32 document)
        external
        returns (bytes32[] memory childIds);

    /// @notice Merge batches of one GTIN, unit, owner and origin into a new batch; the parents are consumed.
    /// @dev Requirements:
    /// - caller is active and custodian of every parent; parents Active, not bound, no pending
    ///   handoff, not recalled (nor their ancestors), distinct, at least two, same GTIN, uom, owner and
    ///   origin; `firstLot` is the first parent's lot and `lot` extends it;
    /// - the child id is new; child quantity = sum - `loss` > 0 and fits uint48;
    /// - the child carries at most `MAX_LINEAGE` ancestors.
    /// @param parentIds The parents.
    /// @param firstLot The first parent's lot.
    /// @param lot The child's lot.
    /// @param loss Quantity lost in the operation.
    /// @param document Hash of the accompanying document.
    /// @return childId The child's id.
    function mergeBatches(bytes32[] calldata parentIds, bytes32 firstLot, bytes32 lot, uint48 loss, bytes32 document)
        external
        returns (bytes32 childId);

    /// @notice Consume inputs whole and commission outputs owned by the inputs' owner; the caller
    /// becomes the outputs' origin.
    /// @dev Requirements:
    /// - caller is an active PROCESSOR or PRODUCER, custodian of every input, and holds the company
    ///   prefix of every output's GTIN;
    /// - inputs Active, not bound, no pending handoff, not recalled (nor their ancestors), distinct,
    ///   non-empty, one common owner;
    /// - outputs non-empty, each with a valid GTIN, lot and uom, quantity > 0, new id;
    /// - the outputs carry at most `MAX_LINEAGE` ancestors.
    /// @param inputIds The inputs.
    /// @param outputs The outputs.
    /// @param document Hash of the accompanying document.
    /// @return outputIds The outputs' ids, in `outputs` order.
    function transformBatches(bytes32[] calldata inputIds, Output[] calldata outputs, bytes32 document)
        external
        returns (bytes32[] memory outputIds);

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

    /// @notice Revoke an attestation from now on.
    /// @dev Requirements:
    /// - the attestation exists and is not revoked yet;
    /// - the caller, active, is the participant that issued it (`issuer`, or the key it migrated to).
    /// @param subject The subject.
    /// @param claim The claim type.
    /// @param issuer The address that issued it.
    /// @param evidence The evidence hash.
    /// @param reason Hash or code of the reason.
    function revokeAttestation(bytes32 subject, bytes32 claim, address issuer, bytes32 evidence, bytes32 reason)
        external;

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

    /// @notice Whether `attester` vouches for `claim` on `batchId` now: the attestation on `subject`
    /// (the batch itself or one of its ancestors) is valid now and the participant that issued it, under
    /// `attester` or the key it migrated to, is an active CERTIFIER.
    /// @param batchId The batch.
    /// @param subject The batch or an ancestor carrying the attestation.
    /// @param claim The claim type.
    /// @param attester The address that issued the attestation.
    /// @param evidence The evidence hash.
    /// @return valid True if the claim holds.
    function isClaimValidFor(bytes32 batchId, bytes32 subject, bytes32 claim, address attester, bytes32 evidence)
        external
        view
        returns (bool valid);

    // ---------------------------------------------------------------- recalls

    /// @notice Recall a batch: it and every descendant are frozen (also when the batch is consumed).
    /// @dev Requirements:
    /// - caller is the operator, or the batch's origin while active;
    /// - the batch exists and is not already recalled.
    /// @param batchId The batch.
    /// @param reason Hash or code of the reason.
    /// @param document Hash of the recall notice.
    function recallBatch(bytes32 batchId, bytes32 reason, bytes32 document) external;

    /// @notice Lift a mistaken recall.
    /// @dev Requirements:
    /// - caller is the operator; the batch is recalled.
    /// @param batchId The batch.
    /// @param reason Hash or code of the reason.
    /// @param document Hash of the accompanying document.
    function liftRecall(bytes32 batchId, bytes32 reason, bytes32 document) external;

    // ----------------------------------------------------- bound deliveries (settlement only)

    /// @notice Bind a batch to an agreement's delivery and initiate its tender to `to`.
    /// @dev Requirements:
    /// - caller is the settlement contract;
    /// - `supplier` is active and the owner; the custodian is the supplier or a CARRIER holding for it;
    /// - the batch is Active, not bound, no pending handoff, neither it nor an ancestor recalled;
    /// - `to` is active, not the custodian, and is `buyer` or a CARRIER; `buyer` is registered.
    /// @param batchId The batch.
    /// @param supplier The agreement's supplier.
    /// @param to The tender point: the buyer, or a carrier for the buyer.
    /// @param buyer The agreement's buyer, where the delivery ends.
    /// @param leg Place, CBV codes and document of the tender.
    /// @return gtin The batch's GTIN.
    /// @return quantity The batch's quantity.
    /// @return uom The batch's unit.
    function bindDelivery(
        bytes32 batchId,
        address supplier,
        address to,
        address buyer,
        Leg calldata leg
    ) external returns (uint256 gtin, uint256 quantity, bytes3 uom);

    /// @notice Complete a bound delivery on the buyer's acceptance: custody and title move to the buyer.
    /// @dev Emits `HandoffAccepted` (from the custodian to the buyer). Requirements:
    /// - caller is the settlement contract; the batch is bound to `buyer` and pending to it;
    /// - `buyer` is active; neither the batch nor an ancestor is recalled.
    /// @param batchId The batch.
    /// @param buyer The buyer.
    /// @param supplier The agreement's supplier, who tendered it (named as the sender in the event when
    /// it still holds the batch).
    /// @param document Hash of the receiving document.
    /// @return quantity The delivered quantity.
    function completeDelivery(bytes32 batchId, address buyer, address supplier, bytes32 document)
        external
        returns (uint256 quantity);

    /// @notice End a bound delivery without completion: the binding is cleared and a pending tender, or
    /// a pending handoff to the buyer, is withdrawn; title stays with the supplier.
    /// @dev Requirements:
    /// - caller is the settlement contract; the batch is bound.
    /// @param batchId The batch.
    /// @param agreementId The agreement (for the event).
    function releaseDelivery(bytes32 batchId, uint256 agreementId) external;

    /// @notice Pass title of a bound batch to its buyer after an arbiter's award or the default of an
    /// escalated delivery (also when the batch is recalled or the buyer suspended: a payment made is not
    /// undone by an operator action); a pending handoff stays pending, without title, so the buyer
    /// accepts custody when it collects.
    /// @dev Requirements:
    /// - caller is the settlement contract; the batch is bound.
    /// @param batchId The batch.
    /// @param agreementId The agreement (for the event).
    /// @return quantity The delivered quantity.
    function transferTitle(bytes32 batchId, uint256 agreementId) external returns (uint256 quantity);

    // ------------------------------------------------------------------ views

    /// @notice A batch's current state (all zero for an unknown id).
    /// @param batchId The batch.
    /// @return info The batch.
    function getBatch(bytes32 batchId) external view returns (BatchInfo memory info);

    /// @notice The lineage numbers of a batch's ancestors (empty for a commissioned batch).
    /// @param batchId The batch.
    /// @return numbers The ancestors' lineage numbers.
    function lineageOf(bytes32 batchId) external view returns (uint32[] memory numbers);

    /// @notice A participant's registration (all zero if not registered).
    /// @param account The participant.
    /// @return info The registration.
    function getParticipant(address account) external view returns (ParticipantInfo memory info);

    /// @notice The address of participant `id` (zero if none).
    /// @param id The participant id.
    /// @return account Its address.
    function participantAt(uint24 id) external view returns (address account);

    /// @notice Whether the batch or one of its ancestors is recalled.
    /// @param batchId The batch.
    /// @return recalled True if any recall reaches it.
    function isRecalled(bytes32 batchId) external view returns (bool recalled);

    /// @notice The holder of the company prefix that covers `gtin` (zero if none).
    /// @param gtin The GTIN.
    /// @return holder The holder.
    /// @return prefix The prefix digits.
    /// @return length The prefix length.
    function prefixOf(uint256 gtin) external view returns (address holder, uint64 prefix, uint8 length);

    /// @notice The settlement contract (SupplyAgreements), created with the registry and fixed.
    /// @return settlement_ Its address.
    function settlement() external view returns (address settlement_);

    /// @notice The current EIP-712 nonce of `owner` (the one its next signature must use).
    /// @param owner The signer.
    /// @return nonce The current nonce.
    function nonces(address owner) external view returns (uint256 nonce);

    /// @notice The EIP-712 domain separator (name `ProvenanceRegistry`, version `2`).
    /// @return separator The domain separator.
    // solhint-disable-next-line func-name-mixedcase
    function DOMAIN_SEPARATOR() external view returns (bytes32 separator);

    /// @notice The batch id of a GTIN and lot.
    /// @param gtin The GTIN.
    /// @param lot The lot.
    /// @return batchId `keccak256(abi.encode(gtin, lot))`.
    function batchIdOf(uint256 gtin, bytes32 lot) external pure returns (bytes32 batchId);
}
