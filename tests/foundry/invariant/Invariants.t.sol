// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Fixture} from "../utils/Fixture.sol";
import {Handler} from "./Handler.sol";
import {IProvenanceRegistry} from "../../../contracts/interfaces/IProvenanceRegistry.sol";
import {ISupplyAgreements} from "../../../contracts/interfaces/ISupplyAgreements.sol";
import {BatchState} from "../../../contracts/types/BatchWord.sol";

/// @notice The properties of `IProvenanceRegistry` and `ISupplyAgreements` (their NatSpec), checked after
/// every call of a random sequence of handler actions (foundry.toml: runs x depth per profile).
contract InvariantsTest is Fixture {
    Handler internal handler;

    function setUp() public override {
        super.setUp();
        address[2] memory suppliers = [farm, rival];
        address[2] memory buyers = [buyer, buyer2];
        uint256[2] memory gtins = [farmGtin, rivalGtin];
        handler = new Handler(registry, operator, arbiter, certifier, carrier, warehouse, suppliers, buyers, gtins);
        targetContract(address(handler));
        bytes4[] memory selectors = new bytes4[](23);
        selectors[0] = Handler.createBatch.selector;
        selectors[1] = Handler.handoff.selector;
        selectors[2] = Handler.acceptPending.selector;
        selectors[3] = Handler.cancelOrReject.selector;
        selectors[4] = Handler.split.selector;
        selectors[5] = Handler.merge.selector;
        selectors[6] = Handler.transform.selector;
        selectors[7] = Handler.recall.selector;
        selectors[8] = Handler.liftRecall.selector;
        selectors[9] = Handler.suspendOrReinstate.selector;
        selectors[10] = Handler.operatorMeddles.selector;
        selectors[11] = Handler.warp.selector;
        selectors[12] = Handler.newAgreement.selector;
        selectors[13] = Handler.fundLate.selector;
        selectors[14] = Handler.tender.selector;
        selectors[15] = Handler.acceptDelivery.selector;
        selectors[16] = Handler.rejectDelivery.selector;
        selectors[17] = Handler.withdrawTender.selector;
        selectors[18] = Handler.escalate.selector;
        selectors[19] = Handler.resolve.selector;
        selectors[20] = Handler.resolveByDefault.selector;
        selectors[21] = Handler.reclaim.selector;
        selectors[22] = Handler.cancel.selector;
        targetSelector(FuzzSelector(address(handler), selectors));
        // and two more
        bytes4[] memory more = new bytes4[](2);
        more[0] = Handler.withdraw.selector;
        more[1] = Handler.carrierDelivers.selector;
        targetSelector(FuzzSelector(address(handler), more));
    }

    function _terminal(ISupplyAgreements.Status s) internal pure returns (bool) {
        return s == ISupplyAgreements.Status.Settled || s == ISupplyAgreements.Status.Refunded
            || s == ISupplyAgreements.Status.Resolved || s == ISupplyAgreements.Status.Cancelled;
    }

    /// @notice Properties seen at the moment of an action (who was paid for what, what a frozen or bound
    /// batch did, prefixes of commissioned GTINs, terminal states absorbing): no violation recorded.
    function invariant_NoActionViolatedAProperty() public view {
        uint256 n = handler.violationCount();
        if (n != 0) assertTrue(false, handler.violations(0));
    }

    /// @notice Solvency: the ETH balance covers the escrow of every open funded agreement plus every credit.
    function invariant_Solvency() public view {
        uint256 owed;
        for (uint256 i; i < handler.agreementCount(); ++i) {
            ISupplyAgreements.Status s = agreements.statusOf(handler.idOf(i));
            if (
                s == ISupplyAgreements.Status.Funded || s == ISupplyAgreements.Status.Tendered
                    || s == ISupplyAgreements.Status.Disputed
            ) owed += agreements.escrowOf(handler.termsOf(i));
        }
        for (uint256 a; a < handler.actorCount(); ++a) {
            owed += agreements.creditOf(handler.actors(a), address(0));
        }
        assertGe(address(agreements).balance, owed, "solvent");
        assertEq(address(agreements).balance, handler.ethIn() - handler.ethOut(), "no ETH appears or vanishes");
    }

    /// @notice Conservation: a Settled, Refunded or Resolved agreement paid out exactly its escrow; a
    /// Cancelled or open one nothing; payouts happen once (terminal states are absorbing).
    function invariant_ConservationAndPenaltyBounds() public view {
        for (uint256 i; i < handler.agreementCount(); ++i) {
            ISupplyAgreements.Terms memory t = handler.termsOf(i);
            ISupplyAgreements.Status s = agreements.statusOf(handler.idOf(i));
            (,,, uint256 quantity, uint256 toSupplier, uint256 toBuyer,, ISupplyAgreements.Status terminal) = handler.ghosts(i);
            if (_terminal(s)) assertEq(uint8(s), uint8(terminal), "terminal status recorded");
            if (s == ISupplyAgreements.Status.Cancelled) {
                // cancelled before funding, or (Refunded) by the supplier after
                assertEq(toSupplier + toBuyer, 0, "cancelled pays nothing");
            } else if (_terminal(s)) {
                assertEq(toSupplier + toBuyer, agreements.escrowOf(t), "conservation");
            } else {
                assertEq(toSupplier + toBuyer, 0, "open agreements pay nothing");
            }
            if (s == ISupplyAgreements.Status.Settled) {
                uint256 payment = t.price * quantity / t.quantity;
                assertLe(toSupplier, payment, "penalty >= 0");
                assertGe(toSupplier, payment - payment * t.penaltyCapBps / 10_000, "penalty <= cap");
            }
        }
    }

    /// @notice Custody and title: every Active batch has a registered custodian and owner; a pending
    /// handoff goes to someone else; a bound batch is Active, owned by the supplier that tendered it, its
    /// pending leg never carries title unless it ends at the buyer; lineage at most 15.
    function invariant_CustodyTitleAndBoundBatches() public view {
        for (uint256 i; i < handler.batchCount(); ++i) {
            bytes32 id = handler.batches(i);
            IProvenanceRegistry.BatchInfo memory b = registry.getBatch(id);
            assertLe(b.ancestors, 15, "lineage bound");
            assertEq(registry.lineageOf(id).length, b.ancestors);
            if (b.state != BatchState.Active) {
                assertEq(b.boundTo, address(0), "consumed batches are never bound");
                assertEq(b.pendingTo, address(0));
                continue;
            }
            assertTrue(b.custodian != address(0) && b.owner != address(0), "custodian and owner");
            assertTrue(registry.getParticipant(b.custodian).id != 0, "custodian registered");
            assertTrue(registry.getParticipant(b.owner).id != 0, "owner registered");
            assertTrue(b.pendingTo != b.custodian, "no self handoff");
            if (b.tenderLeg) assertTrue(b.pendingTo != address(0) && b.boundTo != address(0), "tender leg is bound");
            if (b.boundTo != address(0)) {
                assertEq(b.owner, handler.ownerAtBind(id), "bound batch keeps the supplier's title");
                // title moves only on the leg that ends at the buyer
                assertEq(b.pendingOwnership, b.pendingTo == b.boundTo, "title only on the leg to the buyer");
                assertTrue(b.boundTo != b.owner, "bound to a buyer other than the owner");
            }
        }
    }

    /// @notice A tendered agreement's batch is bound to its buyer until it ends.
    function invariant_TenderedAgreementsHoldTheirBinding() public view {
        for (uint256 i; i < handler.agreementCount(); ++i) {
            ISupplyAgreements.Status s = agreements.statusOf(handler.idOf(i));
            (ISupplyAgreements.Status st, ISupplyAgreements.DisputeKind kind,,, bytes19 tag) = agreements.stateOf(handler.idOf(i));
            assertEq(uint8(s), uint8(st));
            if (s == ISupplyAgreements.Status.Tendered || kind == ISupplyAgreements.DisputeKind.Escalated && s == ISupplyAgreements.Status.Disputed) {
                (bytes32 batch,,,,,,,) = handler.ghosts(i);
                assertEq(bytes32(tag), bytes32(bytes19(batch)), "the tendered batch");
                ISupplyAgreements.Terms memory t = handler.termsOf(i);
                assertEq(registry.getBatch(batch).boundTo, t.buyer, "bound to the buyer");
            }
        }
    }

    /// @notice Recall reach: nothing that has a recalled ancestor moves (also checked at every action);
    /// here: the view agrees with the stored lineage.
    function invariant_RecallReach() public view {
        for (uint256 i; i < handler.batchCount(); ++i) {
            bytes32 id = handler.batches(i);
            IProvenanceRegistry.BatchInfo memory b = registry.getBatch(id);
            uint32[] memory ancestors = registry.lineageOf(id);
            bool any;
            for (uint256 j; j < handler.batchCount(); ++j) {
                IProvenanceRegistry.BatchInfo memory a = registry.getBatch(handler.batches(j));
                if (!a.recalled || a.lineageNumber == 0) continue;
                for (uint256 k; k < ancestors.length; ++k) {
                    if (ancestors[k] == a.lineageNumber) any = true;
                }
            }
            assertEq(b.lineageRecalled, any, "lineageRecalled matches the recalled ancestors");
        }
    }

    /// @notice Prefix ownership of commissioned GTINs: no batch of a GTIN without a prefix holder origin.
    function invariant_CommissionedUnderPrefix() public view {
        for (uint256 i; i < handler.batchCount(); ++i) {
            IProvenanceRegistry.BatchInfo memory b = registry.getBatch(handler.batches(i));
            if (b.ancestors != 0) continue; // derived: origin kept or the transformer (checked at the action)
            (address holder,,) = registry.prefixOf(b.gtin);
            assertEq(b.origin, holder, "commissioned by the prefix holder");
        }
    }

    /// @notice Shows what the campaign exercised (forge runs it after each run with -vv).
    function afterInvariant() public view {}
}
