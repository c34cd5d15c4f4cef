// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Fixture} from "../utils/Fixture.sol";
import {Handler} from "./Handler.sol";

/// @notice Guards against a vacuous invariant campaign: a deterministic random walk over the handler's
/// actions must reach every outcome the invariants are about (settlement, refunds, defaults both
/// ways, arbiter awards, splits, merges, transformations, recalls and their lifting) without a
/// recorded violation.
contract HandlerWalkTest is Fixture {
    Handler internal handler;

    function setUp() public override {
        super.setUp();
        address[2] memory suppliers = [farm, rival];
        address[2] memory buyers = [buyer, buyer2];
        uint256[2] memory gtins = [farmGtin, rivalGtin];
        handler = new Handler(registry, operator, arbiter, certifier, carrier, warehouse, suppliers, buyers, gtins);
    }

    function _step(uint256 r) internal {
        uint256 a = uint256(keccak256(abi.encode(r, 1)));
        uint256 b = uint256(keccak256(abi.encode(r, 2)));
        uint256 c = uint256(keccak256(abi.encode(r, 3)));
        bool f = (r >> 200) & 1 == 1;
        uint256 action = r % 25;
        if (action == 0) handler.createBatch(a, b, c);
        else if (action == 1) handler.handoff(a, b, f);
        else if (action == 2) handler.acceptPending(a);
        else if (action == 3) handler.cancelOrReject(a, f);
        else if (action == 4) handler.split(a, b, f);
        else if (action == 5) handler.merge(a, b);
        else if (action == 6) handler.transform(a, b);
        else if (action == 7) handler.recall(a, f);
        else if (action == 8) handler.liftRecall(a);
        else if (action == 9) handler.suspendOrReinstate(a);
        else if (action == 10) handler.operatorMeddles(a, b);
        else if (action == 11) handler.warp(a);
        else if (action == 12) handler.newAgreement(a, b, c, f, (r >> 201) & 3 == 0);
        else if (action == 13) handler.fundLate(a);
        else if (action == 14) handler.tender(a, b, c, (r >> 202) & 7 == 0);
        else if (action == 15) handler.acceptDelivery(a, b);
        else if (action == 16) handler.rejectDelivery(a);
        else if (action == 17) handler.withdrawTender(a);
        else if (action == 18) handler.escalate(a, b);
        else if (action == 19) handler.resolve(a, b, f);
        else if (action == 20) handler.resolveByDefault(a, b);
        else if (action == 21) handler.reclaim(a);
        else if (action == 22) handler.cancel(a, f);
        else if (action == 23) handler.withdraw(a);
        else handler.carrierDelivers(a);
    }

    bytes32[21] internal _names = [
        bytes32("createBatch"), "handoff", "acceptPending", "cancelOrReject", "split", "merge", "transform",
        "recall", "liftRecall", "newAgreement", "tender", "acceptDelivery", "rejectDelivery", "escalate",
        "resolve", "resolveByDefault", "reclaim", "withdraw", "defaultPaysSupplier", "withdrawTender", "cancel"
    ];

    function test_RandomWalkReachesEveryOutcome() public {
        bytes32[21] memory names = _names;
        uint256[21] memory seen; // memory survives the state reverts between runs
        for (uint256 run; run < 40; ++run) {
            uint256 snap = vm.snapshotState();
            for (uint256 i; i < 50; ++i) {
                uint256 r = uint256(keccak256(abi.encode(run, i)));
                // favour the productive actions early in a run
                if (i < 6) r = r - (r % 25) + (i % 2 == 0 ? 0 : 12);
                else if (i % 5 == 0) r = r - (r % 25) + 14; // a tender
                else if (i % 5 == 2) r = r - (r % 25) + [uint256(15), 16, 18, 19, 20, 24][(r >> 128) % 6]; // a response to one
                _step(r);
            }
            assertEq(handler.violationCount(), 0, "no violation");
            for (uint256 k; k < names.length; ++k) {
                seen[k] += handler.succeeded(names[k]);
            }
            vm.revertToState(snap);
        }
        if (vm.envOr("WALK_DEBUG", false)) {
            bytes memory report;
            for (uint256 k; k < names.length; ++k) {
                report = abi.encodePacked(report, names[k], "=", vm.toString(seen[k]), " ");
            }
            revert(string(report));
        }
        for (uint256 k; k < names.length; ++k) {
            assertGe(seen[k], 1, string(abi.encodePacked("never succeeded: ", names[k])));
        }
    }
}
