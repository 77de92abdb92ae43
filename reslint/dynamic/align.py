"""Align two sequences of leaf-module calls (user vs reference) with a small dynamic program.

Pure Python, no torch: a call is anything with `type`, `shape` and `params` attributes.
Calls with parameters are expensive to leave unmatched; parameter-free ones (ReLU, Identity,
Dropout) are cheap, because implementations freely swap nn.ReLU modules for F.relu calls.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from reslint.knowledge.naming import SHORTCUT_MODULE_NAME


class Call(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def type(self) -> str: ...
    @property
    def shape(self) -> tuple[object, ...] | None: ...
    @property
    def params(self) -> int: ...


_KINDS = {
    "conv": ("Conv",),
    "norm": ("Norm",),
    "act": ("ReLU", "GELU", "SiLU", "Sigmoid", "Tanh", "Hardswish", "Mish", "ELU", "PReLU"),
    "pool": ("Pool",),
    "linear": ("Linear",),
}
_NO_MATCH = float("-inf")


def kind_of(type_name: str) -> str:
    for kind, markers in _KINDS.items():
        if any(marker in type_name for marker in markers):
            return kind
    return "other"


def similarity(user: Call, ref: Call) -> float:
    """How good it is to put `user` and `ref` on one row; -inf when they must not share a row.
    Equal names break ties (the user's conv3 goes beside the reference's conv3, not its downsample)."""
    if (
        user.type == ref.type
    ):  # an exact twin beats two near misses plus a pair of gaps (reordered branches)
        return (
            1.0
            + 2.0 * (user.shape == ref.shape)
            + 2.0 * (user.params == ref.params)
            + _name_bonus(user.name, ref.name)
        )
    if kind_of(user.type) == kind_of(ref.type) != "other":
        return 1.0 + 0.5 * (user.shape == ref.shape)
    if not user.params and not ref.params and user.shape == ref.shape:
        return 0.5  # e.g. a LambdaLayer shortcut against the reference's PadShortcut
    return _NO_MATCH


def _name_bonus(user: str, ref: str) -> float:
    if user == ref:
        return 1.0
    return 0.5 if user.rpartition(".")[2] == ref.rpartition(".")[2] else 0.0


def gap_cost(call: Call) -> float:
    return -1.0 if call.params else -0.25


def canonical_order(calls: Sequence[Call]) -> list[int]:
    """Indices of `calls` with every shortcut branch moved after its block's main branch, as torchvision
    calls them, so a model that computes `self.shortcut(x)` first still lines up with the reference.

    A shortcut branch is a run of calls under a submodule named like one (downsample, shortcut, skip, extra,
    proj, identity), or a run of sibling layers named like one (proj_conv, proj_bn); it moves behind the
    last call of its parent module."""
    order = list(range(len(calls)))
    index = 0
    while index < len(order):
        parent, in_branch = _shortcut_branch(calls[order[index]].name)
        if parent is None:
            index += 1
            continue
        end = index
        while end < len(order) and in_branch(calls[order[end]].name):
            end += 1
        tail = end
        while tail < len(order) and calls[order[tail]].name.startswith(parent):
            tail += 1
        if tail > end:  # not already last in its block
            order[index:tail] = order[end:tail] + order[index:end]
        index = tail
    return order


def _shortcut_branch(name: str) -> tuple[str | None, Callable[[str], bool]]:
    """The parent prefix of the shortcut branch `name` is in (None: not in one), and a test for the
    other calls of that branch."""
    parts = name.split(".")
    hit = next((i for i, part in enumerate(parts[:-1]) if SHORTCUT_MODULE_NAME.search(part)), None)
    if hit is not None and hit > 0:
        branch = ".".join(parts[: hit + 1]) + "."
        return ".".join(parts[:hit]) + ".", lambda other: other.startswith(branch)
    if len(parts) > 1 and SHORTCUT_MODULE_NAME.search(parts[-1]):
        parent = ".".join(parts[:-1]) + "."
        return (
            parent,
            lambda other: (
                other.startswith(parent)
                and "." not in other[len(parent) :]
                and bool(SHORTCUT_MODULE_NAME.search(other[len(parent) :]))
            ),
        )
    return None, lambda other: False


@dataclass(frozen=True)
class Pair:
    user: int | None  # index into the user's calls, None when only the reference has this row
    ref: int | None


def align(user: Sequence[Call], ref: Sequence[Call], truncated: bool = False) -> list[Pair]:
    """Best-scoring order-preserving pairing of the two call sequences (Needleman-Wunsch). When the
    user's forward stopped part way (`truncated`), its calls line up with a prefix of the reference's:
    the reference's calls after the last pair cost nothing."""
    head = _common_prefix(user, ref)
    tail = 0 if truncated else _common_prefix(user[head:][::-1], ref[head:][::-1])
    middle = _align_dp(user[head : len(user) - tail], ref[head : len(ref) - tail], head, truncated)
    prefix = [Pair(i, i) for i in range(head)]
    suffix = [Pair(len(user) - tail + i, len(ref) - tail + i) for i in range(tail)]
    return prefix + middle + suffix


def _same(user: Call, ref: Call) -> bool:
    return user.type == ref.type and user.shape == ref.shape and user.params == ref.params


def _common_prefix(user: Sequence[Call], ref: Sequence[Call]) -> int:
    count = 0
    for u, r in zip(user, ref):
        if not _same(u, r):
            break
        count += 1
    return count


def _align_dp(
    user: Sequence[Call], ref: Sequence[Call], offset: int, free_ref_tail: bool = False
) -> list[Pair]:
    rows, cols = len(user), len(ref)
    score = [[0.0] * (cols + 1) for _ in range(rows + 1)]
    move = [[0] * (cols + 1) for _ in range(rows + 1)]  # 0 diagonal, 1 user only, 2 reference only
    for i in range(1, rows + 1):
        score[i][0], move[i][0] = score[i - 1][0] + gap_cost(user[i - 1]), 1
    for j in range(1, cols + 1):
        score[0][j], move[0][j] = score[0][j - 1] + gap_cost(ref[j - 1]), 2
    for i in range(1, rows + 1):
        u = user[i - 1]
        for j in range(1, cols + 1):
            options = (
                score[i - 1][j - 1] + similarity(u, ref[j - 1]),
                score[i - 1][j] + gap_cost(u),
                score[i][j - 1] + gap_cost(ref[j - 1]),
            )
            best = max(range(3), key=options.__getitem__)
            score[i][j], move[i][j] = options[best], best
    pairs: list[Pair] = []
    i, j = rows, cols
    if free_ref_tail:
        j = max(range(cols + 1), key=lambda column: (score[rows][column], -column))
        pairs = [Pair(None, offset + column) for column in range(cols - 1, j - 1, -1)]
    while i or j:
        step = move[i][j]
        if step == 0:
            pairs.append(Pair(offset + i - 1, offset + j - 1))
            i, j = i - 1, j - 1
        elif step == 1:
            pairs.append(Pair(offset + i - 1, None))
            i -= 1
        else:
            pairs.append(Pair(None, offset + j - 1))
            j -= 1
    return pairs[::-1]
