// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Test} from "../utils/Test.sol";
import {ProvenanceRegistry} from "../../../contracts/ProvenanceRegistry.sol";
import {SupplyAgreements} from "../../../contracts/SupplyAgreements.sol";
import {IProvenanceRegistry} from "../../../contracts/interfaces/IProvenanceRegistry.sol";
import {ISupplyAgreements} from "../../../contracts/interfaces/ISupplyAgreements.sol";
import {BatchState} from "../../../contracts/types/BatchWord.sol";

/// @notice The invariant runner's only target: bounded random actions of two suppliers (the farm and
/// another producer), two buyers, a carrier, a warehouse, a certifier and the operator, honest and
/// hostile, on one registry and its settlement contract. Every successful action updates ghost state;
/// a property that can only be seen at the moment of an action (who was paid for what, what a frozen
/// batch did) is recorded as a violation message that the invariants assert empty.
contract Handler is Test {
    struct Ag {
        address buyer;
        address supplier;
        address carrier;
        uint256 quantity;
        uint256 price;
        uint64 deadline;
        uint32 grace;
        uint32 inspection;
        uint32 timeout;
        uint16 tolerance;
        uint16 perDay;
        uint16 cap;
        bool claim;
        uint256 salt;
    }

    /// @dev What the handler saw of an agreement's current or last tender and its payout.
    struct Ghost {
        bytes32 batch;
        uint256 tenderSeq; // 0: never tendered
        uint256 tenderedAt;
        uint256 quantity; // the batch's quantity at the tender
        uint256 toSupplier;
        uint256 toBuyer;
        bool titleToBuyer;
        ISupplyAgreements.Status terminal; // first terminal status seen (None while open)
    }

    ProvenanceRegistry public immutable registry;
    SupplyAgreements public immutable agreements;
    address public immutable operator;
    address public immutable arbiter;
    address public immutable certifier;
    address public immutable carrier;
    address public immutable warehouse;
    address[2] public suppliers;
    address[2] public buyers;
    uint256[2] public gtins;
    address[] public actors; // every account that can hold credit or goods

    bytes32[] public batches;
    mapping(bytes32 => bytes32) public lotOf;
    Ag[] internal _ags;
    mapping(uint256 => Ghost) public ghosts;
    mapping(uint256 => uint256) public paymentsPerTender; // tender seq => agreements paid by it
    mapping(bytes32 => address) public ownerAtBind; // the supplier a bound batch was tendered by
    uint256 public tenderSeq;
    uint256 public lotCounter;
    uint256 public ethIn; // escrow funded
    uint256 public ethOut; // withdrawn

    string[] public violations;
    mapping(bytes32 => uint256) public calls;
    mapping(bytes32 => uint256) public succeeded;

    constructor(
        ProvenanceRegistry registry_,
        address operator_,
        address arbiter_,
        address certifier_,
        address carrier_,
        address warehouse_,
        address[2] memory suppliers_,
        address[2] memory buyers_,
        uint256[2] memory gtins_
    ) {
        registry = registry_;
        agreements = SupplyAgreements(registry_.settlement());
        operator = operator_;
        arbiter = arbiter_;
        certifier = certifier_;
        carrier = carrier_;
        warehouse = warehouse_;
        suppliers = suppliers_;
        buyers = buyers_;
        gtins = gtins_;
        actors.push(suppliers_[0]);
        actors.push(suppliers_[1]);
        actors.push(buyers_[0]);
        actors.push(buyers_[1]);
        actors.push(carrier_);
        actors.push(warehouse_);
    }

    // ------------------------------------------------------------- views

    function batchCount() external view returns (uint256) {
        return batches.length;
    }

    function agreementCount() external view returns (uint256) {
        return _ags.length;
    }

    function violationCount() external view returns (uint256) {
        return violations.length;
    }

    function actorCount() external view returns (uint256) {
        return actors.length;
    }

    function termsOf(uint256 index) public view returns (ISupplyAgreements.Terms memory t) {
        Ag storage a = _ags[index];
        t.buyer = a.buyer;
        t.supplier = a.supplier;
        t.arbiter = arbiter;
        t.carrier = a.carrier;
        t.gtin = gtins[a.supplier == suppliers[0] ? 0 : 1];
        t.quantity = a.quantity;
        t.uom = "KGM";
        t.toleranceBps = a.tolerance;
        t.price = a.price;
        t.deliveryDeadline = a.deadline;
        t.gracePeriod = a.grace;
        t.inspectionPeriod = a.inspection;
        t.arbiterTimeout = a.timeout;
        t.penaltyBpsPerDay = a.perDay;
        t.penaltyCapBps = a.cap;
        t.requiredClaims = new ISupplyAgreements.RequiredClaim[](a.claim ? 1 : 0);
        if (a.claim) t.requiredClaims[0] = ISupplyAgreements.RequiredClaim("ORGANIC", certifier);
        t.document = "contract";
        t.salt = a.salt;
    }

    /// @dev Agreement id of handler index `i` (ids are 1, 2, … in creation order).
    function idOf(uint256 index) public pure returns (uint256) {
        return index + 1;
    }

    // --------------------------------------------------------- helpers

    function _batch(uint256 seed) internal view returns (bytes32) {
        return batches.length == 0 ? bytes32(0) : batches[seed % batches.length];
    }

    function _ag(uint256 seed) internal view returns (bool, uint256) {
        if (_ags.length == 0) return (false, 0);
        return (true, seed % _ags.length);
    }

    /// @dev From `seed` on, the first agreement in status `a` or `b` (else the one at `seed`): the random
    /// choice favours agreements the action can apply to.
    function _agIn(uint256 seed, ISupplyAgreements.Status a, ISupplyAgreements.Status b)
        internal
        view
        returns (bool, uint256)
    {
        uint256 n = _ags.length;
        if (n == 0) return (false, 0);
        for (uint256 k; k < n; ++k) {
            uint256 i = (seed + k) % n;
            ISupplyAgreements.Status s = agreements.statusOf(idOf(i));
            if (s == a || s == b) return (true, i);
        }
        return (true, seed % n);
    }

    function _info(bytes32 id) internal view returns (IProvenanceRegistry.BatchInfo memory) {
        return registry.getBatch(id);
    }

    function _frozen(bytes32 id) internal view returns (bool) {
        IProvenanceRegistry.BatchInfo memory b = registry.getBatch(id);
        return b.recalled || b.lineageRecalled;
    }

    function _violation(string memory what) internal {
        violations.push(what);
    }

    function _nextLot(bytes32 prefix) internal returns (bytes32) {
        // prefix + two characters 'A'..'Z' (fits the 20-character limit for a few generations)
        uint256 n = lotCounter++;
        uint256 len;
        while (len < 32 && prefix[len] != 0) ++len;
        if (len > 17) return bytes32(0);
        bytes32 lot = prefix;
        lot |= bytes32(uint256(uint8(65 + (n / 26) % 26)) << (8 * (31 - len)));
        lot |= bytes32(uint256(uint8(65 + n % 26)) << (8 * (30 - len)));
        return lot;
    }

    function _addBatch(bytes32 id, bytes32 lot) internal {
        batches.push(id);
        lotOf[id] = lot;
    }

    /// @dev Records credit changes of one agreement's settlement and checks who was paid for what.
    function _settled(uint256 index, uint256 supplierBefore, uint256 buyerBefore, bool title) internal {
        ISupplyAgreements.Terms memory t = termsOf(index);
        Ghost storage g = ghosts[index];
        g.toSupplier += agreements.creditOf(t.supplier, address(0)) - supplierBefore;
        g.toBuyer += agreements.creditOf(t.buyer, address(0)) - buyerBefore;
        if (title) g.titleToBuyer = true;
        if (g.toSupplier != 0) {
            if (g.tenderSeq == 0) _violation("supplier paid without a tender");
            else if (++paymentsPerTender[g.tenderSeq] > 1) _violation("one tender paid two agreements");
        }
    }

    function _sync() internal {
        for (uint256 i; i < _ags.length; ++i) {
            ISupplyAgreements.Status s = agreements.statusOf(idOf(i));
            Ghost storage g = ghosts[i];
            if (g.terminal != ISupplyAgreements.Status.None) {
                if (s != g.terminal) _violation("terminal status changed");
            } else if (
                s == ISupplyAgreements.Status.Settled || s == ISupplyAgreements.Status.Refunded
                    || s == ISupplyAgreements.Status.Resolved || s == ISupplyAgreements.Status.Cancelled
            ) {
                g.terminal = s;
            }
        }
    }

    modifier tracked(bytes32 name) {
        ++calls[name];
        _;
        _sync();
    }

    // ------------------------------------------------------------ batches

    function createBatch(uint256 who, uint256 gtinSeed, uint256 quantity) external tracked("createBatch") {
        address producer = suppliers[who % 2];
        uint256 gtin = gtins[gtinSeed % 2]; // half of the attempts are on the other brand's GTIN
        bytes32 lot = _nextLot("B");
        quantity = bound(quantity, 95, 105);
        vm.prank(producer);
        try registry.createBatch(gtin, lot, uint48(quantity), "KGM", "") returns (bytes32 id) {
            ++succeeded["createBatch"];
            (address holder,,) = registry.prefixOf(gtin);
            if (holder != producer) _violation("batch commissioned without the prefix");
            _addBatch(id, lot);
            if (gtinSeed % 5 == 0) {
                vm.prank(certifier);
                registry.attest(id, "ORGANIC", "evidence", 0, type(uint64).max);
            }
        } catch {}
    }

    function handoff(uint256 batchSeed, uint256 toSeed, bool title) external tracked("handoff") {
        bytes32 id = _batch(batchSeed);
        if (id == 0) return;
        IProvenanceRegistry.BatchInfo memory b = _info(id);
        address to = actors[toSeed % actors.length];
        bool frozen = _frozen(id);
        vm.prank(b.custodian);
        try registry.initiateHandoff(IProvenanceRegistry.Handoff(id, b.custodian, to, 0, 0, 0, title, "")) {
            ++succeeded["handoff"];
            if (frozen) _violation("a frozen batch moved");
            if (b.boundTo != address(0) && (title || (to != b.boundTo && to != carrier))) {
                _violation("a bound batch went astray");
            }
        } catch {}
    }

    function acceptPending(uint256 batchSeed) external tracked("acceptPending") {
        bytes32 id = _batch(batchSeed);
        if (id == 0) return;
        IProvenanceRegistry.BatchInfo memory b = _info(id);
        if (b.pendingTo == address(0)) return;
        bool frozen = _frozen(id);
        vm.prank(b.pendingTo);
        try registry.acceptHandoff(id, "") {
            ++succeeded["acceptPending"];
            if (frozen) _violation("a frozen batch was accepted");
            if (b.boundTo == b.pendingTo) _violation("a buyer took its bound delivery without settling");
        } catch {}
    }

    function cancelOrReject(uint256 batchSeed, bool reject) external tracked("cancelOrReject") {
        bytes32 id = _batch(batchSeed);
        if (id == 0) return;
        IProvenanceRegistry.BatchInfo memory b = _info(id);
        if (b.pendingTo == address(0)) return;
        if (reject) {
            vm.prank(b.pendingTo);
            try registry.rejectHandoff(id, "", "") {
                ++succeeded["cancelOrReject"];
                if (b.tenderLeg) _violation("a tender was rejected through the registry");
            } catch {}
        } else {
            vm.prank(b.custodian);
            try registry.cancelHandoff(id, "") {
                ++succeeded["cancelOrReject"];
                if (b.tenderLeg) _violation("a tender was cancelled through the registry");
            } catch {}
        }
    }

    function split(uint256 batchSeed, uint256 cut, bool two) external tracked("split") {
        bytes32 id = _batch(batchSeed);
        if (id == 0) return;
        IProvenanceRegistry.BatchInfo memory b = _info(id);
        bytes32 lot = lotOf[id];
        bytes32 lotA = _nextLot(lot);
        bytes32 lotB = _nextLot(lot);
        if (lotA == 0) return;
        uint256 q = b.quantity;
        IProvenanceRegistry.Part[] memory parts = new IProvenanceRegistry.Part[](two && q > 1 ? 2 : 1);
        if (parts.length == 2) {
            uint256 first = bound(cut, 1, q - 1);
            parts[0] = IProvenanceRegistry.Part(lotA, uint48(first));
            parts[1] = IProvenanceRegistry.Part(lotB, uint48(q - first));
        } else {
            parts[0] = IProvenanceRegistry.Part(lotA, uint48(q));
        }
        bool frozen = _frozen(id);
        vm.prank(b.custodian);
        try registry.splitBatch(id, lot, parts, 0, "") returns (bytes32[] memory kids) {
            ++succeeded["split"];
            if (frozen) _violation("a frozen batch was split");
            if (b.boundTo != address(0)) _violation("a bound batch was consumed");
            for (uint256 i; i < kids.length; ++i) {
                _addBatch(kids[i], parts[i].lot);
            }
        } catch {}
    }

    function merge(uint256 seedA, uint256 seedB) external tracked("merge") {
        bytes32 a = _batch(seedA);
        bytes32 b = _batch(seedB);
        if (a == 0 || a == b) return;
        IProvenanceRegistry.BatchInfo memory ia = _info(a);
        bytes32 lot = _nextLot(lotOf[a]);
        if (lot == 0) return;
        bytes32[] memory ids = new bytes32[](2);
        ids[0] = a;
        ids[1] = b;
        bool frozen = _frozen(a) || _frozen(b);
        bool bound_ = ia.boundTo != address(0) || _info(b).boundTo != address(0);
        vm.prank(ia.custodian);
        try registry.mergeBatches(ids, lotOf[a], lot, 0, "") returns (bytes32 child) {
            ++succeeded["merge"];
            if (frozen) _violation("a frozen batch was merged");
            if (bound_) _violation("a bound batch was merged");
            _addBatch(child, lot);
        } catch {}
    }

    function transform(uint256 batchSeed, uint256 gtinSeed) external tracked("transform") {
        bytes32 id = _batch(batchSeed);
        if (id == 0) return;
        IProvenanceRegistry.BatchInfo memory b = _info(id);
        uint256 gtin = gtins[gtinSeed % 2];
        bytes32 lot = _nextLot("T");
        IProvenanceRegistry.Output[] memory outs = new IProvenanceRegistry.Output[](1);
        outs[0] = IProvenanceRegistry.Output(gtin, lot, uint48(b.quantity), "KGM");
        bytes32[] memory ids = new bytes32[](1);
        ids[0] = id;
        bool frozen = _frozen(id);
        vm.prank(b.custodian);
        try registry.transformBatches(ids, outs, "") returns (bytes32[] memory out) {
            ++succeeded["transform"];
            (address holder,,) = registry.prefixOf(gtin);
            if (holder != b.custodian) _violation("transform output without the prefix");
            if (frozen) _violation("a frozen batch was transformed");
            if (b.boundTo != address(0)) _violation("a bound batch was transformed");
            _addBatch(out[0], lot);
        } catch {}
    }

    function recall(uint256 batchSeed, bool byOperator) external tracked("recall") {
        bytes32 id = _batch(batchSeed);
        if (id == 0 || batchSeed % 3 != 0) return; // rarer, so that most goods stay movable
        address by = byOperator ? operator : _info(id).origin;
        vm.prank(by);
        try registry.recallBatch(id, "", "") {
            ++succeeded["recall"];
        } catch {}
    }

    function liftRecall(uint256 batchSeed) external tracked("liftRecall") {
        bytes32 id = _batch(batchSeed);
        if (id == 0) return;
        vm.prank(operator);
        try registry.liftRecall(id, "", "") {
            ++succeeded["liftRecall"];
        } catch {}
    }

    function suspendOrReinstate(uint256 actorSeed) external tracked("suspendOrReinstate") {
        address who = actors[actorSeed % actors.length];
        vm.prank(operator);
        if (registry.getParticipant(who).active) {
            try registry.suspendParticipant(who, "") {
                ++succeeded["suspendOrReinstate"];
            } catch {}
        } else {
            try registry.reinstateParticipant(who) {
                ++succeeded["suspendOrReinstate"];
            } catch {}
        }
    }

    /// @dev The operator tries to drive a delivery itself.
    function operatorMeddles(uint256 batchSeed, uint256 which) external tracked("operatorMeddles") {
        bytes32 id = _batch(batchSeed);
        if (id == 0) return;
        IProvenanceRegistry.BatchInfo memory b = _info(id);
        vm.startPrank(operator);
        bool ok;
        if (which % 3 == 0) (ok,) = address(registry).call(abi.encodeCall(registry.releaseDelivery, (id, 1)));
        else if (which % 3 == 1) (ok,) = address(registry).call(abi.encodeCall(registry.transferTitle, (id, 1)));
        else (ok,) = address(registry).call(abi.encodeCall(registry.completeDelivery, (id, b.boundTo, b.owner, "")));
        vm.stopPrank();
        if (ok) _violation("the operator drove a delivery");
    }

    function warp(uint256 secondsAhead) external tracked("warp") {
        vm.warp(block.timestamp + bound(secondsAhead, 1, 4 days));
    }

    // --------------------------------------------------------- agreements

    function newAgreement(uint256 who, uint256 buyerSeed, uint256 numbers, bool viaCarrier, bool claim)
        external
        tracked("newAgreement")
    {
        Ag memory a;
        a.supplier = suppliers[who % 2];
        a.buyer = buyers[buyerSeed % 2];
        a.carrier = viaCarrier ? carrier : address(0);
        a.quantity = 100;
        a.price = bound(numbers % 1e6, 1, 1e6) * 1e12;
        a.deadline = uint64(block.timestamp + bound(numbers >> 20, 1 hours, 10 days));
        a.grace = uint32(bound(numbers >> 40, 0, 5 days));
        a.inspection = uint32(bound(numbers >> 60, 1, 3 days));
        a.timeout = uint32(bound(numbers >> 80, 1, 5 days));
        a.tolerance = uint16(bound(numbers >> 100, 0, 1000));
        if (a.tolerance < 500 && (numbers >> 110) % 4 != 0) a.tolerance = 500; // most batches fit
        a.perDay = uint16(bound(numbers >> 120, 0, 2000));
        a.cap = uint16(bound(numbers >> 140, 0, 10_000));
        a.claim = claim;
        a.salt = _ags.length;
        _ags.push(a);
        uint256 index = _ags.length - 1;
        ISupplyAgreements.Terms memory t = termsOf(index);
        vm.prank(a.buyer);
        uint256 id = agreements.propose(t);
        if (id != idOf(index)) _violation("agreement ids out of step");
        vm.prank(a.supplier);
        agreements.accept(id, t);
        if (numbers % 7 != 0) {
            uint256 escrow = agreements.escrowOf(t);
            vm.deal(a.buyer, escrow);
            vm.prank(a.buyer);
            agreements.fund{value: escrow}(id, t);
            ethIn += escrow;
        }
        ++succeeded["newAgreement"];
    }

    function fundLate(uint256 seed) external tracked("fundLate") {
        (bool any, uint256 i) = _agIn(seed, ISupplyAgreements.Status.Accepted, ISupplyAgreements.Status.Accepted);
        if (!any) return;
        ISupplyAgreements.Terms memory t = termsOf(i);
        uint256 escrow = agreements.escrowOf(t);
        vm.deal(t.buyer, escrow);
        vm.prank(t.buyer);
        try agreements.fund{value: escrow}(idOf(i), t) {
            ++succeeded["fundLate"];
            if (block.timestamp > t.deliveryDeadline) _violation("funded after the deadline");
            ethIn += escrow;
        } catch {}
    }

    /// @dev A supplier (or, with `hostile`, someone else) tenders any batch under an agreement.
    function tender(uint256 seed, uint256 batchSeed, uint256 callerSeed, bool hostile) external tracked("tender") {
        (bool any, uint256 i) = _agIn(seed, ISupplyAgreements.Status.Funded, ISupplyAgreements.Status.Disputed);
        bytes32 id = _batch(batchSeed);
        if (!any || id == 0) return;
        ISupplyAgreements.Terms memory t = termsOf(i);
        address caller = hostile ? actors[callerSeed % actors.length] : t.supplier;
        if (!hostile) id = _suppliersBatch(t, batchSeed, id);
        IProvenanceRegistry.BatchInfo memory b = _info(id);
        bool frozen = _frozen(id);
        ISupplyAgreements.ClaimProof[] memory proofs = new ISupplyAgreements.ClaimProof[](t.requiredClaims.length);
        if (proofs.length == 1) proofs[0] = ISupplyAgreements.ClaimProof(id, "evidence");
        vm.prank(caller);
        try agreements.tender(idOf(i), t, id, IProvenanceRegistry.Leg(0, 0, 0, ""), proofs) {
            ++succeeded["tender"];
            if (caller != t.supplier) _violation("tendered by someone else than the supplier");
            if (b.owner != t.supplier) _violation("tendered goods the supplier did not own");
            if (frozen) _violation("a frozen batch was tendered");
            if (block.timestamp > uint256(t.deliveryDeadline) + t.gracePeriod) _violation("tender after the grace");
            Ghost storage g = ghosts[i];
            g.batch = id;
            g.tenderSeq = ++tenderSeq;
            g.tenderedAt = block.timestamp;
            g.quantity = b.quantity;
            ownerAtBind[id] = t.supplier;
        } catch {}
    }

    /// @dev An honest supplier picks one of its own Active batches of the agreed GTIN (from `seed` on).
    function _suppliersBatch(ISupplyAgreements.Terms memory t, uint256 seed, bytes32 fallback_)
        internal
        view
        returns (bytes32)
    {
        uint256 n = batches.length;
        for (uint256 k; k < n; ++k) {
            bytes32 id = batches[(seed + k) % n];
            IProvenanceRegistry.BatchInfo memory b = _info(id);
            if (
                b.owner == t.supplier && b.gtin == t.gtin && b.state == BatchState.Active && b.boundTo == address(0)
                    && !b.recalled && !b.lineageRecalled
            ) {
                return id;
            }
        }
        return fallback_;
    }

    /// @dev The named carrier picks up a tender and carries it on to the buyer.
    function carrierDelivers(uint256 seed) external tracked("carrierDelivers") {
        (bool any, uint256 i) = _agIn(seed, ISupplyAgreements.Status.Tendered, ISupplyAgreements.Status.Tendered);
        if (!any) return;
        bytes32 id = ghosts[i].batch;
        if (id == 0) return;
        IProvenanceRegistry.BatchInfo memory b = _info(id);
        if (b.pendingTo == carrier) {
            vm.prank(carrier);
            try registry.acceptHandoff(id, "") {
                ++succeeded["carrierDelivers"];
            } catch {}
        } else if (b.custodian == carrier && b.pendingTo == address(0) && b.boundTo != address(0)) {
            vm.prank(carrier);
            try registry.initiateHandoff(IProvenanceRegistry.Handoff(id, carrier, b.boundTo, 0, 0, 0, false, "")) {
                ++succeeded["carrierDelivers"];
            } catch {}
        }
    }

    function acceptDelivery(uint256 seed, uint256 batchSeed) external tracked("acceptDelivery") {
        (bool any, uint256 i) = _agIn(seed, ISupplyAgreements.Status.Tendered, ISupplyAgreements.Status.Disputed);
        if (!any) return;
        ISupplyAgreements.Terms memory t = termsOf(i);
        Ghost storage g = ghosts[i];
        bytes32 id = batchSeed % 4 == 0 ? _batch(batchSeed) : g.batch; // sometimes a wrong batch
        bool frozen = id != 0 && _frozen(id);
        uint256 s0 = agreements.creditOf(t.supplier, address(0));
        uint256 b0 = agreements.creditOf(t.buyer, address(0));
        vm.prank(t.buyer);
        try agreements.acceptDelivery(idOf(i), t, id, "") {
            ++succeeded["acceptDelivery"];
            if (frozen) _violation("a frozen batch settled");
            if (id != g.batch) _violation("settled with another batch");
            _settled(i, s0, b0, true);
            (uint256 expected,) = agreements.payoutFor(t, g.quantity, _daysLate(t, g.tenderedAt));
            if (g.toSupplier != expected) _violation("payout not as fixed at the tender");
            if (_info(id).owner != t.buyer) _violation("settled without title to the buyer");
        } catch {}
    }

    function rejectDelivery(uint256 seed) external tracked("rejectDelivery") {
        (bool any, uint256 i) = _agIn(seed, ISupplyAgreements.Status.Tendered, ISupplyAgreements.Status.Tendered);
        if (!any) return;
        ISupplyAgreements.Terms memory t = termsOf(i);
        vm.prank(t.buyer);
        try agreements.rejectDelivery(idOf(i), t, ghosts[i].batch, "") {
            ++succeeded["rejectDelivery"];
        } catch {}
    }

    function withdrawTender(uint256 seed) external tracked("withdrawTender") {
        (bool any, uint256 i) = _agIn(seed, ISupplyAgreements.Status.Tendered, ISupplyAgreements.Status.Tendered);
        if (!any) return;
        ISupplyAgreements.Terms memory t = termsOf(i);
        vm.prank(t.supplier);
        try agreements.withdrawTender(idOf(i), t, ghosts[i].batch) {
            ++succeeded["withdrawTender"];
        } catch {}
    }

    /// @dev The supplier waits up to 4 days, then escalates.
    function escalate(uint256 seed, uint256 wait) external tracked("escalate") {
        (bool any, uint256 i) = _agIn(seed, ISupplyAgreements.Status.Tendered, ISupplyAgreements.Status.Tendered);
        if (!any) return;
        vm.warp(block.timestamp + bound(wait, 0, 4 days));
        ISupplyAgreements.Terms memory t = termsOf(i);
        vm.prank(t.supplier);
        try agreements.escalate(idOf(i), t, "") {
            ++succeeded["escalate"];
        } catch {}
    }

    function resolve(uint256 seed, uint256 amount, bool deliver) external tracked("resolve") {
        (bool any, uint256 i) = _agIn(seed, ISupplyAgreements.Status.Disputed, ISupplyAgreements.Status.Disputed);
        if (!any) return;
        ISupplyAgreements.Terms memory t = termsOf(i);
        amount = bound(amount, 0, agreements.escrowOf(t));
        uint256 s0 = agreements.creditOf(t.supplier, address(0));
        uint256 b0 = agreements.creditOf(t.buyer, address(0));
        vm.prank(arbiter);
        try agreements.resolve(idOf(i), t, ghosts[i].batch, amount, deliver) {
            ++succeeded["resolve"];
            _settled(i, s0, b0, deliver);
        } catch {}
    }

    /// @dev Anyone, after waiting up to 6 days, applies the default.
    function resolveByDefault(uint256 seed, uint256 wait) external tracked("resolveByDefault") {
        (bool any, uint256 i) = _agIn(seed, ISupplyAgreements.Status.Disputed, ISupplyAgreements.Status.Disputed);
        if (!any) return;
        vm.warp(block.timestamp + bound(wait, 0, 6 days));
        ISupplyAgreements.Terms memory t = termsOf(i);
        Ghost storage g = ghosts[i];
        (, ISupplyAgreements.DisputeKind kind,,,) = agreements.stateOf(idOf(i));
        uint256 s0 = agreements.creditOf(t.supplier, address(0));
        uint256 b0 = agreements.creditOf(t.buyer, address(0));
        try agreements.resolveByDefault(idOf(i), t, g.batch) {
            ++succeeded["resolveByDefault"];
            bool escalated = kind == ISupplyAgreements.DisputeKind.Escalated;
            if (escalated) ++succeeded["defaultPaysSupplier"];
            _settled(i, s0, b0, escalated);
            if (escalated) {
                (uint256 expected,) = agreements.payoutFor(t, g.quantity, _daysLate(t, g.tenderedAt));
                if (g.toSupplier != expected) _violation("default payout not as accepted");
            } else if (_info(g.batch).owner == t.buyer && ownerAtBind[g.batch] == t.supplier) {
                _violation("buyer refunded and holding the title of the delivery");
            }
        } catch {}
    }

    function reclaim(uint256 seed) external tracked("reclaim") {
        (bool any, uint256 i) = _agIn(seed, ISupplyAgreements.Status.Funded, ISupplyAgreements.Status.Funded);
        if (!any) return;
        ISupplyAgreements.Terms memory t = termsOf(i);
        uint256 s0 = agreements.creditOf(t.supplier, address(0));
        uint256 b0 = agreements.creditOf(t.buyer, address(0));
        vm.prank(t.buyer);
        try agreements.reclaim(idOf(i), t) {
            ++succeeded["reclaim"];
            _settled(i, s0, b0, false);
        } catch {}
    }

    function cancel(uint256 seed, bool bySupplier) external tracked("cancel") {
        (bool any, uint256 i) = _ag(seed);
        if (!any || seed % 3 != 0) return; // a rarer move, so that agreements live long enough
        ISupplyAgreements.Terms memory t = termsOf(i);
        uint256 s0 = agreements.creditOf(t.supplier, address(0));
        uint256 b0 = agreements.creditOf(t.buyer, address(0));
        vm.prank(bySupplier ? t.supplier : t.buyer);
        try agreements.cancel(idOf(i), t) {
            ++succeeded["cancel"];
            _settled(i, s0, b0, false);
        } catch {}
    }

    function withdraw(uint256 actorSeed) external tracked("withdraw") {
        address who = actors[actorSeed % actors.length];
        uint256 credit = agreements.creditOf(who, address(0));
        vm.prank(who);
        try agreements.withdraw(address(0)) {
            ++succeeded["withdraw"];
            ethOut += credit;
        } catch {}
    }

    function _daysLate(ISupplyAgreements.Terms memory t, uint256 at) internal pure returns (uint256) {
        return at > t.deliveryDeadline ? (at - t.deliveryDeadline) / 1 days : 0;
    }
}
