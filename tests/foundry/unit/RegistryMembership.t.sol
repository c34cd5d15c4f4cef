// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Fixture} from "../utils/Fixture.sol";
import {IProvenanceRegistry} from "../../../contracts/interfaces/IProvenanceRegistry.sol";

/// @notice Operator actions (the `Membership` library through the registry): participants, key
/// migration, GS1 company prefixes, and the two-step operator hand-over.
contract RegistryMembershipTest is Fixture {
    bytes4 internal constant UNAUTHORIZED = bytes4(keccak256("AccessControlUnauthorizedAccount(address,bytes32)"));
    address internal newcomer = address(0xC0FFEE);

    function _unauthorized(address caller) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(UNAUTHORIZED, caller, bytes32(0));
    }

    // ------------------------------------------------------------ register

    function test_RegisterParticipant_AssignsNextIdAndEmits() public {
        vm.expectEmit(address(registry));
        emit IProvenanceRegistry.ParticipantRegistered(newcomer, 9, PRODUCER | CARRIER, 614141000012, "meta", uint64(block.timestamp));
        vm.prank(operator);
        registry.registerParticipant(newcomer, PRODUCER | CARRIER, 614141000012, "meta");
        IProvenanceRegistry.ParticipantInfo memory p = registry.getParticipant(newcomer);
        assertEq(p.id, 9);
        assertEq(p.roles, PRODUCER | CARRIER);
        assertTrue(p.active);
        assertEq(p.gln, 614141000012);
        assertEq(registry.participantAt(9), newcomer);
        assertEq(registry.participantAt(10), address(0));
    }

    function test_RegisterParticipant_RevertsForNonOperator() public {
        vm.prank(farm);
        vm.expectRevert(_unauthorized(farm));
        registry.registerParticipant(newcomer, PRODUCER, 0, "");
    }

    function test_RegisterParticipant_RevertsOnBadInput() public {
        vm.startPrank(operator);
        vm.expectRevert(IProvenanceRegistry.RegistryZeroAddress.selector);
        registry.registerParticipant(address(0), PRODUCER, 0, "");
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryParticipantExists.selector, farm));
        registry.registerParticipant(farm, PRODUCER, 0, "");
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryInvalidRoles.selector, uint8(0)));
        registry.registerParticipant(newcomer, 0, 0, "");
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryInvalidRoles.selector, uint8(64)));
        registry.registerParticipant(newcomer, 64, 0, "");
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryInvalidGln.selector, uint64(1e13)));
        registry.registerParticipant(newcomer, PRODUCER, 1e13, "");
        vm.stopPrank();
    }

    function test_RegisterParticipant_RevertsAtParticipantLimit() public {
        // counters (slot 6 of the registry: `_s.counters`): participants in bits 0-23
        bytes32 slot = bytes32(uint256(6));
        uint256 counters = uint256(vm.load(address(registry), slot));
        vm.store(address(registry), slot, bytes32((counters & ~uint256(0xffffff)) | 0xffffff));
        vm.prank(operator);
        vm.expectRevert(IProvenanceRegistry.RegistryParticipantLimit.selector);
        registry.registerParticipant(newcomer, PRODUCER, 0, "");
    }

    // -------------------------------------------------------------- update

    function test_UpdateParticipant_ChangesProfile() public {
        vm.expectEmit(address(registry));
        emit IProvenanceRegistry.ParticipantUpdated(farm, PRODUCER | PROCESSOR, 42, "new", uint64(block.timestamp));
        vm.prank(operator);
        registry.updateParticipant(farm, PRODUCER | PROCESSOR, 42, "new");
        assertEq(registry.getParticipant(farm).roles, PRODUCER | PROCESSOR);
        assertEq(registry.getParticipant(farm).gln, 42);
    }

    function test_UpdateParticipant_Reverts() public {
        vm.prank(farm);
        vm.expectRevert(_unauthorized(farm));
        registry.updateParticipant(farm, PRODUCER, 0, "");
        vm.startPrank(operator);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryUnknownParticipant.selector, newcomer));
        registry.updateParticipant(newcomer, PRODUCER, 0, "");
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryInvalidRoles.selector, uint8(128)));
        registry.updateParticipant(farm, 128, 0, "");
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryInvalidGln.selector, type(uint64).max));
        registry.updateParticipant(farm, PRODUCER, type(uint64).max, "");
        vm.stopPrank();
    }

    // ---------------------------------------------------- suspend/reinstate

    function test_SuspendAndReinstate() public {
        vm.expectEmit(address(registry));
        emit IProvenanceRegistry.ParticipantSuspended(farm, "audit", uint64(block.timestamp));
        vm.prank(operator);
        registry.suspendParticipant(farm, "audit");
        assertFalse(registry.getParticipant(farm).active);
        vm.prank(farm);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryParticipantInactive.selector, farm));
        registry.createBatch(farmGtin, "L1", 1, KGM, "");
        vm.expectEmit(address(registry));
        emit IProvenanceRegistry.ParticipantReinstated(farm, uint64(block.timestamp));
        vm.prank(operator);
        registry.reinstateParticipant(farm);
        assertTrue(registry.getParticipant(farm).active);
        createBatch(farm, farmGtin, "L1", 1);
    }

    function test_SuspendAndReinstate_Revert() public {
        vm.prank(farm);
        vm.expectRevert(_unauthorized(farm));
        registry.suspendParticipant(farm, "");
        vm.prank(farm);
        vm.expectRevert(_unauthorized(farm));
        registry.reinstateParticipant(farm);
        vm.startPrank(operator);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryUnknownParticipant.selector, newcomer));
        registry.suspendParticipant(newcomer, "");
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryParticipantActive.selector, farm));
        registry.reinstateParticipant(farm);
        registry.suspendParticipant(farm, "");
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryParticipantInactive.selector, farm));
        registry.suspendParticipant(farm, "");
        vm.stopPrank();
    }

    // ------------------------------------------------------------- migrate

    function test_MigrateParticipant_MovesIdRolesPrefixesCustodyTitleAndRecallRight() public {
        bytes32 x = createBatch(farm, farmGtin, "L1", 10);
        bytes32 y = createBatch(farm, farmGtin, "L2", 10);
        move(y, farm, carrier, false);
        vm.expectEmit(address(registry));
        emit IProvenanceRegistry.ParticipantMigrated(farm, newcomer, 1, "lost", uint64(block.timestamp));
        vm.prank(operator);
        registry.migrateParticipant(farm, newcomer, "lost");
        assertEq(registry.getParticipant(farm).id, 0);
        assertEq(registry.getParticipant(newcomer).id, 1);
        assertEq(registry.getParticipant(newcomer).roles, PRODUCER);
        assertEq(registry.participantAt(1), newcomer);
        (address holder,,) = registry.prefixOf(farmGtin);
        assertEq(holder, newcomer);
        assertEq(info(x).custodian, newcomer);
        assertEq(info(y).owner, newcomer);
        assertEq(info(y).custodian, carrier);
        vm.prank(newcomer);
        registry.recallBatch(x, "", "");
        vm.prank(farm);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryNotRecaller.selector, y, farm));
        registry.recallBatch(y, "", "");
    }

    function test_MigrateParticipant_KeepsSuspension() public {
        vm.startPrank(operator);
        registry.suspendParticipant(farm, "");
        registry.migrateParticipant(farm, newcomer, "");
        vm.stopPrank();
        assertFalse(registry.getParticipant(newcomer).active);
    }

    function test_MigrateParticipant_Reverts() public {
        vm.prank(farm);
        vm.expectRevert(_unauthorized(farm));
        registry.migrateParticipant(farm, newcomer, "");
        vm.startPrank(operator);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryUnknownParticipant.selector, newcomer));
        registry.migrateParticipant(newcomer, stranger, "");
        vm.expectRevert(IProvenanceRegistry.RegistryZeroAddress.selector);
        registry.migrateParticipant(farm, address(0), "");
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryParticipantExists.selector, buyer));
        registry.migrateParticipant(farm, buyer, "");
        vm.stopPrank();
    }

    // ------------------------------------------------------------ prefixes

    function test_AssignPrefix_EmitsAndCovers() public {
        uint64 prefix = 9012;
        vm.expectEmit(address(registry));
        emit IProvenanceRegistry.PrefixAssigned(warehouse, prefix, 4, uint64(block.timestamp));
        vm.prank(operator);
        registry.assignPrefix(warehouse, prefix, 4);
        uint256 gtin = gtinOf(prefix, 4, 12345678);
        (address holder, uint64 p, uint8 l) = registry.prefixOf(gtin);
        assertEq(holder, warehouse);
        assertEq(p, prefix);
        assertEq(l, 4);
        // the indicator digit (GTIN-14) is ignored
        (holder,,) = registry.prefixOf(withCheck(1e12 * 1 + gtin / 10));
        assertEq(holder, warehouse);
        (holder, p, l) = registry.prefixOf(gtinOf(9013, 4, 1));
        assertEq(holder, address(0));
        assertEq(p, 0);
        assertEq(l, 0);
    }

    function test_AssignPrefix_RevertsForNonOperatorOrUnknownAccount() public {
        vm.prank(farm);
        vm.expectRevert(_unauthorized(farm));
        registry.assignPrefix(farm, 9012, 4);
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryUnknownParticipant.selector, newcomer));
        registry.assignPrefix(newcomer, 9012, 4);
    }

    function _expectInvalid(uint64 prefix, uint8 length) internal {
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryInvalidPrefix.selector, prefix, length));
        registry.assignPrefix(warehouse, prefix, length);
    }

    function test_AssignPrefix_RefusesBadLengths() public {
        _expectInvalid(901, 3);
        _expectInvalid(9012345678901, 13);
        _expectInvalid(10000, 4); // does not fit its length
    }

    /// @notice Restricted circulation (02, 04, 20-29), coupons (05, 98, 99): refused at every length.
    function test_AssignPrefix_RefusesRestrictedRanges() public {
        uint64[13] memory firstTwo = [uint64(2), 4, 5, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29];
        for (uint256 i; i < firstTwo.length; ++i) {
            _expectInvalid(firstTwo[i] * 100, 4);
            _expectInvalid(firstTwo[i] * 1e8 + 12345, 10);
        }
        _expectInvalid(9812, 4);
        _expectInvalid(9912345, 7);
        // next to the refused ranges: allowed
        vm.startPrank(operator);
        registry.assignPrefix(warehouse, 3012, 4);
        registry.assignPrefix(warehouse, 1912, 4);
        registry.assignPrefix(warehouse, 9712, 4);
        registry.assignPrefix(warehouse, 612, 4); // 0612: GTIN-13 starting 06
        vm.stopPrank();
    }

    /// @notice GTIN-8 space (first five digits 0): only a 12-digit prefix `00000` + the GTIN-8's first
    /// seven digits, and never an RCN-8 (GTIN-8 starting with 0 or 2).
    function test_AssignPrefix_Gtin8Rules() public {
        _expectInvalid(0, 4);
        _expectInvalid(0, 5);
        _expectInvalid(1234, 9); // 00000 1234
        _expectInvalid(12345, 11);
        _expectInvalid(123456, 12); // 00000 0123456: RCN-8 starting 0
        _expectInvalid(2123456, 12); // RCN-8 starting 2
        uint64 prefix = 9612345; // GTIN-8 9612345c
        vm.prank(operator);
        registry.assignPrefix(warehouse, prefix, 12);
        uint256 gtin8 = withCheck(9612345);
        (address holder,,) = registry.prefixOf(gtin8);
        assertEq(holder, warehouse);
        // a 5-digit 0000x prefix is not GTIN-8 space
        vm.prank(operator);
        registry.assignPrefix(warehouse, 1, 5);
        // and a GTIN-8 brand creates its batch
        vm.prank(operator);
        registry.updateParticipant(warehouse, PRODUCER, 0, "");
        vm.prank(warehouse);
        registry.createBatch(gtin8, "G8", 1, KGM, "");
    }

    function test_AssignPrefix_RefusesOverlap() public {
        vm.startPrank(operator);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryPrefixOverlap.selector, FARM_PREFIX, PREFIX_LENGTH));
        registry.assignPrefix(warehouse, FARM_PREFIX, PREFIX_LENGTH); // the same
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryPrefixOverlap.selector, uint64(40123), uint8(5)));
        registry.assignPrefix(warehouse, 40123, 5); // a start of an assigned one
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryPrefixOverlap.selector, uint64(401234567), uint8(9)));
        registry.assignPrefix(warehouse, 401234567, 9); // an extension of an assigned one
        vm.stopPrank();
    }

    function test_AssignPrefix_RefusesWhenLengthTableIsFull() public {
        // prefixLengths (bits 88-231 of slot 6): set the 4-digit count to 65,535
        bytes32 slot = bytes32(uint256(6));
        uint256 counters = uint256(vm.load(address(registry), slot));
        vm.store(address(registry), slot, bytes32(counters | (uint256(0xffff) << 88)));
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryPrefixOverlap.selector, uint64(9012), uint8(4)));
        registry.assignPrefix(warehouse, 9012, 4);
    }

    function test_RevokePrefix_FreesItAndKeepsBatches() public {
        bytes32 x = createBatch(farm, farmGtin, "L1", 10);
        vm.expectEmit(address(registry));
        emit IProvenanceRegistry.PrefixRevoked(farm, FARM_PREFIX, PREFIX_LENGTH, uint64(block.timestamp));
        vm.prank(operator);
        registry.revokePrefix(FARM_PREFIX, PREFIX_LENGTH);
        (address holder,,) = registry.prefixOf(farmGtin);
        assertEq(holder, address(0));
        vm.prank(farm);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryNotPrefixHolder.selector, farmGtin2, farm));
        registry.createBatch(farmGtin2, "L1", 1, KGM, "");
        assertEq(info(x).origin, farm, "existing batches keep their origin");
        // the shorter prefix is free again (extension counts went back)
        vm.prank(operator);
        registry.assignPrefix(warehouse, 40123, 5);
    }

    function test_RevokePrefix_Reverts() public {
        vm.prank(farm);
        vm.expectRevert(_unauthorized(farm));
        registry.revokePrefix(FARM_PREFIX, PREFIX_LENGTH);
        vm.startPrank(operator);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryInvalidPrefix.selector, uint64(401), uint8(3)));
        registry.revokePrefix(401, 3);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryInvalidPrefix.selector, uint64(401), uint8(13)));
        registry.revokePrefix(401, 13);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryPrefixNotAssigned.selector, uint64(40123), uint8(5)));
        registry.revokePrefix(40123, 5);
        vm.stopPrank();
    }

    // -------------------------------------------------------- operator role

    function test_Admin_TwoStepTransferWithDelay() public {
        address next = address(0x0E0F);
        assertEq(registry.defaultAdmin(), operator);
        assertEq(registry.defaultAdminDelay(), ADMIN_DELAY);
        vm.prank(operator);
        registry.beginDefaultAdminTransfer(next);
        (address pending, uint48 schedule) = registry.pendingDefaultAdmin();
        assertEq(pending, next);
        assertEq(schedule, block.timestamp + ADMIN_DELAY);
        // the old operator keeps its powers until the hand-over completes
        vm.prank(operator);
        registry.registerParticipant(newcomer, PRODUCER, 0, "");
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(bytes4(keccak256("AccessControlInvalidDefaultAdmin(address)")), stranger));
        registry.acceptDefaultAdminTransfer();
        vm.warp(schedule + 1);
        vm.prank(next);
        registry.acceptDefaultAdminTransfer();
        assertEq(registry.defaultAdmin(), next);
        vm.prank(next);
        registry.suspendParticipant(newcomer, "");
    }

    function test_Admin_CannotRenounceInOneStep() public {
        bytes32 adminRole = registry.DEFAULT_ADMIN_ROLE();
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(bytes4(keccak256("AccessControlEnforcedDefaultAdminDelay(uint48)")), uint48(0)));
        registry.renounceRole(adminRole, operator);
    }

    function test_Admin_CancelTransfer() public {
        vm.startPrank(operator);
        registry.beginDefaultAdminTransfer(stranger);
        registry.cancelDefaultAdminTransfer();
        vm.stopPrank();
        (address pending,) = registry.pendingDefaultAdmin();
        assertEq(pending, address(0));
    }

    function test_Constructor_CreatesSettlementOnce() public view {
        assertEq(agreements.registry(), address(registry));
        assertEq(registry.settlement(), address(agreements));
        assertEq(registry.MAX_LINEAGE(), 15);
        assertTrue(registry.supportsInterface(0x01ffc9a7));
    }
}
