// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Fixture} from "../utils/Fixture.sol";
import {IProvenanceRegistry} from "../../../contracts/interfaces/IProvenanceRegistry.sol";
import {ISupplyAgreements} from "../../../contracts/interfaces/ISupplyAgreements.sol";
import {ERC1271Wallet} from "../../../contracts/mocks/ERC1271Wallet.sol";
import {MockERC20} from "../../../contracts/mocks/MockERC20.sol";
import {FeeOnTransferToken} from "../../../contracts/mocks/FeeOnTransferToken.sol";
import {NoReturnToken} from "../../../contracts/mocks/NoReturnToken.sol";
import {ReentrantAttacker} from "../../../contracts/mocks/ReentrantAttacker.sol";
import {RevertingToken} from "../../../contracts/mocks/RevertingToken.sol";

/// @notice SupplyAgreements: every external function, its events and its custom errors.
contract AgreementsTest is Fixture {
    bytes32 internal x;

    function setUp() public override {
        super.setUp();
        x = createBatch(farm, farmGtin, "X1", 100);
    }

    /// @dev The fixture's terms between the buyer and the farm, due 10 days after the start.
    function base() internal view returns (ISupplyAgreements.Terms memory t) {
        t = terms(buyer, farm, farmGtin);
        t.deliveryDeadline = uint64(START + 10 days);
    }

    function _wrongStatus(uint256 id, ISupplyAgreements.Status s) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(ISupplyAgreements.AgreementsWrongStatus.selector, id, s);
    }

    // ------------------------------------------------------------- propose

    function test_Propose_StoresHashAndEmits() public {
        ISupplyAgreements.Terms memory t = base();
        vm.expectEmit(address(agreements));
        emit ISupplyAgreements.AgreementProposed(1, buyer, farm, t, buyer, uint64(block.timestamp));
        vm.prank(buyer);
        assertEq(agreements.propose(t), 1);
        assertEq(agreements.agreementCount(), 1);
        assertEq(agreements.termsHashOf(1), keccak256(abi.encode(t)));
        assertEq(agreements.hashTerms(t), keccak256(abi.encode(t)));
        (ISupplyAgreements.Status s, ISupplyAgreements.DisputeKind k, uint64 ta, uint64 da, bytes19 tag) = agreements.stateOf(1);
        assertEq(uint8(s), uint8(ISupplyAgreements.Status.Proposed));
        assertEq(uint8(k), 0);
        assertEq(ta, 0);
        assertEq(da, 0);
        assertEq(bytes32(tag), bytes32(0));
        assertEq(uint8(status(99)), 0);
        // the supplier may propose too
        t.salt = 1;
        vm.prank(farm);
        assertEq(agreements.propose(t), 2);
    }

    function test_Propose_RevertsForNonParty() public {
        ISupplyAgreements.Terms memory t = base();
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(ISupplyAgreements.AgreementsNotParty.selector, 0, stranger));
        agreements.propose(t);
    }

    function _expectInvalidParties(ISupplyAgreements.Terms memory bad, address caller) internal {
        vm.prank(caller);
        vm.expectRevert(
            abi.encodeWithSelector(
                ISupplyAgreements.AgreementsInvalidParties.selector, bad.buyer, bad.supplier, bad.arbiter, bad.carrier
            )
        );
        agreements.propose(bad);
    }

    function test_Propose_RevertsOnInvalidParties() public {
        ISupplyAgreements.Terms memory bad = terms(buyer, farm, farmGtin);
        bad.arbiter = address(0);
        _expectInvalidParties(bad, buyer);
        bad = terms(buyer, buyer, farmGtin);
        _expectInvalidParties(bad, buyer);
        bad = terms(buyer, farm, farmGtin);
        bad.arbiter = buyer;
        _expectInvalidParties(bad, buyer);
        bad.arbiter = farm;
        _expectInvalidParties(bad, buyer);
        bad = terms(buyer, farm, farmGtin);
        bad.carrier = farm;
        _expectInvalidParties(bad, buyer);
        bad.carrier = buyer;
        _expectInvalidParties(bad, buyer);
        bad = terms(address(0), farm, farmGtin);
        _expectInvalidParties(bad, farm);
        bad = terms(buyer, address(0), farmGtin);
        _expectInvalidParties(bad, buyer);
    }

    function test_Propose_RevertsOnInvalidNumbers() public {
        ISupplyAgreements.Terms memory bad = terms(buyer, farm, farmGtin);
        vm.startPrank(buyer);
        bad.penaltyCapBps = 10_001;
        vm.expectRevert(abi.encodeWithSelector(ISupplyAgreements.AgreementsInvalidBps.selector, 10_001, 500));
        agreements.propose(bad);
        bad.penaltyCapBps = 1000;
        bad.toleranceBps = 10_001;
        vm.expectRevert(abi.encodeWithSelector(ISupplyAgreements.AgreementsInvalidBps.selector, 1000, 10_001));
        agreements.propose(bad);
        bad.toleranceBps = 500;
        bad.price = 0;
        vm.expectRevert(abi.encodeWithSelector(ISupplyAgreements.AgreementsInvalidAmounts.selector, 0, 100));
        agreements.propose(bad);
        bad.price = 1;
        bad.quantity = 0;
        vm.expectRevert(abi.encodeWithSelector(ISupplyAgreements.AgreementsInvalidAmounts.selector, 1, 0));
        agreements.propose(bad);
        bad.quantity = uint256(type(uint48).max) + 1;
        vm.expectRevert(abi.encodeWithSelector(ISupplyAgreements.AgreementsInvalidAmounts.selector, 1, bad.quantity));
        agreements.propose(bad);
        bad.quantity = 100;
        bad.price = type(uint256).max; // escrow with 5 % tolerance does not fit
        vm.expectRevert(abi.encodeWithSelector(ISupplyAgreements.AgreementsInvalidAmounts.selector, type(uint256).max, 100));
        agreements.propose(bad);
        bad.price = 1 ether;
        bad.deliveryDeadline = uint64(block.timestamp);
        vm.expectRevert(abi.encodeWithSelector(ISupplyAgreements.AgreementsDeadlineInPast.selector, uint64(block.timestamp), uint64(block.timestamp)));
        agreements.propose(bad);
        bad.deliveryDeadline = uint64(block.timestamp + 1);
        bad.inspectionPeriod = 0;
        vm.expectRevert(abi.encodeWithSelector(ISupplyAgreements.AgreementsInvalidPeriods.selector, 0, 7 days));
        agreements.propose(bad);
        bad.inspectionPeriod = 1;
        bad.arbiterTimeout = 0;
        vm.expectRevert(abi.encodeWithSelector(ISupplyAgreements.AgreementsInvalidPeriods.selector, 1, 0));
        agreements.propose(bad);
        vm.stopPrank();
    }

    function test_Propose_RevertsOnClaims() public {
        ISupplyAgreements.Terms memory bad = terms(buyer, farm, farmGtin);
        bad.requiredClaims = new ISupplyAgreements.RequiredClaim[](9);
        for (uint256 i; i < 9; ++i) {
            bad.requiredClaims[i] = ISupplyAgreements.RequiredClaim(bytes32(i), certifier);
        }
        vm.prank(buyer);
        vm.expectRevert(abi.encodeWithSelector(ISupplyAgreements.AgreementsTooManyClaims.selector, 9, 8));
        agreements.propose(bad);
        bad = withClaim(terms(buyer, farm, farmGtin), ORGANIC, address(0));
        vm.prank(buyer);
        vm.expectRevert(abi.encodeWithSelector(ISupplyAgreements.AgreementsInvalidAttester.selector, ORGANIC, address(0)));
        agreements.propose(bad);
        bad = withClaim(terms(buyer, farm, farmGtin), ORGANIC, farm);
        vm.prank(buyer);
        vm.expectRevert(abi.encodeWithSelector(ISupplyAgreements.AgreementsInvalidAttester.selector, ORGANIC, farm));
        agreements.propose(bad);
        assertEq(agreements.MAX_CLAIMS(), 8);
    }

    // ------------------------------------------------------- proposeSigned

    function test_ProposeSigned_BuyerRelaysSuppliersApproval() public {
        ISupplyAgreements.Terms memory t = base();
        ISupplyAgreements.Authorization memory a = signAgreement(FARM_KEY, t, 0, block.timestamp);
        vm.expectEmit(address(agreements));
        emit ISupplyAgreements.AgreementAccepted(1, buyer, uint64(block.timestamp));
        vm.prank(buyer);
        uint256 id = agreements.proposeSigned(t, noAuth(), a);
        assertEq(uint8(status(id)), uint8(ISupplyAgreements.Status.Accepted));
        assertEq(agreements.nonces(farm), 1);
        assertEq(agreements.nonces(buyer), 0);
    }

    function test_ProposeSigned_ThirdPartyRelaysBoth() public {
        ISupplyAgreements.Terms memory t = base();
        ISupplyAgreements.Authorization memory a = signAgreement(BUYER_KEY, t, 0, block.timestamp);
        ISupplyAgreements.Authorization memory b = signAgreement(FARM_KEY, t, 0, block.timestamp);
        vm.prank(stranger);
        uint256 id = agreements.proposeSigned(t, a, b);
        assertEq(uint8(status(id)), uint8(ISupplyAgreements.Status.Accepted));
        // the supplier relays with the buyer's approval
        t.salt = 9;
        a = signAgreement(BUYER_KEY, t, 1, block.timestamp);
        vm.prank(farm);
        agreements.proposeSigned(t, a, noAuth());
    }

    function test_ProposeSigned_Eip1271Buyer() public {
        ERC1271Wallet wallet = new ERC1271Wallet(buyer);
        vm.prank(operator);
        registry.registerParticipant(address(wallet), RETAILER, 0, "");
        ISupplyAgreements.Terms memory w = terms(address(wallet), farm, farmGtin);
        ISupplyAgreements.Authorization memory a = signAgreement(BUYER_KEY, w, 0, block.timestamp);
        vm.prank(farm);
        uint256 id = agreements.proposeSigned(w, a, noAuth());
        // the wallet funds and settles through execute
        uint256 escrow = agreements.escrowOf(w);
        vm.deal(buyer, escrow);
        vm.prank(buyer);
        wallet.execute{value: escrow}(address(agreements), abi.encodeCall(agreements.fund, (id, w)));
        tender(id, w, x);
        vm.prank(buyer);
        wallet.execute(address(agreements), abi.encodeCall(agreements.acceptDelivery, (id, w, x, bytes32(0))));
        assertEq(info(x).owner, address(wallet));
        // a key the wallet does not accept
        w.salt = 1;
        a = signAgreement(FARM_KEY, w, 1, block.timestamp);
        vm.prank(farm);
        vm.expectRevert(abi.encodeWithSelector(ISupplyAgreements.AgreementsInvalidSignature.selector, address(wallet)));
        agreements.proposeSigned(w, a, noAuth());
    }

    function test_ProposeSigned_Reverts() public {
        ISupplyAgreements.Terms memory t = base();
        uint256 deadline = block.timestamp;
        ISupplyAgreements.Authorization memory a = signAgreement(FARM_KEY, t, 0, deadline);
        vm.warp(deadline + 1);
        vm.prank(buyer);
        vm.expectRevert(abi.encodeWithSelector(ISupplyAgreements.AgreementsSignatureExpired.selector, farm, deadline));
        agreements.proposeSigned(t, noAuth(), a);
        t.deliveryDeadline += 1;
        a = signAgreement(FARM_KEY, t, 1, block.timestamp);
        vm.prank(buyer);
        vm.expectRevert(abi.encodeWithSelector(ISupplyAgreements.AgreementsInvalidNonce.selector, farm, 0, 1));
        agreements.proposeSigned(t, noAuth(), a);
        a = signAgreement(CARRIER_KEY, t, 0, block.timestamp);
        vm.prank(buyer);
        vm.expectRevert(abi.encodeWithSelector(ISupplyAgreements.AgreementsInvalidSignature.selector, farm));
        agreements.proposeSigned(t, noAuth(), a);
        // terms are validated first
        ISupplyAgreements.Terms memory bad = terms(buyer, farm, farmGtin);
        bad.price = 0;
        vm.prank(buyer);
        vm.expectRevert(abi.encodeWithSelector(ISupplyAgreements.AgreementsInvalidAmounts.selector, 0, 100));
        agreements.proposeSigned(bad, noAuth(), a);
        // a party that sends the transaction with a (bad) signature is checked too
        ISupplyAgreements.Authorization memory b = signAgreement(BUYER_KEY, t, 0, block.timestamp);
        vm.prank(farm);
        vm.expectRevert(abi.encodeWithSelector(ISupplyAgreements.AgreementsInvalidSignature.selector, farm));
        agreements.proposeSigned(t, b, a);
    }

    function test_UseNonce() public {
        vm.expectEmit(address(agreements));
        emit ISupplyAgreements.NonceInvalidated(farm, 0);
        vm.prank(farm);
        assertEq(agreements.useNonce(), 0);
        assertEq(agreements.nonces(farm), 1);
    }

    function test_DomainSeparator() public view {
        bytes32 expected = keccak256(
            abi.encode(
                keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"),
                keccak256("SupplyAgreements"),
                keccak256("2"),
                block.chainid,
                address(agreements)
            )
        );
        assertEq(agreements.DOMAIN_SEPARATOR(), expected);
    }

    // -------------------------------------------------------------- accept

    function test_Accept() public {
        ISupplyAgreements.Terms memory t = base();
        vm.prank(farm);
        uint256 id = agreements.propose(t);
        vm.prank(farm);
        vm.expectRevert(abi.encodeWithSelector(ISupplyAgreements.AgreementsNotCounterparty.selector, id, farm));
        agreements.accept(id, t);
        vm.expectEmit(address(agreements));
        emit ISupplyAgreements.AgreementAccepted(id, buyer, uint64(block.timestamp));
        vm.prank(buyer);
        agreements.accept(id, t);
        vm.prank(buyer);
        vm.expectRevert(_wrongStatus(id, ISupplyAgreements.Status.Accepted));
        agreements.accept(id, t);
        vm.prank(buyer);
        vm.expectRevert(abi.encodeWithSelector(ISupplyAgreements.AgreementsUnknown.selector, 5));
        agreements.accept(5, t);
    }

    function test_TermsMismatch_OnEveryCall() public {
        ISupplyAgreements.Terms memory t = base();
        uint256 id = agree(t);
        ISupplyAgreements.Terms memory other = terms(buyer, farm, farmGtin);
        other.price = 1;
        bytes memory err = abi.encodeWithSelector(
            ISupplyAgreements.AgreementsTermsMismatch.selector, id, keccak256(abi.encode(t)), keccak256(abi.encode(other))
        );
        vm.expectRevert(err);
        agreements.cancel(id, other);
        vm.expectRevert(err);
        agreements.reclaim(id, other);
        // a non-canonical encoding of the same terms (claims offset moved) does not match either
        bytes memory data = abi.encodeCall(agreements.cancel, (id, t));
        bytes memory shifted = _shiftClaimsOffset(data);
        (bool ok, bytes memory ret) = address(agreements).call(shifted);
        assertFalse(ok);
        assertEq(bytes4(ret), ISupplyAgreements.AgreementsTermsMismatch.selector);
    }

    /// @dev Re-encodes `cancel(id, terms)` calldata with one extra zero word before the claims array.
    function _shiftClaimsOffset(bytes memory data) internal pure returns (bytes memory out) {
        // layout: selector | id | offset(terms)=0x40 | terms head (19 words) | claims...
        uint256 claimsOffsetPos = 4 + 64 + 16 * 32; // word 16 of the terms head: requiredClaims offset
        out = new bytes(data.length + 32);
        for (uint256 i; i < data.length; ++i) {
            out[i < 4 + 64 + 19 * 32 ? i : i + 32] = data[i];
        }
        uint256 offset;
        assembly {
            offset := mload(add(add(out, 32), claimsOffsetPos))
        }
        offset += 32;
        assembly {
            mstore(add(add(out, 32), claimsOffsetPos), offset)
        }
    }

    // -------------------------------------------------------------- cancel

    function test_Cancel_BeforeFundingByEitherParty() public {
        ISupplyAgreements.Terms memory t = base();
        vm.prank(buyer);
        uint256 id = agreements.propose(t);
        vm.prank(stranger);
        vm.expectRevert(abi.encodeWithSelector(ISupplyAgreements.AgreementsNotParty.selector, id, stranger));
        agreements.cancel(id, t);
        vm.expectEmit(address(agreements));
        emit ISupplyAgreements.AgreementCancelled(id, farm, uint64(block.timestamp));
        vm.prank(farm);
        agreements.cancel(id, t);
        assertEq(uint8(status(id)), uint8(ISupplyAgreements.Status.Cancelled));
        vm.prank(farm);
        vm.expectRevert(_wrongStatus(id, ISupplyAgreements.Status.Cancelled));
        agreements.cancel(id, t);
        t.salt = 1;
        uint256 id2 = agree(t);
        vm.prank(buyer);
        agreements.cancel(id2, t);
    }

    function test_Cancel_FundedOnlyBySupplierWithFullRefund() public {
        ISupplyAgreements.Terms memory t = base();
        uint256 id = funded(t);
        vm.prank(buyer);
        vm.expectRevert(abi.encodeWithSelector(ISupplyAgreements.AgreementsNotSupplier.selector, id, buyer));
        agreements.cancel(id, t);
        vm.expectEmit(address(agreements));
        emit ISupplyAgreements.AgreementRefunded(id, 10.5 ether, uint64(block.timestamp));
        vm.prank(farm);
        agreements.cancel(id, t);
        assertEq(uint8(status(id)), uint8(ISupplyAgreements.Status.Refunded));
        assertEq(agreements.creditOf(buyer, address(0)), 10.5 ether);
    }

    // ---------------------------------------------------------------- fund

    function test_Fund_Eth() public {
        ISupplyAgreements.Terms memory t = base();
        uint256 id = agree(t);
        vm.deal(buyer, 20 ether);
        vm.startPrank(buyer);
        vm.expectRevert(abi.encodeWithSelector(ISupplyAgreements.AgreementsWrongValue.selector, id, 10.5 ether, 10 ether));
        agreements.fund{value: 10 ether}(id, t);
        vm.stopPrank();
        vm.deal(farm, 20 ether);
        vm.prank(farm);
        vm.expectRevert(abi.encodeWithSelector(ISupplyAgreements.AgreementsNotBuyer.selector, id, farm));
        agreements.fund{value: 10.5 ether}(id, t);
        vm.expectEmit(address(agreements));
        emit ISupplyAgreements.AgreementFunded(id, address(0), 10.5 ether, uint64(block.timestamp));
        vm.prank(buyer);
        agreements.fund{value: 10.5 ether}(id, t);
        assertEq(address(agreements).balance, 10.5 ether);
        vm.deal(buyer, 20 ether);
        vm.prank(buyer);
        vm.expectRevert(_wrongStatus(id, ISupplyAgreements.Status.Funded));
        agreements.fund{value: 10.5 ether}(id, t);
    }

    function test_Fund_Erc20AndNoReturnToken() public {
        ISupplyAgreements.Terms memory t = base();
        MockERC20 token = new MockERC20("T", "T");
        t.token = address(token);
        uint256 id = agree(t);
        token.mint(buyer, 10.5 ether);
        vm.startPrank(buyer);
        token.approve(address(agreements), 10.5 ether);
        vm.deal(buyer, 1);
        vm.expectRevert(abi.encodeWithSelector(ISupplyAgreements.AgreementsWrongValue.selector, id, 0, 1));
        agreements.fund{value: 1}(id, t);
        agreements.fund(id, t);
        vm.stopPrank();
        assertEq(token.balanceOf(address(agreements)), 10.5 ether);
        tender(id, t, x);
        acceptDelivery(id, t, x);
        vm.prank(farm);
        agreements.withdraw(address(token));
        assertEq(token.balanceOf(farm), 10 ether);

        NoReturnToken usdt = new NoReturnToken();
        ISupplyAgreements.Terms memory u = terms(buyer, farm, farmGtin);
        u.token = address(usdt);
        uint256 id2 = agree(u);
        usdt.mint(buyer, 10.5 ether);
        vm.startPrank(buyer);
        usdt.approve(address(agreements), 10.5 ether);
        agreements.fund(id2, u);
        vm.stopPrank();
        vm.warp(u.deliveryDeadline + u.gracePeriod + 1);
        vm.startPrank(buyer);
        agreements.reclaim(id2, u);
        agreements.withdraw(address(usdt));
        vm.stopPrank();
        assertEq(usdt.balanceOf(buyer), 10.5 ether);
    }

    function test_Fund_RefusesFeeOnTransferToken() public {
        ISupplyAgreements.Terms memory t = base();
        FeeOnTransferToken fee = new FeeOnTransferToken();
        t.token = address(fee);
        uint256 id = agree(t);
        fee.mint(buyer, 10.5 ether);
        vm.startPrank(buyer);
        fee.approve(address(agreements), 10.5 ether);
        vm.expectRevert(
            abi.encodeWithSelector(ISupplyAgreements.AgreementsTransferMismatch.selector, address(fee), 10.5 ether, 10.395 ether)
        );
        agreements.fund(id, t);
        vm.stopPrank();
    }

    // -------------------------------------------------------------- tender

    function test_Tender_BindsAndEmits() public {
        ISupplyAgreements.Terms memory t = base();
        uint256 id = funded(t);
        vm.warp(t.deliveryDeadline + 2 days + 5);
        vm.expectEmit(address(registry));
        emit IProvenanceRegistry.HandoffInitiated(x, farm, buyer, 0, 0, 0, true, "tender", uint64(block.timestamp));
        vm.expectEmit(address(agreements));
        emit ISupplyAgreements.DeliveryTendered(id, x, 2, uint64(block.timestamp));
        tender(id, t, x);
        (ISupplyAgreements.Status s,, uint64 ta,, bytes19 tag) = agreements.stateOf(id);
        assertEq(uint8(s), uint8(ISupplyAgreements.Status.Tendered));
        assertEq(ta, block.timestamp);
        assertEq(bytes32(tag), bytes32(bytes19(x)));
        assertEq(info(x).boundTo, buyer);
    }

    function test_Tender_Reverts() public {
        ISupplyAgreements.Terms memory t = base();
        uint256 id = agree(t);
        vm.prank(farm);
        vm.expectRevert(_wrongStatus(id, ISupplyAgreements.Status.Accepted));
        agreements.tender(id, t, x, leg(), noProofs());
        uint256 escrow = agreements.escrowOf(t);
        vm.deal(buyer, escrow);
        vm.prank(buyer);
        agreements.fund{value: escrow}(id, t);
        vm.prank(buyer);
        vm.expectRevert(abi.encodeWithSelector(ISupplyAgreements.AgreementsNotSupplier.selector, id, buyer));
        agreements.tender(id, t, x, leg(), noProofs());
        // product, unit, quantity
        bytes32 other = createBatch(farm, farmGtin2, "X2", 100);
        vm.prank(farm);
        vm.expectRevert(abi.encodeWithSelector(ISupplyAgreements.AgreementsGtinMismatch.selector, other, farmGtin, farmGtin2));
        agreements.tender(id, t, other, leg(), noProofs());
        vm.prank(farm);
        bytes32 litres = registry.createBatch(farmGtin, "X3", 100, "LTR", "");
        vm.prank(farm);
        vm.expectRevert(abi.encodeWithSelector(ISupplyAgreements.AgreementsUomMismatch.selector, litres, KGM, bytes3("LTR")));
        agreements.tender(id, t, litres, leg(), noProofs());
        bytes32 tooMuch = createBatch(farm, farmGtin, "X4", 106);
        vm.prank(farm);
        vm.expectRevert(abi.encodeWithSelector(ISupplyAgreements.AgreementsQuantityOutOfTolerance.selector, tooMuch, 100, 106));
        agreements.tender(id, t, tooMuch, leg(), noProofs());
        bytes32 tooLittle = createBatch(farm, farmGtin, "X5", 94);
        vm.prank(farm);
        vm.expectRevert(abi.encodeWithSelector(ISupplyAgreements.AgreementsQuantityOutOfTolerance.selector, tooLittle, 100, 94));
        agreements.tender(id, t, tooLittle, leg(), noProofs());
        vm.prank(farm);
        vm.expectRevert(abi.encodeWithSelector(ISupplyAgreements.AgreementsClaimCount.selector, 0, 1));
        agreements.tender(id, t, x, leg(), proof(x));
        // the tender point must be active
        vm.prank(operator);
        registry.suspendParticipant(buyer, "");
        vm.prank(farm);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryParticipantInactive.selector, buyer));
        agreements.tender(id, t, x, leg(), noProofs());
    }

    function test_Tender_WithinToleranceEdges() public {
        ISupplyAgreements.Terms memory t = base();
        uint256 id = funded(t);
        bytes32 edge = createBatch(farm, farmGtin, "X6", 105);
        tender(id, t, edge);
        acceptDelivery(id, t, edge);
        assertEq(agreements.creditOf(farm, address(0)), 10.5 ether, "pro rata up to the escrow");
        assertEq(agreements.creditOf(buyer, address(0)), 0);
    }

    function test_Tender_RequiredClaimOnBatchOrAncestor() public {
        ISupplyAgreements.Terms memory c = withClaim(terms(buyer, farm, farmGtin), ORGANIC, certifier);
        uint256 id = funded(c);
        bytes32 parent = createBatch(farm, farmGtin, "P1", 100);
        attestOrganic(parent);
        bytes32 child = split1(farm, parent, "P1", "P1A", 100);
        vm.prank(farm);
        vm.expectRevert(abi.encodeWithSelector(ISupplyAgreements.AgreementsClaimInvalid.selector, child, ORGANIC, certifier, child));
        agreements.tender(id, c, child, leg(), proof(child));
        vm.prank(farm);
        vm.expectRevert(abi.encodeWithSelector(ISupplyAgreements.AgreementsClaimCount.selector, 1, 0));
        agreements.tender(id, c, child, leg(), noProofs());
        vm.prank(farm);
        agreements.tender(id, c, child, leg(), proof(parent)); // the split did not strip the certificate
        assertEq(uint8(status(id)), uint8(ISupplyAgreements.Status.Tendered));
    }

    // ----------------------------------------------------- withdraw tender

    function test_WithdrawTender() public {
        ISupplyAgreements.Terms memory t = base();
        uint256 id = funded(t);
        vm.prank(farm);
        vm.expectRevert(_wrongStatus(id, ISupplyAgreements.Status.Funded));
        agreements.withdrawTender(id, t, x);
        tender(id, t, x);
        vm.prank(buyer);
        vm.expectRevert(abi.encodeWithSelector(ISupplyAgreements.AgreementsNotSupplier.selector, id, buyer));
        agreements.withdrawTender(id, t, x);
        vm.prank(farm);
        vm.expectRevert(abi.encodeWithSelector(ISupplyAgreements.AgreementsNotTenderedBatch.selector, id, bytes32("other")));
        agreements.withdrawTender(id, t, "other");
        vm.expectEmit(address(agreements));
        emit ISupplyAgreements.TenderWithdrawn(id, x, uint64(block.timestamp));
        vm.prank(farm);
        agreements.withdrawTender(id, t, x);
        assertEq(uint8(status(id)), uint8(ISupplyAgreements.Status.Funded));
        assertEq(info(x).boundTo, address(0));
        assertEq(info(x).pendingTo, address(0));
    }

    function test_WithdrawTender_RefusedOnceCarrierHasIt() public {
        ISupplyAgreements.Terms memory t = base();
        t.carrier = carrier;
        uint256 id = funded(t);
        tender(id, t, x);
        vm.prank(carrier);
        registry.acceptHandoff(x, "");
        vm.prank(farm);
        vm.expectRevert(abi.encodeWithSelector(ISupplyAgreements.AgreementsTenderInTransit.selector, id, x));
        agreements.withdrawTender(id, t, x);
    }

    // ------------------------------------------------------ acceptDelivery

    function test_AcceptDelivery_SettlesWithLatePenaltyMeasuredAtTender() public {
        ISupplyAgreements.Terms memory t = base();
        uint256 id = funded(t);
        vm.warp(t.deliveryDeadline + 3 days + 1); // 3 whole days late: 3 %
        tender(id, t, x);
        vm.warp(block.timestamp + 20 days);
        vm.expectEmit(address(registry));
        emit IProvenanceRegistry.HandoffAccepted(x, farm, buyer, "receiving advice", uint64(block.timestamp));
        vm.expectEmit(address(agreements));
        emit ISupplyAgreements.DeliverySettled(id, x, 9.7 ether, 0.8 ether, 3, uint64(block.timestamp));
        acceptDelivery(id, t, x);
        assertEq(uint8(status(id)), uint8(ISupplyAgreements.Status.Settled));
        assertEq(info(x).owner, buyer);
    }

    function test_AcceptDelivery_ThroughNamedCarrier() public {
        ISupplyAgreements.Terms memory t = base();
        t.carrier = carrier;
        uint256 id = funded(t);
        tender(id, t, x);
        vm.prank(buyer);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryNotRecipient.selector, x, buyer));
        agreements.acceptDelivery(id, t, x, "");
        vm.prank(carrier);
        registry.acceptHandoff(x, "");
        vm.prank(carrier);
        registry.initiateHandoff(handoff(x, carrier, buyer, false));
        vm.expectEmit(address(registry));
        emit IProvenanceRegistry.HandoffAccepted(x, carrier, buyer, "receiving advice", uint64(block.timestamp));
        acceptDelivery(id, t, x);
        assertEq(info(x).owner, buyer);
        assertEq(agreements.creditOf(farm, address(0)), 10 ether);
    }

    function test_AcceptDelivery_Reverts() public {
        ISupplyAgreements.Terms memory t = base();
        uint256 id = funded(t);
        vm.prank(buyer);
        vm.expectRevert(_wrongStatus(id, ISupplyAgreements.Status.Funded));
        agreements.acceptDelivery(id, t, x, "");
        tender(id, t, x);
        vm.prank(farm);
        vm.expectRevert(abi.encodeWithSelector(ISupplyAgreements.AgreementsNotBuyer.selector, id, farm));
        agreements.acceptDelivery(id, t, x, "");
        vm.prank(buyer);
        vm.expectRevert(abi.encodeWithSelector(ISupplyAgreements.AgreementsNotTenderedBatch.selector, id, bytes32("y")));
        agreements.acceptDelivery(id, t, "y", "");
        vm.prank(farm);
        registry.recallBatch(x, "", "");
        vm.prank(buyer);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryBatchRecalled.selector, x));
        agreements.acceptDelivery(id, t, x, "");
    }

    // ------------------------------------------------------ rejectDelivery

    function test_RejectDelivery_ThenRetenderMeasuresNewTender() public {
        ISupplyAgreements.Terms memory t = base();
        uint256 id = funded(t);
        tender(id, t, x);
        vm.prank(farm);
        vm.expectRevert(abi.encodeWithSelector(ISupplyAgreements.AgreementsNotBuyer.selector, id, farm));
        agreements.rejectDelivery(id, t, x, "");
        vm.prank(buyer);
        vm.expectRevert(abi.encodeWithSelector(ISupplyAgreements.AgreementsNotTenderedBatch.selector, id, bytes32("y")));
        agreements.rejectDelivery(id, t, "y", "");
        vm.expectEmit(address(registry));
        emit IProvenanceRegistry.DeliveryReleased(x, id, uint64(block.timestamp));
        vm.expectEmit(address(agreements));
        emit ISupplyAgreements.DisputeRaised(id, buyer, ISupplyAgreements.DisputeKind.Rejected, "wet", uint64(block.timestamp));
        vm.prank(buyer);
        agreements.rejectDelivery(id, t, x, "wet");
        vm.prank(buyer);
        vm.expectRevert(_wrongStatus(id, ISupplyAgreements.Status.Disputed));
        agreements.rejectDelivery(id, t, x, "");
        // after a rejection the buyer cannot accept; the supplier cures late
        vm.prank(buyer);
        vm.expectRevert(_wrongStatus(id, ISupplyAgreements.Status.Disputed));
        agreements.acceptDelivery(id, t, x, "");
        vm.warp(t.deliveryDeadline + 1 days + 1);
        bytes32 cure = createBatch(farm, farmGtin, "X9", 100);
        tender(id, t, cure);
        (ISupplyAgreements.Status s, ISupplyAgreements.DisputeKind k,, uint64 da,) = agreements.stateOf(id);
        assertEq(uint8(s), uint8(ISupplyAgreements.Status.Tendered));
        assertEq(uint8(k), 0);
        assertEq(da, 0);
        acceptDelivery(id, t, cure);
        assertEq(agreements.creditOf(farm, address(0)), 9.9 ether, "1 day late at the re-tender");
    }

    // ------------------------------------------------------------ escalate

    function test_Escalate() public {
        ISupplyAgreements.Terms memory t = base();
        uint256 id = funded(t);
        vm.prank(farm);
        vm.expectRevert(_wrongStatus(id, ISupplyAgreements.Status.Funded));
        agreements.escalate(id, t, "");
        tender(id, t, x);
        uint256 after_ = block.timestamp + t.inspectionPeriod;
        vm.warp(after_);
        vm.prank(farm);
        vm.expectRevert(abi.encodeWithSelector(ISupplyAgreements.AgreementsInspectionPending.selector, id, after_, after_));
        agreements.escalate(id, t, "");
        vm.warp(after_ + 1);
        vm.prank(buyer);
        vm.expectRevert(abi.encodeWithSelector(ISupplyAgreements.AgreementsNotSupplier.selector, id, buyer));
        agreements.escalate(id, t, "");
        vm.expectEmit(address(agreements));
        emit ISupplyAgreements.DisputeRaised(id, farm, ISupplyAgreements.DisputeKind.Escalated, "silence", uint64(block.timestamp));
        vm.prank(farm);
        agreements.escalate(id, t, "silence");
        // the buyer may still accept; a re-tender is not possible
        vm.prank(farm);
        vm.expectRevert(_wrongStatus(id, ISupplyAgreements.Status.Disputed));
        agreements.tender(id, t, x, leg(), noProofs());
        acceptDelivery(id, t, x);
        assertEq(uint8(status(id)), uint8(ISupplyAgreements.Status.Settled));
    }

    // ------------------------------------------------------------- reclaim

    function test_Reclaim() public {
        ISupplyAgreements.Terms memory t = base();
        uint256 id = funded(t);
        uint256 after_ = t.deliveryDeadline + t.gracePeriod;
        vm.warp(after_);
        vm.prank(buyer);
        vm.expectRevert(abi.encodeWithSelector(ISupplyAgreements.AgreementsNotRefundableYet.selector, id, after_, after_));
        agreements.reclaim(id, t);
        vm.warp(after_ + 1);
        vm.prank(farm);
        vm.expectRevert(abi.encodeWithSelector(ISupplyAgreements.AgreementsNotBuyer.selector, id, farm));
        agreements.reclaim(id, t);
        vm.expectEmit(address(agreements));
        emit ISupplyAgreements.AgreementRefunded(id, 10.5 ether, uint64(block.timestamp));
        vm.prank(buyer);
        agreements.reclaim(id, t);
        assertEq(agreements.creditOf(buyer, address(0)), 10.5 ether);
    }

    // ------------------------------------------------------------- resolve

    function _rejected(ISupplyAgreements.Terms memory t) internal returns (uint256 id) {
        id = funded(t);
        tender(id, t, x);
        vm.prank(buyer);
        agreements.rejectDelivery(id, t, x, "");
    }

    function _escalated(ISupplyAgreements.Terms memory t) internal returns (uint256 id) {
        id = funded(t);
        tender(id, t, x);
        vm.warp(block.timestamp + t.inspectionPeriod + 1);
        vm.prank(farm);
        agreements.escalate(id, t, "");
    }

    function test_Resolve_AfterRejection() public {
        ISupplyAgreements.Terms memory t = base();
        uint256 id = _rejected(t);
        vm.prank(buyer);
        vm.expectRevert(abi.encodeWithSelector(ISupplyAgreements.AgreementsNotArbiter.selector, id, buyer));
        agreements.resolve(id, t, x, 0, false);
        vm.prank(arbiter);
        vm.expectRevert(abi.encodeWithSelector(ISupplyAgreements.AgreementsAwardTooHigh.selector, id, 10.5 ether + 1, 10.5 ether));
        agreements.resolve(id, t, x, 10.5 ether + 1, false);
        vm.prank(arbiter);
        vm.expectRevert(abi.encodeWithSelector(ISupplyAgreements.AgreementsNothingToDeliver.selector, id));
        agreements.resolve(id, t, x, 1 ether, true);
        vm.expectEmit(address(agreements));
        emit ISupplyAgreements.DisputeResolved(id, 1 ether, 9.5 ether, false, false, uint64(block.timestamp));
        vm.prank(arbiter);
        agreements.resolve(id, t, bytes32(0), 1 ether, false);
        assertEq(agreements.creditOf(farm, address(0)), 1 ether);
        assertEq(agreements.creditOf(buyer, address(0)), 9.5 ether);
        vm.prank(arbiter);
        vm.expectRevert(_wrongStatus(id, ISupplyAgreements.Status.Resolved));
        agreements.resolve(id, t, x, 0, false);
    }

    function test_Resolve_EscalatedWithDelivery() public {
        ISupplyAgreements.Terms memory t = base();
        uint256 id = _escalated(t);
        vm.prank(arbiter);
        vm.expectRevert(abi.encodeWithSelector(ISupplyAgreements.AgreementsNotTenderedBatch.selector, id, bytes32("y")));
        agreements.resolve(id, t, "y", 5 ether, true);
        vm.expectEmit(address(registry));
        emit IProvenanceRegistry.TitleTransferred(x, id, farm, buyer, uint64(block.timestamp));
        vm.prank(arbiter);
        agreements.resolve(id, t, x, 5 ether, true);
        assertEq(info(x).owner, buyer);
        assertEq(agreements.creditOf(farm, address(0)), 5 ether);
        assertEq(agreements.creditOf(buyer, address(0)), 5.5 ether);
    }

    function test_Resolve_EscalatedWithoutDelivery() public {
        ISupplyAgreements.Terms memory t = base();
        uint256 id = _escalated(t);
        vm.prank(arbiter);
        agreements.resolve(id, t, x, 0, false);
        assertEq(info(x).owner, farm);
        assertEq(info(x).boundTo, address(0));
        assertEq(info(x).pendingTo, address(0));
        assertEq(agreements.creditOf(buyer, address(0)), 10.5 ether);
    }

    function test_ResolveByDefault_AfterRejectionRefunds() public {
        ISupplyAgreements.Terms memory t = base();
        uint256 id = _rejected(t);
        uint256 after_ = block.timestamp + t.arbiterTimeout;
        vm.warp(after_);
        vm.expectRevert(abi.encodeWithSelector(ISupplyAgreements.AgreementsArbiterTimeoutPending.selector, id, after_, after_));
        agreements.resolveByDefault(id, t, x);
        vm.warp(after_ + 1);
        vm.expectEmit(address(agreements));
        emit ISupplyAgreements.DisputeResolved(id, 0, 10.5 ether, false, true, uint64(block.timestamp));
        vm.prank(stranger);
        agreements.resolveByDefault(id, t, bytes32(0));
        assertEq(agreements.creditOf(buyer, address(0)), 10.5 ether);
    }

    function test_ResolveByDefault_AfterEscalationPaysAsAccepted() public {
        ISupplyAgreements.Terms memory t = base();
        vm.warp(t.deliveryDeadline + 2 days + 1);
        uint256 id;
        {
            // funded before the deadline, tendered 2 days late
            vm.warp(START);
            id = funded(t);
            vm.warp(t.deliveryDeadline + 2 days + 1);
            tender(id, t, x);
            vm.warp(block.timestamp + t.inspectionPeriod + 1);
            vm.prank(farm);
            agreements.escalate(id, t, "");
        }
        vm.warp(block.timestamp + t.arbiterTimeout + 1);
        vm.expectRevert(abi.encodeWithSelector(ISupplyAgreements.AgreementsNotTenderedBatch.selector, id, bytes32("y")));
        agreements.resolveByDefault(id, t, "y");
        vm.expectEmit(address(agreements));
        emit ISupplyAgreements.DisputeResolved(id, 9.8 ether, 0.7 ether, true, true, uint64(block.timestamp));
        agreements.resolveByDefault(id, t, x);
        assertEq(info(x).owner, buyer);
        vm.expectRevert(_wrongStatus(id, ISupplyAgreements.Status.Resolved));
        agreements.resolveByDefault(id, t, x);
    }

    // ------------------------------------------------------------ withdraw

    function test_Withdraw_Eth() public {
        ISupplyAgreements.Terms memory t = base();
        uint256 id = funded(t);
        tender(id, t, x);
        acceptDelivery(id, t, x);
        vm.expectEmit(address(agreements));
        emit ISupplyAgreements.Withdrawn(farm, address(0), 10 ether);
        vm.prank(farm);
        agreements.withdraw(address(0));
        assertEq(farm.balance, 10 ether);
        assertEq(agreements.creditOf(farm, address(0)), 0);
        vm.prank(farm);
        vm.expectRevert(abi.encodeWithSelector(ISupplyAgreements.AgreementsNothingToWithdraw.selector, farm, address(0)));
        agreements.withdraw(address(0));
    }

    function test_Withdraw_FailedPayeeKeepsCredit() public {
        ReentrantAttacker payee = new ReentrantAttacker();
        vm.prank(operator);
        registry.registerParticipant(address(payee), RETAILER, 0, "");
        ISupplyAgreements.Terms memory p = terms(address(payee), farm, farmGtin);
        vm.prank(address(payee));
        uint256 id = agreements.propose(p);
        vm.prank(farm);
        agreements.accept(id, p);
        vm.deal(address(payee), 10.5 ether);
        vm.prank(address(payee));
        agreements.fund{value: 10.5 ether}(id, p);
        vm.prank(farm);
        agreements.cancel(id, p);
        payee.setRejectPayments(true);
        vm.prank(address(payee));
        vm.expectRevert(abi.encodeWithSelector(ISupplyAgreements.AgreementsEthTransferFailed.selector, address(payee), 10.5 ether));
        agreements.withdraw(address(0));
        assertEq(agreements.creditOf(address(payee), address(0)), 10.5 ether);
        // re-entering withdraw from the receive hook fails; the outer withdraw pays once
        payee.setRejectPayments(false);
        payee.arm(address(agreements), abi.encodeCall(agreements.withdraw, (address(0))));
        vm.prank(address(payee));
        agreements.withdraw(address(0));
        assertTrue(payee.attempted());
        assertFalse(payee.reentrySucceeded());
        assertEq(payee.received(), 10.5 ether);
        assertEq(address(agreements).balance, 0);
    }

    function test_Withdraw_RevertingTokenKeepsCredit() public {
        ISupplyAgreements.Terms memory t = base();
        RevertingToken token = new RevertingToken();
        t.token = address(token);
        uint256 id = agree(t);
        token.mint(buyer, 10.5 ether);
        vm.startPrank(buyer);
        token.approve(address(agreements), 10.5 ether);
        agreements.fund(id, t);
        vm.stopPrank();
        vm.prank(farm);
        agreements.cancel(id, t);
        token.setBroken(true);
        vm.prank(buyer);
        vm.expectRevert(RevertingToken.RevertingTokenBroken.selector);
        agreements.withdraw(address(token));
        assertEq(agreements.creditOf(buyer, address(token)), 10.5 ether);
    }

    // --------------------------------------------------------------- views

    function test_EscrowOfAndPayoutFor() public view {
        ISupplyAgreements.Terms memory t = base();
        assertEq(agreements.escrowOf(t), 10.5 ether);
        ISupplyAgreements.Terms memory r = terms(buyer, farm, farmGtin);
        r.price = 3;
        r.toleranceBps = 1; // ceil(3 * 1 / 10000) = 1
        assertEq(agreements.escrowOf(r), 4);
        r.toleranceBps = 0;
        assertEq(agreements.escrowOf(r), 3);
        (uint256 s, uint256 b) = agreements.payoutFor(t, 100, 0);
        assertEq(s, 10 ether);
        assertEq(b, 0.5 ether);
        (s, b) = agreements.payoutFor(t, 95, 5);
        assertEq(s, 9.025 ether); // 9.5 ether - 5 %
        assertEq(b, 1.475 ether);
        (s,) = agreements.payoutFor(t, 100, 50);
        assertEq(s, 9 ether, "capped at 10 %");
        (s,) = agreements.payoutFor(t, 100, 20_000);
        assertEq(s, 9 ether, "past 10,000 days: the cap");
        ISupplyAgreements.Terms memory np = terms(buyer, farm, farmGtin);
        np.penaltyBpsPerDay = 0;
        (s,) = agreements.payoutFor(np, 100, 30);
        assertEq(s, 10 ether, "no daily rate");
    }

    function test_PayoutFor_HugeAmountsUseFullPrecision() public view {
        ISupplyAgreements.Terms memory h = terms(buyer, farm, farmGtin);
        h.toleranceBps = 0;
        h.price = type(uint256).max / 2;
        h.penaltyCapBps = 10_000;
        h.penaltyBpsPerDay = 10_000;
        (uint256 s, uint256 b) = agreements.payoutFor(h, 100, 0);
        assertEq(s, h.price);
        assertEq(b, 0);
        (s, b) = agreements.payoutFor(h, 100, 1);
        assertEq(s, 0, "100 % penalty");
        assertEq(b, h.price);
    }

    function test_PayoutFor_Reverts() public {
        ISupplyAgreements.Terms memory t = base();
        ISupplyAgreements.Terms memory bad = terms(buyer, farm, farmGtin);
        bad.penaltyCapBps = 10_001;
        vm.expectRevert(abi.encodeWithSelector(ISupplyAgreements.AgreementsInvalidBps.selector, 10_001, 500));
        agreements.payoutFor(bad, 100, 0);
        vm.expectRevert(abi.encodeWithSelector(ISupplyAgreements.AgreementsQuantityOutOfTolerance.selector, bytes32(0), 100, 200));
        agreements.payoutFor(t, 200, 0);
        vm.expectRevert(abi.encodeWithSelector(ISupplyAgreements.AgreementsQuantityOutOfTolerance.selector, bytes32(0), 100, 2 ** 48));
        agreements.payoutFor(t, 2 ** 48, 0);
        bad = terms(buyer, farm, farmGtin);
        bad.quantity = 0;
        vm.expectRevert(abi.encodeWithSelector(ISupplyAgreements.AgreementsQuantityOutOfTolerance.selector, bytes32(0), 0, 0));
        agreements.payoutFor(bad, 0, 0);
        bad.quantity = 2 ** 48;
        vm.expectRevert(abi.encodeWithSelector(ISupplyAgreements.AgreementsQuantityOutOfTolerance.selector, bytes32(0), 2 ** 48, 1));
        agreements.payoutFor(bad, 1, 0);
    }

    /// @notice Penalty is non-decreasing in days late and at most the cap (fuzzed).
    function testFuzz_PayoutFor_PenaltyMonotoneAndCapped(uint256 quantity, uint16 bpsPerDay, uint16 cap, uint256 d1, uint256 d2)
        public
        view
    {
        ISupplyAgreements.Terms memory f = terms(buyer, farm, farmGtin);
        f.penaltyBpsPerDay = bpsPerDay;
        f.penaltyCapBps = uint16(bound(cap, 0, 10_000));
        quantity = bound(quantity, 95, 105);
        d1 = bound(d1, 0, 30_000);
        d2 = bound(d2, d1, 30_000);
        (uint256 s1, uint256 b1) = agreements.payoutFor(f, quantity, d1);
        (uint256 s2,) = agreements.payoutFor(f, quantity, d2);
        uint256 payment = f.price * quantity / f.quantity;
        assertLe(s2, s1, "non-decreasing penalty");
        assertGe(s1, payment - payment * f.penaltyCapBps / 10_000, "at most the cap");
        assertEq(s1 + b1, agreements.escrowOf(f), "conservation");
    }
}
