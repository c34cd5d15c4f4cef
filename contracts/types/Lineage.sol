// SPDX-License-Identifier: MIT
pragma solidity ^0.8.24;

/// @notice The lineage set shared by the outputs of one split, merge or transform: the recall right's
/// holder (origin) and the lineage numbers of all their ancestors, at most `LineageLib.MAX`, in two
/// storage slots.
/// @dev `head`: count in bits 0-7, origin (participant id) in bits 8-31, then numbers 0-6 at bits
/// 32 + 32·i. `tail`: numbers 7-14 at bits 32·(i − 7); written and read only when the count exceeds 7.
/// A set never changes after it is written, so a recall of any ancestor is found by checking at most
/// `MAX` numbers.
struct LineageSet {
    uint256 head;
    uint256 tail;
}

/// @title LineageLib
/// @notice Encoding of `LineageSet` to and from a memory array of lineage numbers.
library LineageLib {
    /// @notice The most ancestors one batch can carry.
    uint256 internal constant MAX = 15;

    uint256 private constant HEAD_SLOTS = 7;
    uint256 private constant NUMBER_MASK = (1 << 32) - 1;

    /// @notice The recall right's holder of the batches sharing `set`.
    function origin(LineageSet storage set) internal view returns (uint24) {
        return uint24(set.head >> 8);
    }

    /// @notice The numbers of `set` (empty for a batch without ancestors).
    function load(LineageSet storage set) internal view returns (uint32[] memory numbers) {
        uint256 head = set.head;
        uint256 count = head & 0xff;
        numbers = new uint32[](count);
        // safe: count <= MAX, so every shift below stays within the word
        unchecked {
            for (uint256 i; i < count && i < HEAD_SLOTS; ++i) {
                numbers[i] = uint32((head >> (32 + 32 * i)) & NUMBER_MASK);
            }
            if (count > HEAD_SLOTS) {
                uint256 tail = set.tail;
                for (uint256 i = HEAD_SLOTS; i < count; ++i) {
                    numbers[i] = uint32((tail >> (32 * (i - HEAD_SLOTS))) & NUMBER_MASK);
                }
            }
        }
    }

    /// @notice Writes `origin_` and the first `count` numbers of `numbers` (`count` <= MAX, checked by
    /// the caller).
    function store(LineageSet storage set, uint24 origin_, uint32[] memory numbers, uint256 count) internal {
        uint256 head = count | (uint256(origin_) << 8);
        uint256 tail = 0;
        // safe: count <= MAX, so every shift below stays within the word
        unchecked {
            for (uint256 i; i < count; ++i) {
                if (i < HEAD_SLOTS) head |= uint256(numbers[i]) << (32 + 32 * i);
                else tail |= uint256(numbers[i]) << (32 * (i - HEAD_SLOTS));
            }
        }
        set.head = head;
        if (count > HEAD_SLOTS) set.tail = tail;
    }

    /// @notice Adds `number` to the first `count` entries of `buffer` unless present; returns the new
    /// count, or MAX + 1 when the set would exceed MAX (the caller reverts).
    function insert(uint32[] memory buffer, uint256 count, uint32 number) internal pure returns (uint256) {
        for (uint256 i; i < count; ++i) {
            if (buffer[i] == number) return count;
        }
        if (count == MAX) return MAX + 1;
        buffer[count] = number;
        return count + 1;
    }
}
