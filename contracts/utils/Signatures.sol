// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

import {IERC1271} from "@openzeppelin/contracts/interfaces/IERC1271.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

/// @title Signatures
/// @notice ECDSA-or-EIP-1271 signature check: OpenZeppelin's `SignatureChecker.isValidSignatureNow`
/// without its ERC-7913 part.
/// @dev OpenZeppelin 5.4's `SignatureChecker.sol` imports `utils/Bytes.sol`, whose `mcopy` does not
/// compile for the `shanghai` EVM this project targets (Ganache 7.9). This library keeps the same
/// rules with OpenZeppelin's `ECDSA` and `IERC1271`.
library Signatures {
    /// @notice Whether `signature` is `signer`'s signature of `hash`: for an account without code a
    /// low-s ECDSA signature recovering to it, for a contract a successful `isValidSignature` call
    /// returning the EIP-1271 magic value.
    function isValidNow(address signer, bytes32 hash, bytes calldata signature) internal view returns (bool) {
        if (signer.code.length == 0) {
            // slither-disable-next-line unused-return (the error argument adds nothing to `err`)
            (address recovered, ECDSA.RecoverError err,) = ECDSA.tryRecover(hash, signature);
            return err == ECDSA.RecoverError.NoError && recovered == signer;
        }
        (bool success, bytes memory result) =
            signer.staticcall(abi.encodeCall(IERC1271.isValidSignature, (hash, signature)));
        return success && result.length >= 32
            && abi.decode(result, (bytes32)) == bytes32(IERC1271.isValidSignature.selector);
    }
}
