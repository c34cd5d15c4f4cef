// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Test} from "./Test.sol";
import {ProvenanceRegistry} from "../../../contracts/ProvenanceRegistry.sol";
import {SupplyAgreements} from "../../../contracts/SupplyAgreements.sol";
import {IProvenanceRegistry} from "../../../contracts/interfaces/IProvenanceRegistry.sol";
import {ISupplyAgreements} from "../../../contracts/interfaces/ISupplyAgreements.sol";

/// @notice The deployment every contract test starts from: the registry (operator hand-over delay one
/// day) with its settlement contract, participants with roles, the farm's and the processor's GS1
/// company prefixes, and helpers for batches, agreement terms and EIP-712 signatures.
abstract contract Fixture is Test {
    // roles (IProvenanceRegistry.ParticipantInfo.roles)
    uint8 internal constant PRODUCER = 1;
    uint8 internal constant PROCESSOR = 2;
    uint8 internal constant CARRIER = 4;
    uint8 internal constant DISTRIBUTOR = 8;
    uint8 internal constant RETAILER = 16;
    uint8 internal constant CERTIFIER = 32;

    uint48 internal constant ADMIN_DELAY = 1 days;
    uint256 internal constant START = 1_700_000_000;

    // company prefixes: the farm's (7 digits) and the processor's (7 digits); the rival's own
    uint64 internal constant FARM_PREFIX = 4012345;
    uint64 internal constant PROCESSOR_PREFIX = 7612345;
    uint64 internal constant RIVAL_PREFIX = 8712345;
    uint8 internal constant PREFIX_LENGTH = 7;

    bytes3 internal constant KGM = "KGM";
    bytes32 internal constant ORGANIC = "ORGANIC";
    bytes32 internal constant EVIDENCE = keccak256("certificate.pdf");

    // signing keys of the parties (EIP-712 consent)
    uint256 internal constant FARM_KEY = 0xF0A1;
    uint256 internal constant PROCESSOR_KEY = 0xF0A2;
    uint256 internal constant CARRIER_KEY = 0xF0A3;
    uint256 internal constant BUYER_KEY = 0xF0A4;
    uint256 internal constant CERTIFIER_KEY = 0xF0A5;
    uint256 internal constant RIVAL_KEY = 0xF0A6;
    uint256 internal constant WAREHOUSE_KEY = 0xF0A7;
    uint256 internal constant BUYER2_KEY = 0xF0A8;

    ProvenanceRegistry internal registry;
    SupplyAgreements internal agreements;

    address internal operator = address(0x0E0E);
    address internal arbiter = address(0xA4B1);
    address internal stranger = address(0x5757);
    address internal farm;
    address internal processor;
    address internal carrier;
    address internal buyer;
    address internal certifier;
    address internal rival;
    address internal warehouse;
    address internal buyer2;

    uint256 internal farmGtin;
    uint256 internal farmGtin2;
    uint256 internal processorGtin;
    uint256 internal rivalGtin;

    function setUp() public virtual {
        vm.warp(START);
        farm = vm.addr(FARM_KEY);
        processor = vm.addr(PROCESSOR_KEY);
        carrier = vm.addr(CARRIER_KEY);
        buyer = vm.addr(BUYER_KEY);
        certifier = vm.addr(CERTIFIER_KEY);
        rival = vm.addr(RIVAL_KEY);
        warehouse = vm.addr(WAREHOUSE_KEY);
        buyer2 = vm.addr(BUYER2_KEY);
        vm.label(farm, "farm");
        vm.label(processor, "processor");
        vm.label(carrier, "carrier");
        vm.label(buyer, "buyer");
        vm.label(certifier, "certifier");
        vm.label(rival, "rival");
        vm.label(warehouse, "warehouse");
        vm.label(operator, "operator");

        registry = deployRegistry(ADMIN_DELAY, operator);
        agreements = SupplyAgreements(registry.settlement());
        vm.label(address(registry), "registry");
        vm.label(address(agreements), "agreements");

        vm.startPrank(operator);
        registry.registerParticipant(farm, PRODUCER, 0, "farm");
        registry.registerParticipant(processor, PROCESSOR, 0, "processor");
        registry.registerParticipant(carrier, CARRIER, 0, "carrier");
        registry.registerParticipant(buyer, RETAILER, 0, "buyer");
        registry.registerParticipant(certifier, CERTIFIER, 0, "certifier");
        registry.registerParticipant(rival, PRODUCER | CERTIFIER, 0, "rival");
        registry.registerParticipant(warehouse, DISTRIBUTOR, 0, "warehouse");
        registry.registerParticipant(buyer2, RETAILER, 0, "buyer2");
        registry.assignPrefix(farm, FARM_PREFIX, PREFIX_LENGTH);
        registry.assignPrefix(processor, PROCESSOR_PREFIX, PREFIX_LENGTH);
        registry.assignPrefix(rival, RIVAL_PREFIX, PREFIX_LENGTH);
        vm.stopPrank();

        farmGtin = gtinOf(FARM_PREFIX, PREFIX_LENGTH, 1);
        farmGtin2 = gtinOf(FARM_PREFIX, PREFIX_LENGTH, 2);
        processorGtin = gtinOf(PROCESSOR_PREFIX, PREFIX_LENGTH, 1);
        rivalGtin = gtinOf(RIVAL_PREFIX, PREFIX_LENGTH, 1);
    }

    /// @dev Deploys the registry from its artifact (forge links `Membership` and `Derivations`), so that
    /// test contracts do not embed its 44 kB of creation code.
    function deployRegistry(uint48 delay, address admin) internal returns (ProvenanceRegistry r) {
        r = ProvenanceRegistry(
            vm.deployCode("ProvenanceRegistry.sol:ProvenanceRegistry", abi.encode(delay, admin))
        );
    }

    // ------------------------------------------------------------------ GS1

    /// @dev The GS1 mod-10 check digit of the digits of `body` (from the right, weights 3, 1, 3, ...).
    function checkDigit(uint256 body) internal pure returns (uint256) {
        uint256 sum;
        for (uint256 i; i < 13; ++i) {
            uint256 digit = body % 10;
            sum += i % 2 == 0 ? digit * 3 : digit;
            body /= 10;
        }
        return (10 - (sum % 10)) % 10;
    }

    /// @dev A GTIN-14 (indicator 0) under a company prefix of `length` digits with item reference `item`.
    function gtinOf(uint64 prefix, uint8 length, uint256 item) internal pure returns (uint256) {
        uint256 body = uint256(prefix) * 10 ** (12 - length) + item;
        return body * 10 + checkDigit(body);
    }

    /// @dev The GTIN with its 13 data digits `body` and a correct check digit.
    function withCheck(uint256 body) internal pure returns (uint256) {
        return body * 10 + checkDigit(body);
    }

    // ---------------------------------------------------------------- batches

    function createBatch(address producer, uint256 gtin, bytes32 lot, uint48 quantity) internal returns (bytes32 id) {
        vm.prank(producer);
        id = registry.createBatch(gtin, lot, quantity, KGM, keccak256(abi.encode(lot)));
    }

    function handoff(bytes32 batchId, address from, address to, bool ownership)
        internal
        pure
        returns (IProvenanceRegistry.Handoff memory)
    {
        return IProvenanceRegistry.Handoff(batchId, from, to, 0, 0, 0, ownership, "despatch");
    }

    /// @dev `from` hands `batchId` to `to`, who accepts.
    function move(bytes32 batchId, address from, address to, bool ownership) internal {
        vm.prank(from);
        registry.initiateHandoff(handoff(batchId, from, to, ownership));
        vm.prank(to);
        registry.acceptHandoff(batchId, "received");
    }

    function split2(address by, bytes32 parentId, bytes32 parentLot, bytes32 lotA, uint48 qA, bytes32 lotB, uint48 qB)
        internal
        returns (bytes32[] memory ids)
    {
        IProvenanceRegistry.Part[] memory parts = new IProvenanceRegistry.Part[](2);
        parts[0] = IProvenanceRegistry.Part(lotA, qA);
        parts[1] = IProvenanceRegistry.Part(lotB, qB);
        vm.prank(by);
        ids = registry.splitBatch(parentId, parentLot, parts, 0, "split");
    }

    function split1(address by, bytes32 parentId, bytes32 parentLot, bytes32 lot, uint48 quantity)
        internal
        returns (bytes32 childId)
    {
        IProvenanceRegistry.Part[] memory parts = new IProvenanceRegistry.Part[](1);
        parts[0] = IProvenanceRegistry.Part(lot, quantity);
        vm.prank(by);
        childId = registry.splitBatch(parentId, parentLot, parts, 0, "split")[0];
    }

    function ids2(bytes32 a, bytes32 b) internal pure returns (bytes32[] memory ids) {
        ids = new bytes32[](2);
        ids[0] = a;
        ids[1] = b;
    }

    function ids1(bytes32 a) internal pure returns (bytes32[] memory ids) {
        ids = new bytes32[](1);
        ids[0] = a;
    }

    function output(uint256 gtin, bytes32 lot, uint48 quantity)
        internal
        pure
        returns (IProvenanceRegistry.Output[] memory outs)
    {
        outs = new IProvenanceRegistry.Output[](1);
        outs[0] = IProvenanceRegistry.Output(gtin, lot, quantity, KGM);
    }

    function info(bytes32 batchId) internal view returns (IProvenanceRegistry.BatchInfo memory) {
        return registry.getBatch(batchId);
    }

    function attestOrganic(bytes32 subject) internal {
        vm.prank(certifier);
        registry.attest(subject, ORGANIC, EVIDENCE, uint64(block.timestamp), uint64(block.timestamp + 365 days));
    }

    // ------------------------------------------------------------ agreements

    /// @dev 100 KGM of `gtin` for 10 ether, ±5 %, due in 10 days (+5 days grace), 2 days to inspect,
    /// 7 days for the arbiter, 1 %/day late up to 10 %; no carrier, no required claims.
    function terms(address buyer_, address supplier_, uint256 gtin)
        internal
        view
        returns (ISupplyAgreements.Terms memory t)
    {
        t.buyer = buyer_;
        t.supplier = supplier_;
        t.arbiter = arbiter;
        t.gtin = gtin;
        t.quantity = 100;
        t.uom = KGM;
        t.toleranceBps = 500;
        t.price = 10 ether;
        t.deliveryDeadline = uint64(block.timestamp + 10 days);
        t.gracePeriod = 5 days;
        t.inspectionPeriod = 2 days;
        t.arbiterTimeout = 7 days;
        t.penaltyBpsPerDay = 100;
        t.penaltyCapBps = 1000;
        t.requiredClaims = new ISupplyAgreements.RequiredClaim[](0);
        t.document = keccak256("contract.pdf");
    }

    function withClaim(ISupplyAgreements.Terms memory t, bytes32 claim, address attester)
        internal
        pure
        returns (ISupplyAgreements.Terms memory)
    {
        t.requiredClaims = new ISupplyAgreements.RequiredClaim[](1);
        t.requiredClaims[0] = ISupplyAgreements.RequiredClaim(claim, attester);
        return t;
    }

    /// @dev Proposed by the buyer, accepted by the supplier.
    function agree(ISupplyAgreements.Terms memory t) internal returns (uint256 id) {
        vm.prank(t.buyer);
        id = agreements.propose(t);
        vm.prank(t.supplier);
        agreements.accept(id, t);
    }

    /// @dev Agreed and funded in ETH by the buyer.
    function funded(ISupplyAgreements.Terms memory t) internal returns (uint256 id) {
        id = agree(t);
        uint256 escrow = agreements.escrowOf(t);
        vm.deal(t.buyer, t.buyer.balance + escrow);
        vm.prank(t.buyer);
        agreements.fund{value: escrow}(id, t);
    }

    function leg() internal pure returns (IProvenanceRegistry.Leg memory) {
        return IProvenanceRegistry.Leg(0, 0, 0, "tender");
    }

    function noProofs() internal pure returns (ISupplyAgreements.ClaimProof[] memory) {
        return new ISupplyAgreements.ClaimProof[](0);
    }

    function proof(bytes32 subject) internal pure returns (ISupplyAgreements.ClaimProof[] memory p) {
        p = new ISupplyAgreements.ClaimProof[](1);
        p[0] = ISupplyAgreements.ClaimProof(subject, EVIDENCE);
    }

    function tender(uint256 id, ISupplyAgreements.Terms memory t, bytes32 batchId) internal {
        vm.prank(t.supplier);
        agreements.tender(id, t, batchId, leg(), noProofs());
    }

    function acceptDelivery(uint256 id, ISupplyAgreements.Terms memory t, bytes32 batchId) internal {
        vm.prank(t.buyer);
        agreements.acceptDelivery(id, t, batchId, "receiving advice");
    }

    function status(uint256 id) internal view returns (ISupplyAgreements.Status) {
        return agreements.statusOf(id);
    }

    // --------------------------------------------------------------- EIP-712

    function digest(bytes32 domainSeparator, bytes32 structHash) internal pure returns (bytes32) {
        return keccak256(abi.encodePacked("\x19\x01", domainSeparator, structHash));
    }

    function signature(uint256 key, bytes32 d) internal pure returns (bytes memory) {
        (uint8 v, bytes32 r, bytes32 s) = vm.sign(key, d);
        return abi.encodePacked(r, s, v);
    }

    function handoffDigest(IProvenanceRegistry.Handoff memory h, uint256 nonce, uint256 deadline)
        internal
        view
        returns (bytes32)
    {
        return digest(
            registry.DOMAIN_SEPARATOR(), keccak256(abi.encode(registry.HANDOFF_TYPEHASH(), h, nonce, deadline))
        );
    }

    function signHandoff(uint256 key, IProvenanceRegistry.Handoff memory h, uint256 nonce, uint256 deadline)
        internal
        view
        returns (IProvenanceRegistry.Authorization memory)
    {
        return IProvenanceRegistry.Authorization(nonce, deadline, signature(key, handoffDigest(h, nonce, deadline)));
    }

    function agreementDigest(bytes32 termsHash, uint256 nonce, uint256 deadline) internal view returns (bytes32) {
        bytes32 typeHash = keccak256("Agreement(bytes32 termsHash,uint256 nonce,uint256 deadline)");
        return digest(agreements.DOMAIN_SEPARATOR(), keccak256(abi.encode(typeHash, termsHash, nonce, deadline)));
    }

    function signAgreement(uint256 key, ISupplyAgreements.Terms memory t, uint256 nonce, uint256 deadline)
        internal
        view
        returns (ISupplyAgreements.Authorization memory)
    {
        bytes32 d = agreementDigest(keccak256(abi.encode(t)), nonce, deadline);
        return ISupplyAgreements.Authorization(nonce, deadline, signature(key, d));
    }

    function noAuth() internal pure returns (ISupplyAgreements.Authorization memory) {
        return ISupplyAgreements.Authorization(0, 0, "");
    }

    function noHandoffAuth() internal pure returns (IProvenanceRegistry.Authorization memory) {
        return IProvenanceRegistry.Authorization(0, 0, "");
    }
}
