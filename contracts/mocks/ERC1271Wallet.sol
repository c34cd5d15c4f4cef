// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// @notice Test double: a smart-contract wallet (as a multisig would be) that approves a digest when
/// its owner key signed it (EIP-1271), and forwards calls from its owner so it can act as a participant.
contract ERC1271Wallet is IERC1271 {
    address public immutable owner;
    bool public approveAll;

    constructor(address owner_) {
        owner = owner_;
    }

    /// @notice Make `isValidSignature` approve any digest (to test that callers rely on the wallet).
    function setApproveAll(bool value) external {
        require(msg.sender == owner, "ERC1271Wallet: not owner");
        approveAll = value;
    }

    /// @notice Forward a call from the owner, as this wallet.
    function execute(address to, bytes calldata data) external payable returns (bytes memory) {
        require(msg.sender == owner, "ERC1271Wallet: not owner");
        (bool ok, bytes memory result) = to.call{value: msg.value}(data);
        if (!ok) {
            assembly ("memory-safe") {
                revert(add(result, 32), mload(result))
            }
        }
        return result;
    }

    /// @inheritdoc IERC1271
    function isValidSignature(bytes32 hash, bytes memory signature) external view returns (bytes4) {
        (address signer, ECDSA.RecoverError err,) = ECDSA.tryRecover(hash, signature);
        bool ok = approveAll || (err == ECDSA.RecoverError.NoError && signer == owner);
        return ok ? IERC1271.isValidSignature.selector : bytes4(0xffffffff);
    }

    receive() external payable {}
}
