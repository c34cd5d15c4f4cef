// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {ERC20} from "@openzeppelin/contracts/token/ERC20/ERC20.sol";

/// @notice Test double: a standard ERC-20 whose transfers revert while `broken` is set.
contract RevertingToken is ERC20 {
    error RevertingTokenBroken();

    bool public broken;

    constructor() ERC20("Reverting Token", "REV") {}

    function mint(address to, uint256 amount) external {
        _mint(to, amount);
    }

    /// @notice Switch transfers off (`true`) or back on.
    function setBroken(bool broken_) external {
        broken = broken_;
    }

    function _update(address from, address to, uint256 value) internal override {
        if (broken) revert RevertingTokenBroken();
        super._update(from, to, value);
    }
}
