// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Fixture} from "../utils/Fixture.sol";
import {IProvenanceRegistry} from "../../../contracts/interfaces/IProvenanceRegistry.sol";
import {ISupplyAgreements} from "../../../contracts/interfaces/ISupplyAgreements.sol";

/// @notice The ten attacks of issue 9, each performed against the redesigned contracts and shown to
/// fail (with the exact error), plus the lower-severity points of the same review.
contract ScenariosTest is Fixture {
    bytes32 internal constant SETTLER_ROLE = keccak256("SETTLER_ROLE");

    // ------------------------------------------------------------------ 1

    /// @notice B has funded agreements with S1 (farm) and S2 (rival); S1 ships X. S2 cannot make X pay
    /// its agreement, before or after S1's tender, and S1 is paid for X.
    function test_Scenario01_OtherSuppliersDeliveryCannotPayMyAgreement() public {
        bytes32 x = createBatch(farm, farmGtin, "X1", 100);
        ISupplyAgreements.Terms memory t1 = terms(buyer, farm, farmGtin);
        ISupplyAgreements.Terms memory t2 = terms(buyer, rival, farmGtin);
        t2.salt = 2;
        uint256 id1 = funded(t1);
        uint256 id2 = funded(t2);

        // S2 races S1: X is not S2's
        vm.prank(rival);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryNotOwner.selector, x, rival));
        agreements.tender(id2, t2, x, leg(), noProofs());

        // S1 tenders X under its own agreement; S2 still cannot use it, nor can S1 use S2's agreement
        tender(id1, t1, x);
        vm.prank(rival);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryHandoffPending.selector, x, buyer));
        agreements.tender(id2, t2, x, leg(), noProofs());
        vm.prank(farm);
        vm.expectRevert(abi.encodeWithSelector(ISupplyAgreements.AgreementsNotSupplier.selector, id2, farm));
        agreements.tender(id2, t2, x, leg(), noProofs());

        // the buyer cannot settle S2's agreement with X either
        vm.prank(buyer);
        vm.expectRevert(abi.encodeWithSelector(ISupplyAgreements.AgreementsWrongStatus.selector, id2, ISupplyAgreements.Status.Funded));
        agreements.acceptDelivery(id2, t2, x, "");

        acceptDelivery(id1, t1, x);
        assertEq(agreements.creditOf(farm, address(0)), 10 ether, "S1 paid");
        assertEq(agreements.creditOf(rival, address(0)), 0, "S2 not paid");
        assertEq(uint8(status(id2)), uint8(ISupplyAgreements.Status.Funded), "S2's agreement untouched");
    }

    /// @notice An unregistered S2, and the buyer's own stock (or goods bought from a third party),
    /// cannot pay any supplier's agreement.
    function test_Scenario01_UnregisteredSupplierAndBuyersOwnStockCannotPay() public {
        ISupplyAgreements.Terms memory t = terms(buyer, stranger, farmGtin);
        uint256 id = funded(t);
        bytes32 stock = createBatch(farm, farmGtin, "STOCK", 100);
        move(stock, farm, buyer, true); // the buyer's own stock

        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryUnknownParticipant.selector, stranger));
        agreements.tender(id, t, stock, leg(), noProofs());

        // a registered supplier with the buyer's stock: not its goods
        ISupplyAgreements.Terms memory t2 = terms(buyer, rival, farmGtin);
        uint256 id2 = funded(t2);
        vm.prank(rival);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryNotOwner.selector, stock, rival));
        agreements.tender(id2, t2, stock, leg(), noProofs());
        // and the buyer is never the supplier of its own agreement
        vm.prank(buyer);
        vm.expectRevert(abi.encodeWithSelector(ISupplyAgreements.AgreementsNotSupplier.selector, id2, buyer));
        agreements.tender(id2, t2, stock, leg(), noProofs());
    }

    // ------------------------------------------------------------------ 2

    /// @notice (a) A carrier holding the farm's batch under a custody-only handoff settles a 1-wei
    /// agreement with itself as buyer and a throw-away supplier: refused; it cannot take title either.
    function test_Scenario02a_CarrierCannotSellGoodsToItself() public {
        bytes32 x = createBatch(farm, farmGtin, "X1", 100);
        move(x, farm, carrier, false);
        assertEq(info(x).custodian, carrier);
        assertEq(info(x).owner, farm);

        ISupplyAgreements.Terms memory t = terms(carrier, warehouse, farmGtin);
        t.price = 1;
        uint256 id = funded(t);
        vm.prank(warehouse);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryNotOwner.selector, x, warehouse));
        agreements.tender(id, t, x, leg(), noProofs());

        // nor as supplier towards a throw-away buyer
        ISupplyAgreements.Terms memory t2 = terms(warehouse, carrier, farmGtin);
        t2.price = 1;
        uint256 id2 = funded(t2);
        vm.prank(carrier);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryNotOwner.selector, x, carrier));
        agreements.tender(id2, t2, x, leg(), noProofs());

        // and it cannot pass title on
        vm.prank(carrier);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryNotOwner.selector, x, carrier));
        registry.initiateHandoff(handoff(x, carrier, warehouse, true));
        assertEq(info(x).owner, farm, "title stays with the farm");
    }

    /// @notice (b) The carrier offers the farm's goods to an honest buyer: the tender is refused, the
    /// buyer keeps its escrow, the farm its title.
    function test_Scenario02b_CarrierCannotSellGoodsItCarriesToHonestBuyer() public {
        bytes32 x = createBatch(farm, farmGtin, "X1", 100);
        move(x, farm, carrier, false);
        ISupplyAgreements.Terms memory t = terms(buyer, carrier, farmGtin);
        uint256 id = funded(t);
        vm.prank(carrier);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryNotOwner.selector, x, carrier));
        agreements.tender(id, t, x, leg(), noProofs());
        assertEq(info(x).owner, farm);
        vm.warp(t.deliveryDeadline + t.gracePeriod + 1);
        vm.prank(buyer);
        agreements.reclaim(id, t);
        assertEq(agreements.creditOf(buyer, address(0)), agreements.escrowOf(t), "buyer refunded");
        assertEq(agreements.creditOf(carrier, address(0)), 0);
    }

    // ------------------------------------------------------------------ 3

    function _paidDelivery() internal returns (bytes32 x, ISupplyAgreements.Terms memory t2, uint256 id2) {
        x = createBatch(farm, farmGtin, "X1", 100);
        ISupplyAgreements.Terms memory t1 = terms(buyer, farm, farmGtin);
        uint256 id1 = funded(t1);
        t2 = terms(buyer, farm, farmGtin);
        t2.salt = 2;
        id2 = funded(t2);
        tender(id1, t1, x);
        acceptDelivery(id1, t1, x);
        assertEq(agreements.creditOf(farm, address(0)), 10 ether);
    }

    /// @notice After S is paid for X the buyer splits X; neither X nor the children pay another agreement.
    function test_Scenario03_SplitDeliveryCannotPayAgain() public {
        (bytes32 x, ISupplyAgreements.Terms memory t2, uint256 id2) = _paidDelivery();
        bytes32[] memory kids = split2(buyer, x, "X1", "X1A", 50, "X1B", 50);
        for (uint256 i; i < 2; ++i) {
            vm.prank(farm);
            vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryNotOwner.selector, kids[i], farm));
            agreements.tender(id2, t2, kids[i], leg(), noProofs());
        }
        vm.prank(farm);
        vm.expectRevert(
            abi.encodeWithSelector(IProvenanceRegistry.RegistryBatchNotActive.selector, x, uint8(2) /* Consumed */ )
        );
        agreements.tender(id2, t2, x, leg(), noProofs());
        assertEq(agreements.creditOf(farm, address(0)), 10 ether, "paid once");
    }

    /// @notice Relabelled 1:1 (a one-part split): the new batch pays nothing more.
    function test_Scenario03_RelabelledDeliveryCannotPayAgain() public {
        (bytes32 x, ISupplyAgreements.Terms memory t2, uint256 id2) = _paidDelivery();
        bytes32 relabelled = split1(buyer, x, "X1", "X1R", 100);
        vm.prank(farm);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryNotOwner.selector, relabelled, farm));
        agreements.tender(id2, t2, relabelled, leg(), noProofs());
        assertEq(agreements.creditOf(farm, address(0)), 10 ether, "paid once");
    }

    /// @notice Round trip through a warehouse and back: X still pays nothing more.
    function test_Scenario03_RoundTripDeliveryCannotPayAgain() public {
        (bytes32 x, ISupplyAgreements.Terms memory t2, uint256 id2) = _paidDelivery();
        move(x, buyer, warehouse, false);
        move(x, warehouse, buyer, false);
        vm.prank(farm);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryNotOwner.selector, x, farm));
        agreements.tender(id2, t2, x, leg(), noProofs());
        assertEq(agreements.creditOf(farm, address(0)), 10 ether, "paid once");
    }

    /// @notice A bound batch (tendered to a carrier that accepted it) cannot be tendered again under a
    /// second agreement, nor split or relabelled while bound.
    function test_Scenario03_BoundDeliveryCannotBeTenderedTwiceOrSplit() public {
        bytes32 x = createBatch(farm, farmGtin, "X1", 100);
        ISupplyAgreements.Terms memory t1 = terms(buyer, farm, farmGtin);
        t1.carrier = carrier;
        ISupplyAgreements.Terms memory t2 = terms(buyer2, farm, farmGtin);
        uint256 id1 = funded(t1);
        uint256 id2 = funded(t2);
        tender(id1, t1, x);
        vm.prank(carrier);
        registry.acceptHandoff(x, "picked up");
        vm.prank(farm);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryBoundDelivery.selector, x, buyer));
        agreements.tender(id2, t2, x, leg(), noProofs());
        IProvenanceRegistry.Part[] memory parts = new IProvenanceRegistry.Part[](1);
        parts[0] = IProvenanceRegistry.Part("X1A", 100);
        vm.prank(carrier);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryBoundDelivery.selector, x, buyer));
        registry.splitBatch(x, "X1", parts, 0, "");
    }

    // ------------------------------------------------------------------ 4

    /// @notice (a) Acceptance settles in the same transaction: parking a handoff afterwards and waiting
    /// past deadline + grace gives the buyer no refund.
    function test_Scenario04a_BuyerCannotParkGoodsAndReclaim() public {
        bytes32 x = createBatch(farm, farmGtin, "X1", 100);
        ISupplyAgreements.Terms memory t = terms(buyer, farm, farmGtin);
        uint256 id = funded(t);
        tender(id, t, x);
        acceptDelivery(id, t, x);
        assertEq(agreements.creditOf(farm, address(0)), 10 ether, "paid at acceptance");
        vm.prank(buyer);
        registry.initiateHandoff(handoff(x, buyer, buyer2, false));
        vm.warp(t.deliveryDeadline + t.gracePeriod + 1);
        vm.prank(buyer);
        vm.expectRevert(
            abi.encodeWithSelector(ISupplyAgreements.AgreementsWrongStatus.selector, id, ISupplyAgreements.Status.Settled)
        );
        agreements.reclaim(id, t);
        vm.prank(buyer);
        registry.cancelHandoff(x, "");
        uint256 before = farm.balance;
        vm.prank(farm);
        agreements.withdraw(address(0));
        assertEq(farm.balance - before, 10 ether, "supplier withdraws its payment");
    }

    /// @notice (b) The buyer cannot take custody of a bound delivery without settling, so its dispute
    /// (a rejection) refunds it only while the goods stay the supplier's; a tender it ignores is
    /// escalated and the silent arbiter's default pays the supplier.
    function test_Scenario04b_DisputeDefaultNeverLeavesBuyerWithGoodsAndRefund() public {
        bytes32 x = createBatch(farm, farmGtin, "X1", 100);
        ISupplyAgreements.Terms memory t = terms(buyer, farm, farmGtin);
        uint256 id = funded(t);
        tender(id, t, x);
        // the buyer cannot take the goods through the registry
        vm.prank(buyer);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryBoundDelivery.selector, x, buyer));
        registry.acceptHandoff(x, "");
        // it rejects: the goods stay with the supplier, the default refunds it
        vm.prank(buyer);
        agreements.rejectDelivery(id, t, x, "bad");
        vm.warp(block.timestamp + t.arbiterTimeout + 1);
        agreements.resolveByDefault(id, t, x);
        assertEq(agreements.creditOf(buyer, address(0)), agreements.escrowOf(t), "refund");
        assertEq(info(x).owner, farm, "goods stay the supplier's");
        assertEq(info(x).custodian, farm);
        assertEq(info(x).pendingTo, address(0));
    }

    /// @notice (b, second part) Custody arrival through a carrier, then silence: the supplier escalates
    /// and the arbiter's silence pays the supplier; title passes to the buyer.
    function test_Scenario04b_SilentArbiterPaysSupplierForProvenTender() public {
        bytes32 x = createBatch(farm, farmGtin, "X1", 100);
        ISupplyAgreements.Terms memory t = terms(buyer, farm, farmGtin);
        t.carrier = carrier;
        uint256 id = funded(t);
        tender(id, t, x);
        vm.prank(carrier);
        registry.acceptHandoff(x, "");
        vm.prank(carrier);
        registry.initiateHandoff(handoff(x, carrier, buyer, false));
        vm.prank(buyer);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryBoundDelivery.selector, x, buyer));
        registry.acceptHandoff(x, "");
        vm.warp(block.timestamp + t.inspectionPeriod + 1);
        vm.prank(farm);
        agreements.escalate(id, t, "no answer");
        vm.warp(block.timestamp + t.arbiterTimeout + 1);
        agreements.resolveByDefault(id, t, x);
        assertEq(agreements.creditOf(farm, address(0)), 10 ether, "supplier paid");
        assertEq(agreements.creditOf(buyer, address(0)), 0.5 ether, "buyer gets only the unused tolerance");
        assertEq(info(x).owner, buyer, "title passed");
    }

    /// @notice (c) A tender after deadline + grace is refused, so the buyer's reclaim cannot be
    /// followed by it accepting the goods; and no reclaim while a tender is pending.
    function test_Scenario04c_NoReclaimThenAcceptAfterGrace() public {
        bytes32 x = createBatch(farm, farmGtin, "X1", 100);
        ISupplyAgreements.Terms memory t = terms(buyer, farm, farmGtin);
        uint256 id = funded(t);
        uint256 closedAt = t.deliveryDeadline + t.gracePeriod;
        vm.warp(closedAt + 1);
        vm.prank(farm);
        vm.expectRevert(
            abi.encodeWithSelector(ISupplyAgreements.AgreementsTenderClosed.selector, id, closedAt, closedAt + 1)
        );
        agreements.tender(id, t, x, leg(), noProofs());
        vm.prank(buyer);
        agreements.reclaim(id, t);
        vm.prank(buyer);
        vm.expectRevert(
            abi.encodeWithSelector(ISupplyAgreements.AgreementsWrongStatus.selector, id, ISupplyAgreements.Status.Refunded)
        );
        agreements.acceptDelivery(id, t, x, "");
        assertEq(info(x).owner, farm);

        // a tender in time blocks the reclaim
        ISupplyAgreements.Terms memory t2 = terms(buyer, farm, farmGtin);
        uint256 id2 = funded(t2);
        tender(id2, t2, x);
        vm.warp(t2.deliveryDeadline + t2.gracePeriod + 1);
        vm.prank(buyer);
        vm.expectRevert(
            abi.encodeWithSelector(ISupplyAgreements.AgreementsWrongStatus.selector, id2, ISupplyAgreements.Status.Tendered)
        );
        agreements.reclaim(id2, t2);
    }

    // ------------------------------------------------------------------ 5

    /// @notice Tendered 10 days early, accepted 12 days late: no penalty (lateness is fixed at the tender).
    function test_Scenario05_BuyerCannotRunPenaltyClockByLateAcceptance() public {
        bytes32 x = createBatch(farm, farmGtin, "X1", 100);
        ISupplyAgreements.Terms memory t = terms(buyer, farm, farmGtin);
        uint256 id = funded(t);
        tender(id, t, x); // 10 days before the deadline
        vm.warp(t.deliveryDeadline + 12 days);
        vm.prank(buyer);
        vm.expectEmit(address(agreements));
        emit ISupplyAgreements.DeliverySettled(id, x, 10 ether, 0.5 ether, 0, uint64(block.timestamp));
        agreements.acceptDelivery(id, t, x, "");
        assertEq(agreements.creditOf(farm, address(0)), 10 ether, "no penalty");
    }

    /// @notice Funding after the deadline is refused (so no delivery is late by construction), and a
    /// tender before funding is refused.
    function test_Scenario05_NoFundingAfterDeadlineNoTenderBeforeFunding() public {
        bytes32 x = createBatch(farm, farmGtin, "X1", 100);
        ISupplyAgreements.Terms memory t = terms(buyer, farm, farmGtin);
        uint256 id = agree(t);
        vm.prank(farm);
        vm.expectRevert(
            abi.encodeWithSelector(ISupplyAgreements.AgreementsWrongStatus.selector, id, ISupplyAgreements.Status.Accepted)
        );
        agreements.tender(id, t, x, leg(), noProofs());
        vm.warp(t.deliveryDeadline + 1);
        uint256 escrow = agreements.escrowOf(t);
        vm.deal(buyer, escrow);
        vm.prank(buyer);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISupplyAgreements.AgreementsFundingClosed.selector, id, t.deliveryDeadline, t.deliveryDeadline + 1
            )
        );
        agreements.fund{value: escrow}(id, t);
    }

    // ------------------------------------------------------------------ 6

    /// @notice A suspended producer (stolen key) cannot recall; a recall can be lifted by the operator.
    function test_Scenario06_SuspendedProducerCannotRecallAndRecallCanBeLifted() public {
        bytes32 x = createBatch(farm, farmGtin, "X1", 100);
        vm.prank(operator);
        registry.suspendParticipant(farm, "stolen key");
        vm.prank(farm);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryNotRecaller.selector, x, farm));
        registry.recallBatch(x, "fake", "");
        // a mistaken recall by the operator is lifted
        vm.prank(operator);
        registry.recallBatch(x, "mistake", "");
        assertTrue(info(x).recalled);
        vm.prank(operator);
        vm.expectEmit(address(registry));
        emit IProvenanceRegistry.RecallLifted(x, operator, "lifted", "", uint64(block.timestamp));
        registry.liftRecall(x, "lifted", "");
        assertFalse(info(x).recalled);
    }

    /// @notice A carrier that splits a batch 1:1 does not become its origin: the producer keeps the
    /// recall right.
    function test_Scenario06_CarrierSplitDoesNotMoveRecallRight() public {
        bytes32 x = createBatch(farm, farmGtin, "X1", 100);
        move(x, farm, carrier, false);
        bytes32 child = split1(carrier, x, "X1", "X1C", 100);
        assertEq(info(child).origin, farm, "origin kept");
        vm.prank(carrier);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryNotRecaller.selector, child, carrier));
        registry.recallBatch(child, "", "");
        vm.prank(farm);
        registry.recallBatch(child, "contamination", "");
        assertTrue(info(child).recalled);
    }

    // ------------------------------------------------------------------ 7

    /// @notice Split 1:1 ahead of a recall: the recall of the consumed parent reaches the child, which
    /// can neither move, be tendered nor settle.
    function test_Scenario07_RecallReachesDescendants() public {
        bytes32 x = createBatch(farm, farmGtin, "X1", 100);
        bytes32 child = split1(farm, x, "X1", "X1C", 100);
        ISupplyAgreements.Terms memory t = terms(buyer, farm, farmGtin);
        uint256 id = funded(t);
        tender(id, t, child); // tendered before the recall
        vm.prank(farm);
        registry.recallBatch(x, "contamination", "");
        uint32 number = info(x).lineageNumber;
        assertTrue(info(child).lineageRecalled);
        vm.prank(buyer);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryAncestorRecalled.selector, child, number));
        agreements.acceptDelivery(id, t, child, "");
        // the buyer rejects instead; the child cannot be tendered again, nor moved
        vm.prank(buyer);
        agreements.rejectDelivery(id, t, child, "recalled");
        vm.prank(farm);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryAncestorRecalled.selector, child, number));
        agreements.tender(id, t, child, leg(), noProofs());
        vm.prank(farm);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryAncestorRecalled.selector, child, number));
        registry.initiateHandoff(handoff(child, farm, warehouse, false));
        assertEq(agreements.creditOf(farm, address(0)), 0, "no payment for a recalled lineage");
    }

    // ------------------------------------------------------------------ 8

    /// @notice (a) Another producer front-runs the brand's createBatch: refused.
    function test_Scenario08a_OnlyPrefixHolderMintsGtin() public {
        vm.prank(rival);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryNotPrefixHolder.selector, farmGtin, rival));
        registry.createBatch(farmGtin, "L2", 100, KGM, "");
        createBatch(farm, farmGtin, "L2", 100); // the brand's own lot is still free
    }

    /// @notice (b) A holder of a batch of the GTIN cannot pre-create the brand's planned lots by splitting.
    function test_Scenario08b_SplitCannotPreclaimBrandLots() public {
        bytes32 x = createBatch(farm, farmGtin, "L1", 100);
        move(x, farm, buyer, true);
        IProvenanceRegistry.Part[] memory parts = new IProvenanceRegistry.Part[](1);
        parts[0] = IProvenanceRegistry.Part("L2", 100);
        vm.prank(buyer);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryLotNotExtended.selector, bytes32("L1"), bytes32("L2")));
        registry.splitBatch(x, "L1", parts, 0, "");
        createBatch(farm, farmGtin, "L2", 100);
    }

    /// @notice (c) A processor without the producer role cannot transform 1 KGM into 2^48 - 1 KGM of
    /// another brand's GTIN; a carrier cannot transform at all.
    function test_Scenario08c_TransformNeedsPrefixOfOutputs() public {
        bytes32 x = createBatch(farm, farmGtin, "X1", 1);
        move(x, farm, processor, true);
        vm.prank(processor);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryNotPrefixHolder.selector, farmGtin2, processor));
        registry.transformBatches(ids1(x), output(farmGtin2, "BIG", type(uint48).max), "");
        // its own prefix is fine
        vm.prank(processor);
        registry.transformBatches(ids1(x), output(processorGtin, "P1", 10), "");

        bytes32 y = createBatch(farm, farmGtin, "Y1", 1);
        move(y, farm, carrier, false);
        vm.prank(carrier);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryMissingRole.selector, carrier, PROCESSOR | PRODUCER));
        registry.transformBatches(ids1(y), output(farmGtin2, "BIG", type(uint48).max), "");
    }

    // ------------------------------------------------------------------ 9

    /// @notice The admin cannot grant itself a settler role to touch a delivery (no such hook: only the
    /// settlement contract fixed at deployment drives deliveries), and operator actions after the tender
    /// (suspending the supplier, migrating its key) do not change what the delivery pays.
    function test_Scenario09_AdminCannotBurnDeliveryOrRedirectPayment() public {
        bytes32 x = createBatch(farm, farmGtin, "X1", 100);
        ISupplyAgreements.Terms memory t = terms(buyer, farm, farmGtin);
        uint256 id = funded(t);
        tender(id, t, x);
        vm.startPrank(operator);
        registry.grantRole(SETTLER_ROLE, operator); // a meaningless role now
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryNotSettlement.selector, operator));
        registry.releaseDelivery(x, id);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryNotSettlement.selector, operator));
        registry.transferTitle(x, id);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryNotSettlement.selector, operator));
        registry.completeDelivery(x, buyer, farm, "");
        registry.suspendParticipant(farm, "audit");
        registry.migrateParticipant(farm, address(0xBEEF), "lost key");
        vm.stopPrank();
        // the buyer cannot reclaim a tendered agreement, and its acceptance pays the supplier named in the terms
        vm.warp(t.deliveryDeadline + t.gracePeriod + 1);
        vm.prank(buyer);
        vm.expectRevert(
            abi.encodeWithSelector(ISupplyAgreements.AgreementsWrongStatus.selector, id, ISupplyAgreements.Status.Tendered)
        );
        agreements.reclaim(id, t);
        acceptDelivery(id, t, x);
        assertEq(agreements.creditOf(farm, address(0)), 10 ether, "paid as tendered");
        assertEq(info(x).owner, buyer);
    }

    /// @notice Revoking roles from SupplyAgreements does not stop settlement: the hook is fixed at deployment.
    function test_Scenario09_AdminCannotRevokeSettlement() public {
        bytes32 x = createBatch(farm, farmGtin, "X1", 100);
        ISupplyAgreements.Terms memory t = terms(buyer, farm, farmGtin);
        uint256 id = funded(t);
        bytes32 adminRole = registry.DEFAULT_ADMIN_ROLE();
        vm.startPrank(operator);
        registry.revokeRole(SETTLER_ROLE, address(agreements));
        // the default admin role moves only by the two-step transfer
        vm.expectRevert(bytes4(keccak256("AccessControlEnforcedDefaultAdminRules()")));
        registry.revokeRole(adminRole, address(agreements));
        vm.stopPrank();
        assertEq(registry.settlement(), address(agreements));
        tender(id, t, x);
        acceptDelivery(id, t, x);
        assertEq(uint8(status(id)), uint8(ISupplyAgreements.Status.Settled));
    }

    /// @notice A buyer suspended after the tender cannot be made to lose the supplier's payment: the
    /// supplier escalates and the default pays it, title passing to the suspended buyer.
    function test_Scenario09_SuspensionAfterTenderOnlyOpensArbiterPath() public {
        bytes32 x = createBatch(farm, farmGtin, "X1", 100);
        ISupplyAgreements.Terms memory t = terms(buyer, farm, farmGtin);
        uint256 id = funded(t);
        tender(id, t, x);
        vm.prank(operator);
        registry.suspendParticipant(buyer, "audit");
        vm.prank(buyer);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryParticipantInactive.selector, buyer));
        agreements.acceptDelivery(id, t, x, "");
        vm.warp(block.timestamp + t.inspectionPeriod + 1);
        vm.prank(farm);
        agreements.escalate(id, t, "");
        vm.warp(block.timestamp + t.arbiterTimeout + 1);
        agreements.resolveByDefault(id, t, x);
        assertEq(agreements.creditOf(farm, address(0)), 10 ether);
        assertEq(info(x).owner, buyer);
    }

    // ----------------------------------------------------------------- 10

    /// @notice A supplier that is also a certifier cannot satisfy a required claim itself: terms naming
    /// it (or the buyer) as attester are refused, and its own attestation does not count for the
    /// attester the terms name.
    function test_Scenario10_SelfCertificationIsRefused() public {
        bytes32 x = createBatch(rival, rivalGtin, "R1", 100);
        ISupplyAgreements.Terms memory t = withClaim(terms(buyer, rival, rivalGtin), ORGANIC, rival);
        vm.prank(buyer);
        vm.expectRevert(abi.encodeWithSelector(ISupplyAgreements.AgreementsInvalidAttester.selector, ORGANIC, rival));
        agreements.propose(t);
        t = withClaim(terms(buyer, rival, rivalGtin), ORGANIC, buyer);
        vm.prank(buyer);
        vm.expectRevert(abi.encodeWithSelector(ISupplyAgreements.AgreementsInvalidAttester.selector, ORGANIC, buyer));
        agreements.propose(t);

        t = withClaim(terms(buyer, rival, rivalGtin), ORGANIC, certifier);
        uint256 id = funded(t);
        vm.warp(block.timestamp + 1 days);
        vm.prank(rival); // one minute before settling, it attests its own goods
        registry.attest(x, ORGANIC, EVIDENCE, uint64(block.timestamp), uint64(block.timestamp + 1 days));
        vm.prank(rival);
        vm.expectRevert(abi.encodeWithSelector(ISupplyAgreements.AgreementsClaimInvalid.selector, x, ORGANIC, certifier, x));
        agreements.tender(id, t, x, leg(), proof(x));
        // the named certifier's attestation is what counts
        attestOrganic(x);
        vm.prank(rival);
        agreements.tender(id, t, x, leg(), proof(x));
    }

    // ---------------------------------------------------- lower severity

    /// @notice A suspended certifier cannot revoke its attestations; a suspended participant cannot
    /// receive custody or title.
    function test_LowSeverity_SuspendedCannotRevokeOrReceive() public {
        bytes32 x = createBatch(farm, farmGtin, "X1", 100);
        attestOrganic(x);
        vm.startPrank(operator);
        registry.suspendParticipant(certifier, "");
        registry.suspendParticipant(buyer, "");
        vm.stopPrank();
        vm.prank(certifier);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryParticipantInactive.selector, certifier));
        registry.revokeAttestation(x, ORGANIC, certifier, EVIDENCE, "");
        vm.prank(farm);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryParticipantInactive.selector, buyer));
        registry.initiateHandoff(handoff(x, farm, buyer, true));
        // offered before the suspension: it cannot accept it
        vm.prank(operator);
        registry.reinstateParticipant(buyer);
        vm.prank(farm);
        registry.initiateHandoff(handoff(x, farm, buyer, true));
        vm.prank(operator);
        registry.suspendParticipant(buyer, "");
        vm.prank(buyer);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryParticipantInactive.selector, buyer));
        registry.acceptHandoff(x, "");
        assertEq(info(x).owner, farm);
    }

    /// @notice The operator role moves in two steps with a delay; it cannot be granted in one step.
    function test_LowSeverity_TwoStepAdminWithDelay() public {
        address next = address(0x0E0F);
        bytes32 adminRole = registry.DEFAULT_ADMIN_ROLE();
        vm.startPrank(operator);
        vm.expectRevert(bytes4(keccak256("AccessControlEnforcedDefaultAdminRules()")));
        registry.grantRole(adminRole, next);
        registry.beginDefaultAdminTransfer(next);
        vm.stopPrank();
        uint48 schedule = uint48(block.timestamp) + ADMIN_DELAY;
        vm.prank(next);
        vm.expectRevert(abi.encodeWithSelector(bytes4(keccak256("AccessControlEnforcedDefaultAdminDelay(uint48)")), schedule));
        registry.acceptDefaultAdminTransfer();
        vm.warp(schedule + 1);
        vm.prank(next);
        registry.acceptDefaultAdminTransfer();
        assertEq(registry.defaultAdmin(), next);
        vm.prank(operator);
        vm.expectRevert(
            abi.encodeWithSelector(
                bytes4(keccak256("AccessControlUnauthorizedAccount(address,bytes32)")), operator, bytes32(0)
            )
        );
        registry.registerParticipant(address(0x1234), PRODUCER, 0, "");
    }

    /// @notice The full 32-byte terms hash is stored; terms differing in any field (here the last, the
    /// salt) do not match.
    function test_LowSeverity_FullTermsHash() public {
        ISupplyAgreements.Terms memory t = terms(buyer, farm, farmGtin);
        uint256 id = agree(t);
        assertEq(agreements.termsHashOf(id), keccak256(abi.encode(t)));
        ISupplyAgreements.Terms memory forged = terms(buyer, farm, farmGtin);
        forged.salt = 1;
        vm.prank(buyer);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISupplyAgreements.AgreementsTermsMismatch.selector, id, keccak256(abi.encode(t)), keccak256(abi.encode(forged))
            )
        );
        agreements.fund{value: 0}(id, forged);
    }

    /// @notice A signer invalidates its outstanding EIP-712 consents early with useNonce (both contracts).
    function test_LowSeverity_NonceInvalidation() public {
        bytes32 x = createBatch(farm, farmGtin, "X1", 100);
        IProvenanceRegistry.Handoff memory h = handoff(x, farm, buyer, true);
        IProvenanceRegistry.Authorization memory consent = signHandoff(BUYER_KEY, h, 0, block.timestamp + 1 days);
        vm.prank(buyer);
        registry.useNonce();
        vm.prank(farm);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryInvalidNonce.selector, buyer, 1, 0));
        registry.recordHandoff(h, noHandoffAuth(), consent);

        ISupplyAgreements.Terms memory t = terms(buyer, farm, farmGtin);
        ISupplyAgreements.Authorization memory approval = signAgreement(FARM_KEY, t, 0, block.timestamp + 1 days);
        vm.prank(farm);
        agreements.useNonce();
        vm.prank(buyer);
        vm.expectRevert(abi.encodeWithSelector(ISupplyAgreements.AgreementsInvalidNonce.selector, farm, 1, 0));
        agreements.proposeSigned(t, noAuth(), approval);
    }

    /// @notice A lost key: the operator migrates the participant; its batches follow, the old key is out.
    function test_LowSeverity_KeyMigration() public {
        bytes32 x = createBatch(farm, farmGtin, "X1", 100);
        address newKey = address(0xBEEF);
        vm.prank(operator);
        registry.migrateParticipant(farm, newKey, "lost");
        assertEq(info(x).owner, newKey);
        assertEq(info(x).custodian, newKey);
        assertEq(info(x).origin, newKey);
        vm.prank(farm);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryUnknownParticipant.selector, farm));
        registry.initiateHandoff(handoff(x, farm, buyer, true));
        move(x, newKey, buyer, true);
        assertEq(info(x).owner, buyer);
        vm.prank(newKey);
        registry.createBatch(farmGtin, "X2", 1, KGM, ""); // the prefix followed
    }
}
