// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Fixture} from "../utils/Fixture.sol";
import {IProvenanceRegistry} from "../../../contracts/interfaces/IProvenanceRegistry.sol";

/// @notice The registry's settlement-only entry points (`bindDelivery`, `completeDelivery`,
/// `releaseDelivery`, `transferTitle`), called as the settlement contract, and the rules of a bound batch.
contract RegistrySettlementTest is Fixture {
    IProvenanceRegistry.Leg internal l;

    function _bind(bytes32 x, address supplier, address to, address buyer_) internal {
        vm.prank(address(agreements));
        registry.bindDelivery(x, supplier, to, buyer_, l);
    }

    function test_SettlementOnly_RevertsForOthers() public {
        bytes32 x = createBatch(farm, farmGtin, "L1", 10);
        vm.startPrank(farm);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryNotSettlement.selector, farm));
        registry.bindDelivery(x, farm, buyer, buyer, l);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryNotSettlement.selector, farm));
        registry.completeDelivery(x, buyer, farm, "");
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryNotSettlement.selector, farm));
        registry.releaseDelivery(x, 1);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryNotSettlement.selector, farm));
        registry.transferTitle(x, 1);
        vm.stopPrank();
    }

    function test_Bind_DirectToBuyer() public {
        bytes32 x = createBatch(farm, farmGtin, "L1", 10);
        vm.expectEmit(address(registry));
        emit IProvenanceRegistry.HandoffInitiated(x, farm, buyer, 0, 0, 0, true, bytes32(0), uint64(block.timestamp));
        vm.prank(address(agreements));
        (uint256 gtin, uint256 quantity, bytes3 uom) = registry.bindDelivery(x, farm, buyer, buyer, l);
        assertEq(gtin, farmGtin);
        assertEq(quantity, 10);
        assertEq(uom, KGM);
        IProvenanceRegistry.BatchInfo memory b = info(x);
        assertEq(b.boundTo, buyer);
        assertEq(b.pendingTo, buyer);
        assertTrue(b.tenderLeg);
        assertTrue(b.pendingOwnership, "a tender straight to the buyer passes title on acceptance");
        // the tender leg cannot be cancelled or rejected through the registry
        vm.prank(farm);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryTenderPending.selector, x));
        registry.cancelHandoff(x, "");
        vm.prank(buyer);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryTenderPending.selector, x));
        registry.rejectHandoff(x, "", "");
        vm.prank(buyer);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryBoundDelivery.selector, x, buyer));
        registry.acceptHandoff(x, "");
        // completion
        vm.expectEmit(address(registry));
        emit IProvenanceRegistry.HandoffAccepted(x, farm, buyer, "recv", uint64(block.timestamp));
        vm.prank(address(agreements));
        assertEq(registry.completeDelivery(x, buyer, farm, "recv"), 10);
        b = info(x);
        assertEq(b.owner, buyer);
        assertEq(b.custodian, buyer);
        assertEq(b.boundTo, address(0));
        assertEq(b.pendingTo, address(0));
    }

    function test_Bind_ThroughCarriersToBuyer() public {
        bytes32 x = createBatch(farm, farmGtin, "L1", 10);
        vm.expectEmit(address(registry));
        emit IProvenanceRegistry.HandoffInitiated(x, farm, carrier, 0, 0, 0, false, bytes32(0), uint64(block.timestamp));
        _bind(x, farm, carrier, buyer);
        vm.prank(carrier);
        registry.acceptHandoff(x, "");
        assertFalse(info(x).tenderLeg);
        // a bound batch moves only to carriers or to its buyer, without title
        vm.prank(carrier);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryBoundDelivery.selector, x, buyer));
        registry.initiateHandoff(handoff(x, carrier, warehouse, false));
        vm.prank(carrier);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryBoundDelivery.selector, x, buyer));
        registry.initiateHandoff(handoff(x, carrier, buyer, true));
        // a second carrier
        vm.prank(operator);
        registry.registerParticipant(address(0xCA22), CARRIER, 0, "");
        move(x, carrier, address(0xCA22), false);
        // cancel an ordinary leg of a bound batch: allowed
        vm.prank(address(0xCA22));
        registry.initiateHandoff(handoff(x, address(0xCA22), buyer, false));
        assertTrue(info(x).pendingOwnership, "the leg to the buyer passes title on acceptance");
        vm.prank(address(0xCA22));
        registry.cancelHandoff(x, "");
        vm.expectEmit(address(registry));
        emit IProvenanceRegistry.HandoffInitiated(x, address(0xCA22), buyer, 0, 0, 0, true, "despatch", uint64(block.timestamp));
        vm.prank(address(0xCA22));
        registry.initiateHandoff(handoff(x, address(0xCA22), buyer, false));
        vm.expectEmit(address(registry));
        emit IProvenanceRegistry.HandoffAccepted(x, address(0xCA22), buyer, "", uint64(block.timestamp));
        vm.prank(address(agreements));
        registry.completeDelivery(x, buyer, farm, "");
        assertEq(info(x).owner, buyer);
    }

    function test_Bind_FromSuppliersCarrier() public {
        bytes32 x = createBatch(farm, farmGtin, "L1", 10);
        move(x, farm, carrier, false); // the supplier's own carrier holds it
        vm.expectEmit(address(registry));
        emit IProvenanceRegistry.HandoffInitiated(x, carrier, buyer, 0, 0, 0, true, bytes32(0), uint64(block.timestamp));
        _bind(x, farm, buyer, buyer);
        vm.prank(address(agreements));
        registry.completeDelivery(x, buyer, farm, "");
        assertEq(info(x).owner, buyer);
    }

    function test_Bind_Reverts() public {
        bytes32 x = createBatch(farm, farmGtin, "L1", 10);
        vm.startPrank(address(agreements));
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryUnknownParticipant.selector, stranger));
        registry.bindDelivery(x, stranger, buyer, buyer, l);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryUnknownParticipant.selector, stranger));
        registry.bindDelivery(x, farm, stranger, buyer, l);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryUnknownParticipant.selector, stranger));
        registry.bindDelivery(x, farm, carrier, stranger, l);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryUnknownBatch.selector, bytes32("nope")));
        registry.bindDelivery("nope", farm, buyer, buyer, l);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryNotOwner.selector, x, rival));
        registry.bindDelivery(x, rival, buyer, buyer, l);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryMissingRole.selector, warehouse, CARRIER));
        registry.bindDelivery(x, farm, warehouse, buyer, l);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistrySelfHandoff.selector, x, farm));
        registry.bindDelivery(x, farm, farm, buyer, l);
        vm.stopPrank();
        // held by a non-carrier for the owner
        move(x, farm, warehouse, false);
        vm.prank(address(agreements));
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryNotCustodian.selector, x, farm));
        registry.bindDelivery(x, farm, buyer, buyer, l);
        // a carrier already holding it cannot be the tender point
        bytes32 y = createBatch(farm, farmGtin, "L2", 10);
        move(y, farm, carrier, false);
        vm.prank(address(agreements));
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistrySelfHandoff.selector, y, carrier));
        registry.bindDelivery(y, farm, carrier, buyer, l);
        // already bound
        _bind(y, farm, buyer, buyer);
        vm.prank(address(agreements));
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryHandoffPending.selector, y, buyer));
        registry.bindDelivery(y, farm, buyer, buyer, l);
        bytes32 z = createBatch(farm, farmGtin, "L3", 10);
        _bind(z, farm, carrier, buyer);
        vm.prank(carrier);
        registry.acceptHandoff(z, "");
        vm.prank(address(agreements));
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryBoundDelivery.selector, z, buyer));
        registry.bindDelivery(z, farm, buyer2, buyer2, l);
        // suspended supplier
        bytes32 w = createBatch(farm, farmGtin, "L4", 10);
        vm.prank(operator);
        registry.suspendParticipant(farm, "");
        vm.prank(address(agreements));
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryParticipantInactive.selector, farm));
        registry.bindDelivery(w, farm, buyer, buyer, l);
    }

    function test_Complete_Reverts() public {
        bytes32 x = createBatch(farm, farmGtin, "L1", 10);
        vm.prank(address(agreements));
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryNotBound.selector, x, buyer));
        registry.completeDelivery(x, buyer, farm, "");
        _bind(x, farm, carrier, buyer);
        vm.prank(address(agreements));
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryNotRecipient.selector, x, buyer));
        registry.completeDelivery(x, buyer, farm, "");
        vm.prank(address(agreements));
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryUnknownParticipant.selector, stranger));
        registry.completeDelivery(x, stranger, farm, "");
    }

    function test_Release_CancelsTenderOrLegToBuyer() public {
        bytes32 x = createBatch(farm, farmGtin, "L1", 10);
        vm.prank(address(agreements));
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryNotBound.selector, x, address(0)));
        registry.releaseDelivery(x, 1);
        _bind(x, farm, buyer, buyer);
        vm.expectEmit(address(registry));
        emit IProvenanceRegistry.HandoffCancelled(x, farm, buyer, bytes32(0), uint64(block.timestamp));
        vm.expectEmit(address(registry));
        emit IProvenanceRegistry.DeliveryReleased(x, 7, uint64(block.timestamp));
        vm.prank(address(agreements));
        registry.releaseDelivery(x, 7);
        assertEq(info(x).boundTo, address(0));
        assertEq(info(x).pendingTo, address(0));
        // released while a carrier holds it with a leg pending to the buyer: the leg is withdrawn
        _bind(x, farm, carrier, buyer);
        vm.prank(carrier);
        registry.acceptHandoff(x, "");
        vm.prank(carrier);
        registry.initiateHandoff(handoff(x, carrier, buyer, false));
        vm.prank(address(agreements));
        registry.releaseDelivery(x, 7);
        assertEq(info(x).pendingTo, address(0));
        assertEq(info(x).custodian, carrier);
        assertEq(info(x).owner, farm);
        // a leg between carriers stays pending
        vm.prank(operator);
        registry.registerParticipant(address(0xCA22), CARRIER, 0, "");
        move(x, carrier, farm, false);
        _bind(x, farm, carrier, buyer);
        vm.prank(carrier);
        registry.acceptHandoff(x, "");
        vm.prank(carrier);
        registry.initiateHandoff(handoff(x, carrier, address(0xCA22), false));
        vm.prank(address(agreements));
        registry.releaseDelivery(x, 7);
        assertEq(info(x).pendingTo, address(0xCA22));
    }

    function test_TransferTitle_KeepsPendingLegWithoutTitle() public {
        bytes32 x = createBatch(farm, farmGtin, "L1", 10);
        vm.prank(address(agreements));
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryNotBound.selector, x, address(0)));
        registry.transferTitle(x, 1);
        _bind(x, farm, buyer, buyer);
        vm.expectEmit(address(registry));
        emit IProvenanceRegistry.TitleTransferred(x, 3, farm, buyer, uint64(block.timestamp));
        vm.prank(address(agreements));
        assertEq(registry.transferTitle(x, 3), 10);
        IProvenanceRegistry.BatchInfo memory b = info(x);
        assertEq(b.owner, buyer);
        assertEq(b.custodian, farm);
        assertEq(b.pendingTo, buyer);
        assertFalse(b.tenderLeg);
        assertEq(b.boundTo, address(0));
        vm.prank(buyer);
        registry.acceptHandoff(x, "collected");
        assertEq(info(x).custodian, buyer);
    }
}
