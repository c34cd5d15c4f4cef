// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Fixture} from "../utils/Fixture.sol";
import {IProvenanceRegistry} from "../../../contracts/interfaces/IProvenanceRegistry.sol";
import {BatchState} from "../../../contracts/types/BatchWord.sol";
import {ERC1271Wallet} from "../../../contracts/mocks/ERC1271Wallet.sol";

/// @notice Commissioning, handoffs (two-step, bulk, co-signed with ECDSA or EIP-1271) and nonces.
contract RegistryBatchesTest is Fixture {
    // -------------------------------------------------------------- create

    function test_CreateBatch_StoresAndEmits() public {
        bytes32 id = registry.batchIdOf(farmGtin, "L1");
        assertEq(id, keccak256(abi.encode(farmGtin, bytes32("L1"))));
        vm.expectEmit(address(registry));
        emit IProvenanceRegistry.BatchCreated(id, farm, farmGtin, "L1", 100, KGM, "doc", uint64(block.timestamp));
        vm.prank(farm);
        assertEq(registry.createBatch(farmGtin, "L1", 100, KGM, "doc"), id);
        IProvenanceRegistry.BatchInfo memory b = info(id);
        assertEq(b.custodian, farm);
        assertEq(b.owner, farm);
        assertEq(b.origin, farm);
        assertEq(b.pendingTo, address(0));
        assertEq(b.boundTo, address(0));
        assertEq(uint8(b.state), uint8(BatchState.Active));
        assertEq(b.gtin, farmGtin);
        assertEq(b.quantity, 100);
        assertEq(b.uom, KGM);
        assertEq(b.ancestors, 0);
        assertEq(registry.lineageOf(id).length, 0);
        // an unknown id reads as zero
        assertEq(uint8(info(bytes32("nope")).state), uint8(BatchState.None));
    }

    function test_CreateBatch_AcceptsEdgeFormats() public {
        createBatch(farm, farmGtin, "ABCDEFGHIJKLMNOPQRST", 1); // 20 characters
        createBatch(farm, farmGtin, "a-z_0.9/%'()*+,:;<=>", type(uint48).max); // AI 82 set, 20 chars
        createBatch(farm, farmGtin, "?\"!&", 1);
        vm.prank(farm);
        registry.createBatch(farmGtin, "U2", 1, "KG", ""); // two-character unit
    }

    function test_CreateBatch_RevertsForCallerWithoutRightOrPrefix() public {
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryUnknownParticipant.selector, stranger));
        registry.createBatch(farmGtin, "L1", 1, KGM, "");
        vm.prank(carrier);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryMissingRole.selector, carrier, PRODUCER));
        registry.createBatch(farmGtin, "L1", 1, KGM, "");
        vm.prank(rival);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryNotPrefixHolder.selector, farmGtin, rival));
        registry.createBatch(farmGtin, "L1", 1, KGM, "");
        uint256 unassigned = gtinOf(9012, 4, 1);
        vm.prank(farm);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryNotPrefixHolder.selector, unassigned, farm));
        registry.createBatch(unassigned, "L1", 1, KGM, "");
    }

    function test_CreateBatch_RevertsOnInvalidGtin() public {
        uint256[3] memory bad = [uint256(0), 1e14, farmGtin + 1];
        for (uint256 i; i < bad.length; ++i) {
            vm.prank(farm);
            vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryInvalidGtin.selector, bad[i]));
            registry.createBatch(bad[i], "L1", 1, KGM, "");
        }
    }

    function test_CreateBatch_RevertsOnInvalidLot() public {
        bytes32[6] memory bad = [
            bytes32(0), // empty
            bytes32(uint256(0x41)), // not left-aligned
            bytes32("ABCDEFGHIJKLMNOPQRSTU"), // 21 characters
            bytes32("A B"), // space is not in the AI 82 set
            bytes32(abi.encodePacked(bytes2("A\x00"), bytes1("B"))), // a gap
            bytes32("L\x7f")
        ];
        for (uint256 i; i < bad.length; ++i) {
            vm.prank(farm);
            vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryInvalidLot.selector, bad[i]));
            registry.createBatch(farmGtin, bad[i], 1, KGM, "");
        }
    }

    function test_CreateBatch_RevertsOnQuantityUnitOrDuplicate() public {
        vm.startPrank(farm);
        vm.expectRevert(IProvenanceRegistry.RegistryZeroQuantity.selector);
        registry.createBatch(farmGtin, "L1", 0, KGM, "");
        bytes3[5] memory bad = [bytes3("kgm"), bytes3("K"), bytes3(0), bytes3(hex"004b47"), bytes3("KG-")];
        for (uint256 i; i < bad.length; ++i) {
            vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryInvalidUom.selector, bad[i]));
            registry.createBatch(farmGtin, "L1", 1, bad[i], "");
        }
        bytes32 id = registry.createBatch(farmGtin, "L1", 1, KGM, "");
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryBatchExists.selector, id));
        registry.createBatch(farmGtin, "L1", 1, KGM, "");
        vm.stopPrank();
    }

    function test_CreateBatches_CommissionsAllOrNothing() public {
        IProvenanceRegistry.NewBatch[] memory nb = new IProvenanceRegistry.NewBatch[](2);
        nb[0] = IProvenanceRegistry.NewBatch(farmGtin, "B1", 10, KGM, "d1");
        nb[1] = IProvenanceRegistry.NewBatch(farmGtin2, "B2", 20, KGM, "d2");
        vm.prank(farm);
        bytes32[] memory created = registry.createBatches(nb);
        assertEq(created.length, 2);
        assertEq(info(created[1]).quantity, 20);
        nb[0].lot = "B3";
        nb[1].gtin = rivalGtin; // not the farm's
        vm.prank(farm);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryNotPrefixHolder.selector, rivalGtin, farm));
        registry.createBatches(nb);
        assertEq(uint8(info(registry.batchIdOf(farmGtin, "B3")).state), 0, "first entry rolled back");
        vm.prank(farm);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryInvalidInputCount.selector, 0));
        registry.createBatches(new IProvenanceRegistry.NewBatch[](0));
        vm.prank(carrier);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryMissingRole.selector, carrier, PRODUCER));
        registry.createBatches(nb);
    }

    // ------------------------------------------------------------ handoffs

    function test_InitiateAndAccept_CustodyOnly() public {
        bytes32 x = createBatch(farm, farmGtin, "L1", 10);
        IProvenanceRegistry.Handoff memory h = IProvenanceRegistry.Handoff(x, farm, carrier, 4012345000009, 1, 2, false, "d");
        vm.expectEmit(address(registry));
        emit IProvenanceRegistry.HandoffInitiated(x, farm, carrier, 4012345000009, 1, 2, false, "d", uint64(block.timestamp));
        vm.prank(farm);
        registry.initiateHandoff(h);
        assertEq(info(x).pendingTo, carrier);
        assertFalse(info(x).pendingOwnership);
        vm.expectEmit(address(registry));
        emit IProvenanceRegistry.HandoffAccepted(x, farm, carrier, "recv", uint64(block.timestamp));
        vm.prank(carrier);
        registry.acceptHandoff(x, "recv");
        assertEq(info(x).custodian, carrier);
        assertEq(info(x).owner, farm);
        assertEq(info(x).pendingTo, address(0));
    }

    function test_InitiateAndAccept_WithTitle() public {
        bytes32 x = createBatch(farm, farmGtin, "L1", 10);
        vm.prank(farm);
        registry.initiateHandoff(handoff(x, farm, buyer, true));
        assertTrue(info(x).pendingOwnership);
        vm.prank(buyer);
        registry.acceptHandoff(x, "");
        assertEq(info(x).owner, buyer);
        assertEq(info(x).custodian, buyer);
    }

    function test_InitiateHandoff_Reverts() public {
        bytes32 x = createBatch(farm, farmGtin, "L1", 10);
        vm.prank(buyer);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryCallerNotSender.selector, farm, buyer));
        registry.initiateHandoff(handoff(x, farm, buyer, false));
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryUnknownParticipant.selector, stranger));
        registry.initiateHandoff(handoff(x, stranger, buyer, false));
        vm.prank(farm);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryUnknownParticipant.selector, stranger));
        registry.initiateHandoff(handoff(x, farm, stranger, false));
        vm.prank(farm);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryUnknownBatch.selector, bytes32("nope")));
        registry.initiateHandoff(handoff("nope", farm, buyer, false));
        vm.prank(farm);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistrySelfHandoff.selector, x, farm));
        registry.initiateHandoff(handoff(x, farm, farm, false));
        vm.prank(buyer);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryNotCustodian.selector, x, buyer));
        registry.initiateHandoff(handoff(x, buyer, carrier, false));
        vm.prank(farm);
        registry.initiateHandoff(handoff(x, farm, carrier, false));
        vm.prank(farm);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryHandoffPending.selector, x, carrier));
        registry.initiateHandoff(handoff(x, farm, buyer, false));
        vm.prank(carrier);
        registry.acceptHandoff(x, "");
        // custodian but not owner: no title
        vm.prank(carrier);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryNotOwner.selector, x, carrier));
        registry.initiateHandoff(handoff(x, carrier, buyer, true));
        // consumed
        bytes32 y = createBatch(farm, farmGtin, "L2", 10);
        split1(farm, y, "L2", "L2A", 10);
        vm.prank(farm);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryBatchNotActive.selector, y, BatchState.Consumed));
        registry.initiateHandoff(handoff(y, farm, buyer, false));
        // recalled
        vm.prank(farm);
        registry.recallBatch(x, "", "");
        vm.prank(carrier);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryBatchRecalled.selector, x));
        registry.initiateHandoff(handoff(x, carrier, buyer, false));
    }

    function test_InitiateHandoff_RevertsForSuspendedParties() public {
        bytes32 x = createBatch(farm, farmGtin, "L1", 10);
        vm.prank(operator);
        registry.suspendParticipant(carrier, "");
        vm.prank(farm);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryParticipantInactive.selector, carrier));
        registry.initiateHandoff(handoff(x, farm, carrier, false));
        vm.prank(operator);
        registry.suspendParticipant(farm, "");
        vm.prank(farm);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryParticipantInactive.selector, farm));
        registry.initiateHandoff(handoff(x, farm, buyer, false));
    }

    function test_InitiateHandoffs_Bulk() public {
        bytes32 a = createBatch(farm, farmGtin, "L1", 10);
        bytes32 b = createBatch(farm, farmGtin, "L2", 10);
        vm.prank(farm);
        registry.initiateHandoffs(ids2(a, b), buyer, 0, 0, 0, true, "d");
        vm.prank(buyer);
        registry.acceptHandoffs(ids2(a, b), "r");
        assertEq(info(a).owner, buyer);
        assertEq(info(b).custodian, buyer);
        vm.prank(buyer);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryInvalidInputCount.selector, 0));
        registry.initiateHandoffs(new bytes32[](0), farm, 0, 0, 0, false, "");
        vm.prank(buyer);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryInvalidInputCount.selector, 0));
        registry.acceptHandoffs(new bytes32[](0), "");
        vm.prank(buyer);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryUnknownParticipant.selector, stranger));
        registry.initiateHandoffs(ids1(a), stranger, 0, 0, 0, false, "");
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryUnknownParticipant.selector, stranger));
        registry.initiateHandoffs(ids1(a), buyer, 0, 0, 0, false, "");
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryUnknownParticipant.selector, stranger));
        registry.acceptHandoffs(ids1(a), "");
    }

    function test_AcceptHandoff_Reverts() public {
        bytes32 x = createBatch(farm, farmGtin, "L1", 10);
        vm.prank(buyer);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryNoPendingHandoff.selector, x));
        registry.acceptHandoff(x, "");
        vm.prank(farm);
        registry.initiateHandoff(handoff(x, farm, carrier, false));
        vm.prank(buyer);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryNotRecipient.selector, x, buyer));
        registry.acceptHandoff(x, "");
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryUnknownParticipant.selector, stranger));
        registry.acceptHandoff(x, "");
        vm.prank(farm);
        registry.recallBatch(x, "", "");
        vm.prank(carrier);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryBatchRecalled.selector, x));
        registry.acceptHandoff(x, "");
    }

    function test_RejectHandoff() public {
        bytes32 x = createBatch(farm, farmGtin, "L1", 10);
        vm.prank(buyer);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryNoPendingHandoff.selector, x));
        registry.rejectHandoff(x, "", "");
        vm.prank(farm);
        registry.initiateHandoff(handoff(x, farm, buyer, true));
        vm.prank(carrier);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryNotRecipient.selector, x, carrier));
        registry.rejectHandoff(x, "", "");
        // a suspended recipient may still reject (it only undoes a pending handoff)
        vm.prank(operator);
        registry.suspendParticipant(buyer, "");
        vm.expectEmit(address(registry));
        emit IProvenanceRegistry.HandoffRejected(x, farm, buyer, "damaged", "photo", uint64(block.timestamp));
        vm.prank(buyer);
        registry.rejectHandoff(x, "damaged", "photo");
        assertEq(info(x).pendingTo, address(0));
        assertEq(info(x).custodian, farm);
    }

    function test_CancelHandoff() public {
        bytes32 x = createBatch(farm, farmGtin, "L1", 10);
        vm.prank(farm);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryNoPendingHandoff.selector, x));
        registry.cancelHandoff(x, "");
        vm.prank(farm);
        registry.initiateHandoff(handoff(x, farm, buyer, false));
        vm.prank(buyer);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryNotCustodian.selector, x, buyer));
        registry.cancelHandoff(x, "");
        vm.expectEmit(address(registry));
        emit IProvenanceRegistry.HandoffCancelled(x, farm, buyer, "oops", uint64(block.timestamp));
        vm.prank(farm);
        registry.cancelHandoff(x, "oops");
        assertEq(info(x).pendingTo, address(0));
    }

    // ----------------------------------------------------- co-signed handoffs

    function test_RecordHandoff_BothSignedRelayedByAnyone() public {
        bytes32 x = createBatch(farm, farmGtin, "L1", 10);
        IProvenanceRegistry.Handoff memory h = handoff(x, farm, buyer, true);
        uint256 deadline = block.timestamp + 1 hours;
        IProvenanceRegistry.Authorization memory s = signHandoff(FARM_KEY, h, 0, deadline);
        IProvenanceRegistry.Authorization memory r = signHandoff(BUYER_KEY, h, 0, deadline);
        vm.expectEmit(address(registry));
        emit IProvenanceRegistry.HandoffInitiated(x, farm, buyer, 0, 0, 0, true, "despatch", uint64(block.timestamp));
        vm.expectEmit(address(registry));
        emit IProvenanceRegistry.HandoffAccepted(x, farm, buyer, "despatch", uint64(block.timestamp));
        vm.prank(stranger);
        registry.recordHandoff(h, s, r);
        assertEq(info(x).owner, buyer);
        assertEq(registry.nonces(farm), 1);
        assertEq(registry.nonces(buyer), 1);
        // replay: the nonces are used up
        vm.prank(buyer);
        registry.initiateHandoff(handoff(x, buyer, farm, false));
        vm.prank(farm);
        registry.acceptHandoff(x, "");
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryInvalidNonce.selector, farm, 1, 0));
        registry.recordHandoff(h, s, r);
    }

    function test_RecordHandoff_SenderCallsReceiverSigns() public {
        bytes32 x = createBatch(farm, farmGtin, "L1", 10);
        IProvenanceRegistry.Handoff memory h = handoff(x, farm, buyer, false);
        IProvenanceRegistry.Authorization memory consent = signHandoff(BUYER_KEY, h, 0, block.timestamp);
        vm.prank(farm);
        registry.recordHandoff(h, noHandoffAuth(), consent);
        assertEq(info(x).custodian, buyer);
        assertEq(registry.nonces(farm), 0, "the caller's nonce is untouched");
        // the receiver calls, the sender signs
        IProvenanceRegistry.Handoff memory back = handoff(x, buyer, farm, false);
        consent = signHandoff(BUYER_KEY, back, 1, block.timestamp);
        vm.prank(farm);
        registry.recordHandoff(back, consent, noHandoffAuth());
        assertEq(info(x).custodian, farm);
    }

    function test_RecordHandoff_RejectsBadConsent() public {
        bytes32 x = createBatch(farm, farmGtin, "L1", 10);
        IProvenanceRegistry.Handoff memory h = handoff(x, farm, buyer, false);
        uint256 deadline = block.timestamp + 1;
        // order of checks: deadline, nonce, signature
        vm.warp(deadline + 1);
        vm.prank(farm);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistrySignatureExpired.selector, buyer, deadline));
        registry.recordHandoff(h, noHandoffAuth(), IProvenanceRegistry.Authorization(7, deadline, hex"00"));
        deadline = block.timestamp;
        vm.prank(farm);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryInvalidNonce.selector, buyer, 0, 7));
        registry.recordHandoff(h, noHandoffAuth(), IProvenanceRegistry.Authorization(7, deadline, hex"00"));
        // signed by someone else
        IProvenanceRegistry.Authorization memory wrong = signHandoff(CARRIER_KEY, h, 0, deadline);
        vm.prank(farm);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryInvalidSignature.selector, buyer));
        registry.recordHandoff(h, noHandoffAuth(), wrong);
        // signed for other details
        wrong = signHandoff(BUYER_KEY, handoff(x, farm, buyer, true), 0, deadline);
        vm.prank(farm);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryInvalidSignature.selector, buyer));
        registry.recordHandoff(h, noHandoffAuth(), wrong);
        // a malleable (high-s) twin of a valid signature
        IProvenanceRegistry.Authorization memory good = signHandoff(BUYER_KEY, h, 0, deadline);
        vm.prank(farm);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryInvalidSignature.selector, buyer));
        registry.recordHandoff(h, noHandoffAuth(), IProvenanceRegistry.Authorization(0, deadline, _highS(good.signature)));
        // another chain id: another domain
        uint256 chain = block.chainid;
        vm.chainId(chain + 1);
        vm.prank(farm);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryInvalidSignature.selector, buyer));
        registry.recordHandoff(h, noHandoffAuth(), good);
        vm.chainId(chain);
        // a sender who does not call must sign too
        vm.prank(buyer);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryInvalidSignature.selector, farm));
        registry.recordHandoff(h, IProvenanceRegistry.Authorization(0, deadline, ""), noHandoffAuth());
        vm.prank(farm);
        registry.recordHandoff(h, noHandoffAuth(), good);
        assertEq(info(x).custodian, buyer);
    }

    function _highS(bytes memory sig) internal pure returns (bytes memory) {
        uint256 n = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141;
        bytes32 r;
        bytes32 s;
        uint8 v;
        assembly {
            r := mload(add(sig, 32))
            s := mload(add(sig, 64))
            v := byte(0, mload(add(sig, 96)))
        }
        return abi.encodePacked(r, bytes32(n - uint256(s)), v == 27 ? uint8(28) : uint8(27));
    }

    function test_RecordHandoff_Eip1271WalletParticipant() public {
        ERC1271Wallet wallet = new ERC1271Wallet(buyer);
        vm.prank(operator);
        registry.registerParticipant(address(wallet), RETAILER, 0, "multisig");
        bytes32 x = createBatch(farm, farmGtin, "L1", 10);
        IProvenanceRegistry.Handoff memory h = handoff(x, farm, address(wallet), true);
        // the wallet's owner key signs; the wallet approves it (EIP-1271)
        IProvenanceRegistry.Authorization memory consent = signHandoff(BUYER_KEY, h, 0, block.timestamp);
        vm.prank(farm);
        registry.recordHandoff(h, noHandoffAuth(), consent);
        assertEq(info(x).owner, address(wallet));
        // a key the wallet does not accept
        bytes32 y = createBatch(farm, farmGtin, "L2", 10);
        IProvenanceRegistry.Handoff memory h2 = handoff(y, farm, address(wallet), true);
        consent = signHandoff(FARM_KEY, h2, 1, block.timestamp);
        vm.prank(farm);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryInvalidSignature.selector, address(wallet)));
        registry.recordHandoff(h2, noHandoffAuth(), consent);
        // the registry relies on the wallet's answer
        vm.prank(buyer);
        wallet.setApproveAll(true);
        vm.prank(farm);
        registry.recordHandoff(h2, noHandoffAuth(), IProvenanceRegistry.Authorization(1, block.timestamp, hex"01"));
        assertEq(info(y).owner, address(wallet));
        // the wallet acts through execute
        vm.prank(buyer);
        wallet.execute(
            address(registry), abi.encodeCall(registry.initiateHandoff, (handoff(y, address(wallet), farm, true)))
        );
        assertEq(info(y).pendingTo, farm);
        // a contract signer that answers garbage
        vm.prank(operator);
        registry.registerParticipant(address(this), RETAILER, 0, "");
        bytes32 z = createBatch(farm, farmGtin, "L3", 10);
        IProvenanceRegistry.Handoff memory h3 = handoff(z, farm, address(this), false);
        vm.prank(farm);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryInvalidSignature.selector, address(this)));
        registry.recordHandoff(h3, noHandoffAuth(), IProvenanceRegistry.Authorization(0, block.timestamp, hex"01"));
    }

    /// @dev This test contract is a contract signer without `isValidSignature` returning the magic value.
    function isValidSignature(bytes32, bytes memory) external pure returns (bytes4) {
        return 0x12345678;
    }

    function test_UseNonce_InvalidatesOutstandingConsent() public {
        bytes32 x = createBatch(farm, farmGtin, "L1", 10);
        IProvenanceRegistry.Handoff memory h = handoff(x, farm, buyer, false);
        IProvenanceRegistry.Authorization memory consent = signHandoff(BUYER_KEY, h, 0, block.timestamp);
        vm.expectEmit(address(registry));
        emit IProvenanceRegistry.NonceInvalidated(buyer, 0);
        vm.prank(buyer);
        assertEq(registry.useNonce(), 0);
        assertEq(registry.nonces(buyer), 1);
        vm.prank(farm);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryInvalidNonce.selector, buyer, 1, 0));
        registry.recordHandoff(h, noHandoffAuth(), consent);
    }

    function test_DomainSeparator() public view {
        bytes32 expected = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256("ProvenanceRegistry"),
                keccak256("2"),
                block.chainid,
                address(registry)
            )
        );
        assertEq(registry.DOMAIN_SEPARATOR(), expected);
    }
}
