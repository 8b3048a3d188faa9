"""RFC 9162 (RFC 6962) Merkle tree hashing and its inclusion and consistency proofs.

A tree over n leaves is stored as its perfect subtrees: node (level, index) is the hash of
leaves [index * 2**level, (index + 1) * 2**level). Every hash a proof needs is either such a
node or the hash of a range that ends at the tree's right edge, folded from O(log n) nodes; so
proofs are O(log n) node reads, never a walk over the leaves.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

EMPTY_ROOT = hashlib.sha256(b"").digest()
Node = tuple[int, int]  # (level, index)
LeafRange = tuple[int, int]  # [start, end)
NodeReader = Callable[[Iterable[Node]], dict[Node, bytes]]


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(width: int) -> int:
    """The largest power of two below `width` (> 1): the size of the left subtree."""
    return 1 << ((width - 1).bit_length() - 1)


def perfect_nodes(start: int, end: int) -> list[Node]:
    """The perfect subtrees that make up [start, end), left to right, for a range that occurs in
    an RFC 9162 tree: `start` aligned to the largest of them."""
    nodes = []
    while start < end:
        level = (end - start).bit_length() - 1
        nodes.append((level, start >> level))
        start += 1 << level
    return nodes


def fold(hashes: Sequence[bytes]) -> bytes:
    """The hash of a range from its perfect subtrees' hashes, left to right: the RFC's MTH, in
    which each left subtree is perfect and the right one recurses."""
    if not hashes:
        return EMPTY_ROOT
    result = hashes[-1]
    for left in reversed(hashes[:-1]):
        result = node_hash(left, result)
    return result


def range_hash(read: NodeReader, leaf_range: LeafRange) -> bytes:
    nodes = perfect_nodes(*leaf_range)
    stored = read(nodes)
    return fold([stored[node] for node in nodes])


def inclusion_ranges(index: int, size: int) -> list[LeafRange]:
    """RFC 9162 §2.1.3.1 PATH(index, D[0:size]): the ranges whose hashes form the proof, from
    the leaf's sibling up to the root's child."""
    if not 0 <= index < size:
        raise ValueError(f"leaf {index} is not in a tree of {size}")
    ranges: list[LeafRange] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index < start + k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
    return ranges[::-1]


def consistency_ranges(old_size: int, new_size: int) -> list[LeafRange]:
    """RFC 9162 §2.1.4.1 PROOF(old_size, D[0:new_size]): the ranges whose hashes form the
    proof that the tree of `old_size` leaves is a prefix of the one of `new_size`."""
    if not 0 <= old_size <= new_size:
        raise ValueError(f"no consistency from {old_size} to {new_size}")
    if old_size in (0, new_size):
        return []
    ranges: list[LeafRange] = []
    start, end, old_end, whole_old_tree = 0, new_size, old_size, True
    while old_end != end:
        k = _split(end - start)
        if old_end - start <= k:
            ranges.append((start + k, end))
            end = start + k
        else:
            ranges.append((start, start + k))
            start += k
            whole_old_tree = False
    if not whole_old_tree:
        ranges.append((start, end))
    return ranges[::-1]


def inclusion_proof(read: NodeReader, index: int, size: int) -> list[bytes]:
    return _hashes_of(read, inclusion_ranges(index, size))


def consistency_proof(read: NodeReader, old_size: int, new_size: int) -> list[bytes]:
    return _hashes_of(read, consistency_ranges(old_size, new_size))


def _hashes_of(read: NodeReader, ranges: list[LeafRange]) -> list[bytes]:
    nodes = {node: None for leaf_range in ranges for node in perfect_nodes(*leaf_range)}
    stored = read(nodes)
    return [fold([stored[node] for node in perfect_nodes(*leaf_range)]) for leaf_range in ranges]


def _climb_to_right_child(index: int, last: int) -> tuple[int, int]:
    """Walk up while the node is a right-edge left child with no sibling (RFC 9162 §2.1.3.2)."""
    while index & 1 == 0 and index != 0:
        index, last = index >> 1, last >> 1
    return index, last


def root_from_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes]) -> bytes | None:
    """RFC 9162 §2.1.3.2: the root that `proof` leads to from `leaf` at `index`, or None if the
    proof has the wrong shape for a tree of `size`."""
    if not 0 <= index < size:
        return None
    position, last, result = index, size - 1, leaf
    for sibling in proof:
        if last == 0:
            return None
        if position & 1 or position == last:
            result = node_hash(sibling, result)
            if not position & 1:
                position, last = _climb_to_right_child(position, last)
        else:
            result = node_hash(result, sibling)
        position, last = position >> 1, last >> 1
    return result if last == 0 else None


def verify_inclusion(leaf: bytes, index: int, size: int, proof: Sequence[bytes],
                     root: bytes) -> bool:
    return root_from_inclusion(leaf, index, size, proof) == root


def verify_consistency(old_size: int, new_size: int, old_root: bytes, new_root: bytes,
                       proof: Sequence[bytes]) -> bool:
    """RFC 9162 §2.1.4.2; a tree is consistent with itself and with the empty tree when the
    proof is empty."""
    if old_size > new_size:
        return False
    if old_size == new_size:
        return not proof and old_root == new_root
    if old_size == 0:
        return not proof
    path = list(proof)
    if old_size & (old_size - 1) == 0:  # the old tree is a perfect subtree: its root starts
        path.insert(0, old_root)
    if not path:
        return False
    position, last = old_size - 1, new_size - 1
    while position & 1:
        position, last = position >> 1, last >> 1
    old_result = new_result = path[0]
    for sibling in path[1:]:
        if last == 0:
            return False
        if position & 1 or position == last:
            old_result = node_hash(sibling, old_result)
            new_result = node_hash(sibling, new_result)
            if not position & 1:
                position, last = _climb_to_right_child(position, last)
        else:
            new_result = node_hash(new_result, sibling)
        position, last = position >> 1, last >> 1
    return old_result == old_root and new_result == new_root and last == 0


@dataclass
class CompactRange:
    """The right edge of a tree: the perfect subtrees of its first `size` leaves, left to right
    (at most log2(size) hashes). Appending leaves yields the new perfect nodes to store."""

    size: int = 0
    peaks: list[bytes] = field(default_factory=list)

    @classmethod
    def of(cls, read: NodeReader, size: int) -> CompactRange:
        nodes = perfect_nodes(0, size)
        stored = read(nodes)
        return cls(size, [stored[node] for node in nodes])

    def append(self, leaf: bytes) -> list[tuple[Node, bytes]]:
        """Add one leaf; the perfect nodes it completes, itself first."""
        index, level, current = self.size, 0, leaf
        made = [((0, index), leaf)]
        while index & 1:
            current = node_hash(self.peaks.pop(), current)
            index, level = index >> 1, level + 1
            made.append(((level, index), current))
        self.peaks.append(current)
        self.size += 1
        return made

    def root(self) -> bytes:
        return fold(self.peaks)
