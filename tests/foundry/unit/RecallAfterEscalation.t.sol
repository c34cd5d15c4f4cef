// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Fixture} from "../utils/Fixture.sol";
import {IProvenanceRegistry} from "../../../contracts/interfaces/IProvenanceRegistry.sol";
import {ISupplyAgreements} from "../../../contracts/interfaces/ISupplyAgreements.sol";

/// @notice A recall of tendered goods before acceptance blocks settlement also after an escalation:
/// the escalation default cannot pay for recalled goods, the buyer may reject them (a dispute whose
/// default refunds it), and lifting a mistaken recall restores the escalation default.
contract RecallAfterEscalationTest is Fixture {
    /// @dev A tendered, escalated delivery whose goods the operator then recalls.
    function escalatedThenRecalled() internal returns (bytes32 x, ISupplyAgreements.Terms memory t, uint256 id) {
        x = createBatch(farm, farmGtin, "X1", 100);
        t = terms(buyer, farm, farmGtin);
        id = funded(t);
        tender(id, t, x);
        vm.warp(block.timestamp + t.inspectionPeriod + 1);
        vm.prank(farm);
        agreements.escalate(id, t, "no answer");
        vm.prank(operator);
        registry.recallBatch(x, "contamination", "");
    }

    function test_RecallAfterEscalation_BlocksAcceptanceAndDefaultPayment() public {
        (bytes32 x, ISupplyAgreements.Terms memory t, uint256 id) = escalatedThenRecalled();
        vm.prank(buyer);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryBatchRecalled.selector, x));
        agreements.acceptDelivery(id, t, x, "");
        vm.warp(block.timestamp + t.arbiterTimeout + 1);
        vm.expectRevert(abi.encodeWithSelector(ISupplyAgreements.AgreementsGoodsRecalled.selector, id, x));
        agreements.resolveByDefault(id, t, x);
        assertEq(registry.getBatch(x).owner, farm, "title stays with the supplier");
    }

    function test_RecallAfterEscalation_BuyerMayRejectAndIsRefundedByDefault() public {
        (bytes32 x, ISupplyAgreements.Terms memory t, uint256 id) = escalatedThenRecalled();
        vm.prank(buyer);
        agreements.rejectDelivery(id, t, x, "recalled");
        (ISupplyAgreements.Status status, ISupplyAgreements.DisputeKind kind,,,) = agreements.stateOf(id);
        assertEq(uint8(status), uint8(ISupplyAgreements.Status.Disputed), "disputed");
        assertEq(uint8(kind), uint8(ISupplyAgreements.DisputeKind.Rejected), "now a rejection");
        vm.warp(block.timestamp + t.arbiterTimeout + 1);
        agreements.resolveByDefault(id, t, x);
        assertEq(agreements.creditOf(buyer, address(0)), agreements.escrowOf(t), "full refund");
        assertEq(agreements.creditOf(farm, address(0)), 0, "supplier unpaid");
        assertEq(registry.getBatch(x).boundTo, address(0), "released");
    }

    function test_WithoutRecall_BuyerCannotRejectAfterEscalation() public {
        (bytes32 x, ISupplyAgreements.Terms memory t, uint256 id) = escalatedThenRecalled();
        vm.prank(operator);
        registry.liftRecall(x, "mistaken", "");
        vm.prank(buyer);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISupplyAgreements.AgreementsWrongStatus.selector, id, ISupplyAgreements.Status.Disputed
            )
        );
        agreements.rejectDelivery(id, t, x, "changed my mind");
    }

    function test_LiftedRecall_RestoresTheEscalationDefault() public {
        (bytes32 x, ISupplyAgreements.Terms memory t, uint256 id) = escalatedThenRecalled();
        vm.prank(operator);
        registry.liftRecall(x, "mistaken", "");
        vm.warp(block.timestamp + t.arbiterTimeout + 1);
        agreements.resolveByDefault(id, t, x);
        assertEq(registry.getBatch(x).owner, buyer, "title passed");
        assertTrue(agreements.creditOf(farm, address(0)) > 0, "supplier paid");
    }
}
