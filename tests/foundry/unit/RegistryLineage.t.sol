// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Fixture} from "../utils/Fixture.sol";
import {IProvenanceRegistry} from "../../../contracts/interfaces/IProvenanceRegistry.sol";
import {BatchState} from "../../../contracts/types/BatchWord.sol";

/// @notice Splits, merges and transformations (the `Derivations` library through the registry), the
/// lineage bound, recalls and their reach, and attestations.
contract RegistryLineageTest is Fixture {
    // --------------------------------------------------------------- split

    function test_Split_CreatesChildrenThatExtendTheLot() public {
        bytes32 x = createBatch(farm, farmGtin, "L1", 100);
        move(x, farm, carrier, false);
        bytes32 a = registry.batchIdOf(farmGtin, "L1A");
        bytes32 b = registry.batchIdOf(farmGtin, "L1B");
        IProvenanceRegistry.Part[] memory parts = new IProvenanceRegistry.Part[](2);
        parts[0] = IProvenanceRegistry.Part("L1A", 60);
        parts[1] = IProvenanceRegistry.Part("L1B", 38);
        vm.expectEmit(address(registry));
        emit IProvenanceRegistry.BatchSplit(a, x, "L1A", 60);
        vm.expectEmit(address(registry));
        emit IProvenanceRegistry.BatchSplit(b, x, "L1B", 38);
        vm.expectEmit(address(registry));
        emit IProvenanceRegistry.BatchConsumed(x, carrier, IProvenanceRegistry.OperationKind.Split, 2, "doc", uint64(block.timestamp));
        vm.prank(carrier);
        bytes32[] memory kids = registry.splitBatch(x, "L1", parts, 2, "doc");
        assertEq(kids[0], a);
        assertEq(kids[1], b);
        IProvenanceRegistry.BatchInfo memory pa = info(x);
        assertEq(uint8(pa.state), uint8(BatchState.Consumed));
        assertEq(pa.lineageNumber, 1);
        IProvenanceRegistry.BatchInfo memory ca = info(a);
        assertEq(ca.custodian, carrier);
        assertEq(ca.owner, farm);
        assertEq(ca.origin, farm);
        assertEq(ca.quantity, 60);
        assertEq(ca.ancestors, 1);
        assertEq(registry.lineageOf(b)[0], 1);
    }

    function test_Split_Reverts() public {
        bytes32 x = createBatch(farm, farmGtin, "L1", 100);
        IProvenanceRegistry.Part[] memory parts = new IProvenanceRegistry.Part[](1);
        vm.startPrank(farm);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryInvalidInputCount.selector, 0));
        registry.splitBatch(x, "L1", new IProvenanceRegistry.Part[](0), 0, "");
        parts[0] = IProvenanceRegistry.Part("L1A", 100);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryLotMismatch.selector, x, bytes32("L2")));
        registry.splitBatch(x, "L2", parts, 0, "");
        parts[0] = IProvenanceRegistry.Part("L1", 100); // not longer
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryLotNotExtended.selector, bytes32("L1"), bytes32("L1")));
        registry.splitBatch(x, "L1", parts, 0, "");
        parts[0] = IProvenanceRegistry.Part("M1A", 100);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryLotNotExtended.selector, bytes32("L1"), bytes32("M1A")));
        registry.splitBatch(x, "L1", parts, 0, "");
        parts[0] = IProvenanceRegistry.Part("L1 ", 100);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryInvalidLot.selector, bytes32("L1 ")));
        registry.splitBatch(x, "L1", parts, 0, "");
        parts[0] = IProvenanceRegistry.Part("L1A", 0);
        vm.expectRevert(IProvenanceRegistry.RegistryZeroQuantity.selector);
        registry.splitBatch(x, "L1", parts, 0, "");
        parts[0] = IProvenanceRegistry.Part("L1A", 99);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryQuantityMismatch.selector, 100, 99));
        registry.splitBatch(x, "L1", parts, 0, "");
        vm.stopPrank();
        parts[0] = IProvenanceRegistry.Part("L1A", 100);
        vm.prank(buyer);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryNotCustodian.selector, x, buyer));
        registry.splitBatch(x, "L1", parts, 0, "");
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryUnknownParticipant.selector, stranger));
        registry.splitBatch(x, "L1", parts, 0, "");
        vm.prank(farm);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryUnknownBatch.selector, bytes32("nope")));
        registry.splitBatch("nope", "L1", parts, 0, "");
        // a 20-character lot cannot be extended
        bytes32 full = createBatch(farm, farmGtin, "ABCDEFGHIJKLMNOPQRST", 1);
        parts[0] = IProvenanceRegistry.Part("ABCDEFGHIJKLMNOPQRST", 1);
        vm.prank(farm);
        vm.expectRevert(
            abi.encodeWithSelector(IProvenanceRegistry.RegistryLotNotExtended.selector, bytes32("ABCDEFGHIJKLMNOPQRST"), bytes32("ABCDEFGHIJKLMNOPQRST"))
        );
        registry.splitBatch(full, "ABCDEFGHIJKLMNOPQRST", parts, 0, "");
        // a child that exists already
        createBatch(farm, farmGtin, "L1A", 1);
        parts[0] = IProvenanceRegistry.Part("L1A", 100);
        bytes32 existing = registry.batchIdOf(farmGtin, "L1A");
        vm.prank(farm);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryBatchExists.selector, existing));
        registry.splitBatch(x, "L1", parts, 0, "");
        // a pending handoff blocks it
        vm.prank(farm);
        registry.initiateHandoff(handoff(x, farm, buyer, false));
        parts[0] = IProvenanceRegistry.Part("L1B", 100);
        vm.prank(farm);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryHandoffPending.selector, x, buyer));
        registry.splitBatch(x, "L1", parts, 0, "");
    }

    /// @notice Lineage bound: 15 splits in a row are fine; the 16th ancestor is refused.
    function test_Split_LineageBoundRefusesSixteenthAncestor() public {
        bytes32 lot = "A";
        bytes32 id = createBatch(farm, farmGtin, lot, 100);
        for (uint256 i; i < 15; ++i) {
            bytes32 next = bytes32(uint256(lot) | (uint256(0x42) << (8 * (31 - (i + 1)))));
            id = split1(farm, id, lot, next, 100);
            lot = next;
        }
        assertEq(info(id).ancestors, 15);
        assertEq(registry.lineageOf(id).length, 15);
        IProvenanceRegistry.Part[] memory parts = new IProvenanceRegistry.Part[](1);
        parts[0] = IProvenanceRegistry.Part(bytes32(uint256(lot) | (uint256(0x43) << (8 * 15))), 100);
        vm.prank(farm);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryLineageTooLarge.selector, 15));
        registry.splitBatch(id, lot, parts, 0, "");
        // a recall of the first ancestor still reaches the 15th generation
        bytes32 root = registry.batchIdOf(farmGtin, "A");
        vm.prank(farm);
        registry.recallBatch(root, "", "");
        vm.prank(farm);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryAncestorRecalled.selector, id, uint32(1)));
        registry.initiateHandoff(handoff(id, farm, buyer, false));
    }

    function test_Split_RevertsWhenLineageNumbersRunOut() public {
        // lineageNumbers (bits 24-55 of slot 6) at its maximum
        bytes32 slot = bytes32(uint256(6));
        uint256 counters = uint256(vm.load(address(registry), slot));
        vm.store(address(registry), slot, bytes32(counters | (uint256(type(uint32).max) << 24)));
        bytes32 x = createBatch(farm, farmGtin, "L1", 100);
        IProvenanceRegistry.Part[] memory parts = new IProvenanceRegistry.Part[](1);
        parts[0] = IProvenanceRegistry.Part("L1A", 100);
        vm.prank(farm);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryLineageTooLarge.selector, type(uint32).max));
        registry.splitBatch(x, "L1", parts, 0, "");
    }

    // --------------------------------------------------------------- merge

    function test_Merge_CombinesSameProductOwnerOrigin() public {
        bytes32 a = createBatch(farm, farmGtin, "L1", 60);
        bytes32 b = createBatch(farm, farmGtin, "L2", 40);
        bytes32 m = registry.batchIdOf(farmGtin, "L1M");
        vm.expectEmit(address(registry));
        emit IProvenanceRegistry.BatchConsumed(a, farm, IProvenanceRegistry.OperationKind.Merge, 5, "doc", uint64(block.timestamp));
        vm.expectEmit(address(registry));
        emit IProvenanceRegistry.BatchConsumed(b, farm, IProvenanceRegistry.OperationKind.Merge, 0, "doc", uint64(block.timestamp));
        vm.expectEmit(address(registry));
        emit IProvenanceRegistry.BatchCreated(m, farm, farmGtin, "L1M", 95, KGM, "doc", uint64(block.timestamp));
        vm.expectEmit(address(registry));
        emit IProvenanceRegistry.BatchDerived(m, a, IProvenanceRegistry.OperationKind.Merge);
        vm.prank(farm);
        assertEq(registry.mergeBatches(ids2(a, b), "L1", "L1M", 5, "doc"), m);
        assertEq(info(m).quantity, 95);
        assertEq(info(m).origin, farm);
        assertEq(info(m).ancestors, 2);
    }

    function test_Merge_Reverts() public {
        bytes32 a = createBatch(farm, farmGtin, "L1", 60);
        bytes32 b = createBatch(farm, farmGtin, "L2", 40);
        vm.startPrank(farm);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryInvalidInputCount.selector, 1));
        registry.mergeBatches(ids1(a), "L1", "L1M", 0, "");
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryLotNotExtended.selector, bytes32("L1"), bytes32("L2M")));
        registry.mergeBatches(ids2(a, b), "L1", "L2M", 0, "");
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryLotMismatch.selector, a, bytes32("L3")));
        registry.mergeBatches(ids2(a, b), "L3", "L3M", 0, "");
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryQuantityMismatch.selector, 100, 100));
        registry.mergeBatches(ids2(a, b), "L1", "L1M", 100, "");
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryBatchNotActive.selector, a, BatchState.Consumed));
        registry.mergeBatches(ids2(a, a), "L1", "L1M", 0, "");
        vm.stopPrank();
        // another GTIN
        bytes32 c = createBatch(farm, farmGtin2, "L3", 40);
        vm.prank(farm);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryIncompatibleBatches.selector, a, c));
        registry.mergeBatches(ids2(a, c), "L1", "L1M", 0, "");
        // another unit
        vm.prank(farm);
        bytes32 d = registry.createBatch(farmGtin, "L4", 40, "LTR", "");
        vm.prank(farm);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryIncompatibleBatches.selector, a, d));
        registry.mergeBatches(ids2(a, d), "L1", "L1M", 0, "");
        // another owner (held by the farm, owned by the warehouse)
        bytes32 e = createBatch(farm, farmGtin, "L5", 40);
        move(e, farm, warehouse, true);
        move(e, warehouse, farm, false);
        vm.prank(farm);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryIncompatibleBatches.selector, a, e));
        registry.mergeBatches(ids2(a, e), "L1", "L1M", 0, "");
        // not the custodian of every input
        move(b, farm, carrier, false);
        vm.prank(farm);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryNotCustodian.selector, b, farm));
        registry.mergeBatches(ids2(a, b), "L1", "L1M", 0, "");
        // the merged quantity does not fit 48 bits
        bytes32 big1 = createBatch(farm, farmGtin, "B1", type(uint48).max);
        bytes32 big2 = createBatch(farm, farmGtin, "B2", 1);
        vm.prank(farm);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryQuantityMismatch.selector, uint256(type(uint48).max) + 1, 0));
        registry.mergeBatches(ids2(big1, big2), "B1", "B1M", 0, "");
    }

    /// @notice Merge inputs of another origin (same GTIN after the prefix changed hands) are refused.
    function test_Merge_RefusesOtherOrigin() public {
        bytes32 a = createBatch(farm, farmGtin, "L1", 60);
        vm.startPrank(operator);
        registry.revokePrefix(FARM_PREFIX, PREFIX_LENGTH);
        registry.assignPrefix(rival, FARM_PREFIX, PREFIX_LENGTH);
        vm.stopPrank();
        bytes32 b = createBatch(rival, farmGtin, "L2", 40);
        move(b, rival, farm, true);
        vm.prank(farm);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryIncompatibleBatches.selector, a, b));
        registry.mergeBatches(ids2(a, b), "L1", "L1M", 0, "");
    }

    // ----------------------------------------------------------- transform

    function test_Transform_OutputsUnderCallersPrefixOwnedByInputsOwner() public {
        bytes32 a = createBatch(farm, farmGtin, "L1", 60);
        bytes32 b = createBatch(farm, farmGtin2, "L2", 40);
        vm.prank(farm);
        registry.initiateHandoffs(ids2(a, b), processor, 0, 0, 0, false, "");
        vm.prank(processor);
        registry.acceptHandoffs(ids2(a, b), "");
        IProvenanceRegistry.Output[] memory outs = new IProvenanceRegistry.Output[](2);
        outs[0] = IProvenanceRegistry.Output(processorGtin, "P1", 10, "LTR");
        outs[1] = IProvenanceRegistry.Output(gtinOf(PROCESSOR_PREFIX, PREFIX_LENGTH, 2), "P1", 5, KGM);
        vm.expectEmit(address(registry));
        emit IProvenanceRegistry.BatchConsumed(a, processor, IProvenanceRegistry.OperationKind.Transform, 0, "recipe", uint64(block.timestamp));
        vm.prank(processor);
        bytes32[] memory out = registry.transformBatches(ids2(a, b), outs, "recipe");
        assertEq(info(out[0]).owner, farm, "toll processing: the inputs' owner owns the outputs");
        assertEq(info(out[0]).custodian, processor);
        assertEq(info(out[0]).origin, processor, "the transformer holds the recall right");
        assertEq(info(out[1]).ancestors, 2);
        assertEq(info(out[0]).uom, bytes3("LTR"));
    }

    function test_Transform_Reverts() public {
        bytes32 a = createBatch(farm, farmGtin, "L1", 60);
        vm.prank(farm);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryInvalidInputCount.selector, 0));
        registry.transformBatches(new bytes32[](0), output(farmGtin2, "X", 1), "");
        vm.prank(farm);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryInvalidInputCount.selector, 0));
        registry.transformBatches(ids1(a), new IProvenanceRegistry.Output[](0), "");
        vm.prank(buyer);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryMissingRole.selector, buyer, PROCESSOR | PRODUCER));
        registry.transformBatches(ids1(a), output(farmGtin2, "X", 1), "");
        vm.prank(processor);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryNotCustodian.selector, a, processor));
        registry.transformBatches(ids1(a), output(processorGtin, "X", 1), "");
        vm.prank(farm);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryInvalidGtin.selector, uint256(1)));
        registry.transformBatches(ids1(a), output(1, "X", 1), "");
        vm.prank(farm);
        vm.expectRevert(IProvenanceRegistry.RegistryZeroQuantity.selector);
        registry.transformBatches(ids1(a), output(farmGtin2, "X", 0), "");
        // inputs of different owners
        bytes32 b = createBatch(farm, farmGtin, "L2", 40);
        move(b, farm, warehouse, true);
        move(b, warehouse, farm, false);
        vm.prank(farm);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryIncompatibleBatches.selector, a, b));
        registry.transformBatches(ids2(a, b), output(farmGtin2, "X", 1), "");
        // a producer transforms its own inputs
        vm.prank(farm);
        registry.transformBatches(ids1(a), output(farmGtin2, "X", 1), "");
    }

    /// @notice Merging batches with disjoint lineages: the union counts, over 15 it is refused.
    function test_Merge_LineageUnionBound() public {
        bytes32 lotA = "A";
        bytes32 lotB = "B";
        bytes32 a = createBatch(farm, farmGtin, lotA, 100);
        bytes32 b = createBatch(farm, farmGtin, lotB, 100);
        for (uint256 i; i < 8; ++i) {
            bytes32 nextA = bytes32(uint256(lotA) | (uint256(0x41) << (8 * (30 - i))));
            bytes32 nextB = bytes32(uint256(lotB) | (uint256(0x41) << (8 * (30 - i))));
            a = split1(farm, a, lotA, nextA, 100);
            b = split1(farm, b, lotB, nextB, 100);
            lotA = nextA;
            lotB = nextB;
        }
        // 8 + 8 ancestors + 2 inputs > 15
        vm.prank(farm);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryLineageTooLarge.selector, 15));
        registry.mergeBatches(ids2(a, b), lotA, bytes32(uint256(lotA) | (uint256(0x4d) << (8 * 22))), 0, "");
    }

    // -------------------------------------------------------------- recall

    function test_Recall_ByOriginOrOperator() public {
        bytes32 x = createBatch(farm, farmGtin, "L1", 100);
        vm.expectEmit(address(registry));
        emit IProvenanceRegistry.BatchRecalled(x, farm, "salmonella", "notice", uint64(block.timestamp));
        vm.prank(farm);
        registry.recallBatch(x, "salmonella", "notice");
        assertTrue(info(x).recalled);
        vm.prank(farm);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryBatchRecalled.selector, x));
        registry.recallBatch(x, "", "");
        bytes32 y = createBatch(farm, farmGtin, "L2", 100);
        vm.prank(operator);
        registry.recallBatch(y, "", "");
        assertTrue(info(y).recalled);
    }

    function test_Recall_Reverts() public {
        bytes32 x = createBatch(farm, farmGtin, "L1", 100);
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryUnknownBatch.selector, bytes32("nope")));
        registry.recallBatch("nope", "", "");
        vm.prank(buyer);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryNotRecaller.selector, x, buyer));
        registry.recallBatch(x, "", "");
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryNotRecaller.selector, x, stranger));
        registry.recallBatch(x, "", "");
    }

    function test_LiftRecall() public {
        bytes32 x = createBatch(farm, farmGtin, "L1", 100);
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryBatchNotRecalled.selector, x));
        registry.liftRecall(x, "", "");
        vm.prank(operator);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryUnknownBatch.selector, bytes32("nope")));
        registry.liftRecall("nope", "", "");
        vm.prank(farm);
        registry.recallBatch(x, "", "");
        vm.prank(farm);
        vm.expectRevert(abi.encodeWithSelector(bytes4(keccak256("AccessControlUnauthorizedAccount(address,bytes32)")), farm, bytes32(0)));
        registry.liftRecall(x, "", "");
        vm.prank(operator);
        registry.liftRecall(x, "mistake", "");
        move(x, farm, buyer, true);
    }

    /// @notice Recall of a consumed ancestor reaches through split, merge and transform, and lifting
    /// it frees them again.
    function test_Recall_ReachesThroughSplitMergeTransformAndLifts() public {
        bytes32 root = createBatch(farm, farmGtin, "R", 100);
        bytes32[] memory kids = split2(farm, root, "R", "RA", 50, "RB", 50);
        vm.prank(farm);
        bytes32 merged = registry.mergeBatches(kids, "RA", "RAM", 0, "");
        move(merged, farm, processor, false);
        vm.prank(processor);
        bytes32 product = registry.transformBatches(ids1(merged), output(processorGtin, "P", 10), "")[0];
        bytes32 unrelated = createBatch(farm, farmGtin, "U", 1);
        assertEq(info(product).ancestors, 4);

        vm.prank(farm);
        registry.recallBatch(root, "", "");
        uint32 rootNumber = info(root).lineageNumber;
        assertTrue(info(product).lineageRecalled);
        assertFalse(info(unrelated).lineageRecalled);
        vm.prank(processor);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryAncestorRecalled.selector, product, rootNumber));
        registry.initiateHandoff(handoff(product, processor, buyer, false));
        move(unrelated, farm, buyer, true); // unaffected
        // the outputs' origin (the processor) may recall them too
        vm.prank(processor);
        registry.recallBatch(product, "", "");
        vm.startPrank(operator);
        registry.liftRecall(root, "", "");
        registry.liftRecall(product, "", "");
        vm.stopPrank();
        vm.prank(processor);
        registry.initiateHandoff(handoff(product, processor, buyer, false));
        vm.prank(buyer);
        registry.acceptHandoff(product, "");
    }

    /// @notice A recall of an ancestor after a handoff was initiated blocks its acceptance.
    function test_Recall_BlocksPendingAcceptanceOfDescendant() public {
        bytes32 x = createBatch(farm, farmGtin, "L1", 100);
        bytes32 child = split1(farm, x, "L1", "L1A", 100);
        vm.prank(farm);
        registry.initiateHandoff(handoff(child, farm, buyer, true));
        vm.prank(farm);
        registry.recallBatch(x, "", "");
        vm.prank(buyer);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryAncestorRecalled.selector, child, uint32(1)));
        registry.acceptHandoff(child, "");
        // rejecting and cancelling still work
        vm.prank(farm);
        registry.cancelHandoff(child, "");
    }

    // -------------------------------------------------------- attestations

    function test_Attest_AndValidity() public {
        bytes32 x = createBatch(farm, farmGtin, "L1", 100);
        uint64 from = uint64(block.timestamp + 10);
        uint64 until = uint64(block.timestamp + 100);
        bytes32 aid = keccak256(abi.encode(x, ORGANIC, certifier, EVIDENCE));
        vm.expectEmit(address(registry));
        emit IProvenanceRegistry.AttestationIssued(x, ORGANIC, certifier, aid, EVIDENCE, from, until, uint64(block.timestamp));
        vm.prank(certifier);
        assertEq(registry.attest(x, ORGANIC, EVIDENCE, from, until), aid);
        assertFalse(registry.isAttestationValid(x, ORGANIC, certifier, EVIDENCE, from - 1));
        assertTrue(registry.isAttestationValid(x, ORGANIC, certifier, EVIDENCE, from));
        assertTrue(registry.isAttestationValid(x, ORGANIC, certifier, EVIDENCE, until));
        assertFalse(registry.isAttestationValid(x, ORGANIC, certifier, EVIDENCE, until + 1));
        assertFalse(registry.isAttestationValid(x, ORGANIC, rival, EVIDENCE, from));
        vm.warp(from + 5);
        vm.expectEmit(address(registry));
        emit IProvenanceRegistry.AttestationRevoked(x, ORGANIC, certifier, aid, "fraud", uint64(block.timestamp));
        vm.prank(certifier);
        registry.revokeAttestation(x, ORGANIC, certifier, EVIDENCE, "fraud");
        assertTrue(registry.isAttestationValid(x, ORGANIC, certifier, EVIDENCE, from + 4), "valid before revocation");
        assertFalse(registry.isAttestationValid(x, ORGANIC, certifier, EVIDENCE, from + 5));
    }

    function test_Attest_Reverts() public {
        vm.prank(farm);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryMissingRole.selector, farm, CERTIFIER));
        registry.attest("s", ORGANIC, EVIDENCE, 0, 1);
        vm.prank(certifier);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryInvalidValidity.selector, uint64(2), uint64(1)));
        registry.attest("s", ORGANIC, EVIDENCE, 2, 1);
        vm.prank(certifier);
        bytes32 aid = registry.attest("s", ORGANIC, EVIDENCE, 0, 1);
        vm.prank(certifier);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryAttestationExists.selector, aid));
        registry.attest("s", ORGANIC, EVIDENCE, 0, 5);
    }

    function test_RevokeAttestation_Reverts() public {
        vm.prank(certifier);
        bytes32 aid = registry.attest("s", ORGANIC, EVIDENCE, 0, 1);
        bytes32 unknown = keccak256(abi.encode(bytes32("s"), ORGANIC, certifier, bytes32(0)));
        vm.prank(certifier);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryUnknownAttestation.selector, unknown));
        registry.revokeAttestation("s", ORGANIC, certifier, bytes32(0), "");
        vm.prank(rival); // another participant, not the issuer
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryNotIssuer.selector, aid, rival));
        registry.revokeAttestation("s", ORGANIC, certifier, EVIDENCE, "");
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryUnknownParticipant.selector, stranger));
        registry.revokeAttestation("s", ORGANIC, certifier, EVIDENCE, "");
        vm.prank(certifier);
        registry.revokeAttestation("s", ORGANIC, certifier, EVIDENCE, "");
        vm.prank(certifier);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryAttestationRevoked.selector, aid));
        registry.revokeAttestation("s", ORGANIC, certifier, EVIDENCE, "");
    }

    function test_RevokeAttestation_ByMigratedKey() public {
        vm.prank(certifier);
        registry.attest("s", ORGANIC, EVIDENCE, 0, uint64(block.timestamp + 1));
        vm.prank(operator);
        registry.migrateParticipant(certifier, address(0xCE27), "");
        vm.prank(address(0xCE27));
        registry.revokeAttestation("s", ORGANIC, certifier, EVIDENCE, "");
    }

    function test_IsClaimValidFor_BatchOrAncestorFromActiveCertifier() public {
        bytes32 x = createBatch(farm, farmGtin, "L1", 100);
        attestOrganic(x);
        bytes32 child = split1(farm, x, "L1", "L1A", 100);
        bytes32 other = createBatch(farm, farmGtin, "L2", 100);
        bytes32 otherChild = split1(farm, other, "L2", "L2A", 100);
        assertTrue(registry.isClaimValidFor(x, x, ORGANIC, certifier, EVIDENCE), "consumed batch itself");
        assertTrue(registry.isClaimValidFor(child, x, ORGANIC, certifier, EVIDENCE), "from the ancestor");
        assertFalse(registry.isClaimValidFor(otherChild, x, ORGANIC, certifier, EVIDENCE), "not an ancestor");
        assertFalse(registry.isClaimValidFor(child, x, ORGANIC, rival, EVIDENCE), "another attester");
        assertFalse(registry.isClaimValidFor(child, x, ORGANIC, certifier, "other"), "other evidence");
        // subject not consumed: not an ancestor of anything
        bytes32 active = createBatch(farm, farmGtin, "L3", 100);
        attestOrganic(active);
        assertFalse(registry.isClaimValidFor(child, active, ORGANIC, certifier, EVIDENCE));
        // the certifier loses its role, then is suspended
        vm.prank(operator);
        registry.updateParticipant(certifier, PRODUCER, 0, "");
        assertFalse(registry.isClaimValidFor(child, x, ORGANIC, certifier, EVIDENCE), "role lost");
        vm.startPrank(operator);
        registry.updateParticipant(certifier, CERTIFIER, 0, "");
        registry.suspendParticipant(certifier, "");
        vm.stopPrank();
        assertFalse(registry.isClaimValidFor(child, x, ORGANIC, certifier, EVIDENCE), "suspended");
        vm.startPrank(operator);
        registry.reinstateParticipant(certifier);
        registry.migrateParticipant(certifier, address(0xCE27), "");
        vm.stopPrank();
        // the attestation names the old key; its issuer, now under the new key, still vouches for it
        assertTrue(registry.isClaimValidFor(child, x, ORGANIC, certifier, EVIDENCE), "old key after migration");
        vm.prank(operator);
        registry.suspendParticipant(address(0xCE27), "");
        assertFalse(registry.isClaimValidFor(child, x, ORGANIC, certifier, EVIDENCE), "migrated issuer suspended");
        // expiry
        vm.warp(block.timestamp + 366 days);
        assertFalse(registry.isClaimValidFor(x, x, ORGANIC, address(0xCE27), EVIDENCE));
    }
}
