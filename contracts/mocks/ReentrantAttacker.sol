// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @notice Test double: a contract party that, when paid ETH, re-enters a target with prepared
/// calldata (e.g. `withdraw(address(0))` or `claimDelivery(...)`) and records whether it succeeded.
contract ReentrantAttacker {
    address public target;
    bytes public reentryData;
    bool public attempted;
    bool public reentrySucceeded;
    bytes public reentryResult;
    uint256 public received;
    bool public rejectPayments;

    /// @notice Forward an arbitrary call (lets this contract act as buyer or supplier).
    function execute(address to, bytes calldata data) external payable returns (bytes memory) {
        (bool ok, bytes memory result) = to.call{value: msg.value}(data);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(result, 32), mload(result))
            }
        }
        return result;
    }

    /// @notice Arm the attack: on the next ETH receipt, call `target_` with `data` once.
    function arm(address target_, bytes calldata data) external {
        target = target_;
        reentryData = data;
        attempted = false;
    }

    /// @notice Make `receive` revert (a party that cannot be paid).
    function setRejectPayments(bool reject) external {
        rejectPayments = reject;
    }

    receive() external payable {
        if (rejectPayments) revert("ReentrantAttacker: rejected");
        received += msg.value;
        if (target != address(0) && !attempted) {
            attempted = true;
            (bool ok, bytes memory result) = target.call(reentryData);
            reentrySucceeded = ok;
            reentryResult = result;
        }
    }
}
