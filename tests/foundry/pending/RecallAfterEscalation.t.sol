// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {Fixture} from "../utils/Fixture.sol";
import {IProvenanceRegistry} from "../../../contracts/interfaces/IProvenanceRegistry.sol";
import {ISupplyAgreements} from "../../../contracts/interfaces/ISupplyAgreements.sol";

/// @notice SPEC DOUBT, not in the default run (`skip` in foundry.toml). Issue 9: "A recall of the
/// delivered goods or their ancestors before acceptance lets the buyer refuse and blocks settlement".
/// After an escalation the buyer can no longer reject (rejectDelivery needs Tendered) and cannot
/// accept (the recall blocks completeDelivery), yet `resolveByDefault` pays the supplier in full for
/// recalled goods and passes their title (`transferTitle` ignores recalls by design). This test states
/// the issue's expectation and FAILS against the current contracts.
/// Run: FOUNDRY_PROFILE=pending node_modules/.bin/forge test --offline --match-path 'tests/foundry/pending/*'
contract RecallAfterEscalationTest is Fixture {
    function test_Pending_RecallBeforeAcceptanceBlocksDefaultPayment() public {
        bytes32 x = createBatch(farm, farmGtin, "X1", 100);
        ISupplyAgreements.Terms memory t = terms(buyer, farm, farmGtin);
        uint256 id = funded(t);
        tender(id, t, x);
        vm.warp(block.timestamp + t.inspectionPeriod + 1);
        vm.prank(farm);
        agreements.escalate(id, t, "no answer");
        vm.prank(operator);
        registry.recallBatch(x, "contamination", "");
        // the buyer can neither accept nor reject now
        vm.prank(buyer);
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryBatchRecalled.selector, x));
        agreements.acceptDelivery(id, t, x, "");
        vm.warp(block.timestamp + t.arbiterTimeout + 1);
        // expected by the issue: settlement of recalled goods is blocked (the arbiter decides)
        vm.expectRevert(abi.encodeWithSelector(IProvenanceRegistry.RegistryBatchRecalled.selector, x));
        agreements.resolveByDefault(id, t, x);
    }
}
