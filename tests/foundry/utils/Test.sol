// SPDX-License-Identifier: Apache-2.0
pragma solidity 0.8.37;

/// @notice The Foundry cheatcodes these tests use (forge 1.7; address `0x7109…D12D`). npm's forge-std
/// is an old unofficial 1.1.2, so the suite carries this small interface instead of a library.
interface Vm {
    struct Log {
        bytes32[] topics;
        bytes data;
        address emitter;
    }

    function warp(uint256 timestamp) external;
    function deployCode(string calldata artifact, bytes calldata args) external returns (address);
    function chainId(uint256 id) external;
    function prank(address sender) external;
    function startPrank(address sender) external;
    function stopPrank() external;
    function deal(address account, uint256 balance) external;
    function store(address target, bytes32 slot, bytes32 value) external;
    function load(address target, bytes32 slot) external view returns (bytes32);
    function addr(uint256 privateKey) external pure returns (address);
    function sign(uint256 privateKey, bytes32 digest) external pure returns (uint8 v, bytes32 r, bytes32 s);
    function label(address account, string calldata name) external;
    function expectRevert() external;
    function expectRevert(bytes4 selector) external;
    function expectRevert(bytes calldata data) external;
    function expectEmit(bool checkTopic1, bool checkTopic2, bool checkTopic3, bool checkData, address emitter)
        external;
    function expectEmit(address emitter) external;
    function recordLogs() external;
    function getRecordedLogs() external returns (Log[] memory logs);
    function assume(bool condition) external pure;
    function envOr(string calldata name, bool defaultValue) external view returns (bool);
    function toString(uint256 value) external pure returns (string memory);
    function snapshotState() external returns (uint256 id);
    function revertToState(uint256 id) external returns (bool);

    function assertTrue(bool condition, string calldata message) external pure;
    function assertFalse(bool condition, string calldata message) external pure;
    function assertEq(uint256 a, uint256 b, string calldata message) external pure;
    function assertEq(int256 a, int256 b, string calldata message) external pure;
    function assertEq(address a, address b, string calldata message) external pure;
    function assertEq(bytes32 a, bytes32 b, string calldata message) external pure;
    function assertEq(bool a, bool b, string calldata message) external pure;
    function assertEq(bytes calldata a, bytes calldata b, string calldata message) external pure;
    function assertLe(uint256 a, uint256 b, string calldata message) external pure;
    function assertGe(uint256 a, uint256 b, string calldata message) external pure;
    function assertLt(uint256 a, uint256 b, string calldata message) external pure;
    function assertGt(uint256 a, uint256 b, string calldata message) external pure;
}

/// @notice Minimal test base: the cheatcode handle, assertions (forge's assertion cheatcodes), `bound`
/// and the invariant runner's target hooks (`targetContracts`, `targetSelectors`, `targetSenders`).
abstract contract Test {
    Vm internal constant vm = Vm(address(uint160(uint256(keccak256("hevm cheat code")))));

    /// @dev What `targetSelectors()` returns to forge's invariant runner.
    struct FuzzSelector {
        address addr;
        bytes4[] selectors;
    }

    address[] private _targetContracts;
    FuzzSelector[] private _targetSelectors;
    address[] private _targetSenders;

    function targetContracts() public view returns (address[] memory) {
        return _targetContracts;
    }

    function targetSelectors() public view returns (FuzzSelector[] memory) {
        return _targetSelectors;
    }

    function targetSenders() public view returns (address[] memory) {
        return _targetSenders;
    }

    function targetContract(address target) internal {
        _targetContracts.push(target);
    }

    function targetSelector(FuzzSelector memory selector) internal {
        _targetSelectors.push(selector);
    }

    function targetSender(address sender) internal {
        _targetSenders.push(sender);
    }

    function assertTrue(bool condition) internal pure {
        vm.assertTrue(condition, "expected true");
    }

    function assertTrue(bool condition, string memory message) internal pure {
        vm.assertTrue(condition, message);
    }

    function assertFalse(bool condition) internal pure {
        vm.assertFalse(condition, "expected false");
    }

    function assertFalse(bool condition, string memory message) internal pure {
        vm.assertFalse(condition, message);
    }

    function assertEq(uint256 a, uint256 b) internal pure {
        vm.assertEq(a, b, "uint mismatch");
    }

    function assertEq(uint256 a, uint256 b, string memory message) internal pure {
        vm.assertEq(a, b, message);
    }

    function assertEq(address a, address b) internal pure {
        vm.assertEq(a, b, "address mismatch");
    }

    function assertEq(address a, address b, string memory message) internal pure {
        vm.assertEq(a, b, message);
    }

    function assertEq(bytes32 a, bytes32 b) internal pure {
        vm.assertEq(a, b, "bytes32 mismatch");
    }

    function assertEq(bytes32 a, bytes32 b, string memory message) internal pure {
        vm.assertEq(a, b, message);
    }

    function assertEq(bool a, bool b) internal pure {
        vm.assertEq(a, b, "bool mismatch");
    }

    function assertEq(bool a, bool b, string memory message) internal pure {
        vm.assertEq(a, b, message);
    }

    function assertLe(uint256 a, uint256 b, string memory message) internal pure {
        vm.assertLe(a, b, message);
    }

    function assertGe(uint256 a, uint256 b, string memory message) internal pure {
        vm.assertGe(a, b, message);
    }

    /// @dev `x` mapped into [lo, hi] (as forge-std's `bound`, without its logging).
    function bound(uint256 x, uint256 lo, uint256 hi) internal pure returns (uint256) {
        require(lo <= hi, "bound: lo > hi");
        if (x >= lo && x <= hi) return x;
        uint256 size = hi - lo + 1;
        return lo + (x % size);
    }
}
