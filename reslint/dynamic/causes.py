"""Why a residual block computes another function than the reference's, given the same weights.

Works on what one forward recorded inside the block on both sides (each layer's input and output): the
first layer whose input differs names the place; when every layer agrees, the user's block output is
tested against rewrites of the reference's `act(branch + shortcut)` (the activation before the addition,
in the shortcut, a subtraction, the wrong tensor as shortcut...). Each cause is a sentence in the user's
own layer names, ending with the kind of mistake in parentheses."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from reslint.dynamic.align import kind_of
from reslint.dynamic.zoo import ResidualForm

RELATIVE_TOLERANCE = 1e-7
WEIGHTED = (
    "conv",
    "norm",
    "linear",
)  # float64 with the same weights: only the summation order may differ


@dataclass
class Seen:
    """What one module received and returned on its first call (copies: later in-place ops change
    neither)."""

    name: str
    type: str
    input: Tensor | None = None
    output: Tensor | None = None


def relative_difference(a: Tensor | None, b: Tensor | None) -> float:
    """Largest difference relative to the larger tensor's scale; inf when shapes differ."""
    if a is None or b is None or a.shape != b.shape:
        return float("inf")
    if not b.numel():
        return 0.0
    scale = max(float(b.abs().max()), float(a.abs().max()), 1e-30)
    return float((a - b).abs().max()) / scale


def same(a: Tensor | None, b: Tensor | None) -> bool:
    return relative_difference(a, b) <= RELATIVE_TOLERANCE


@dataclass
class Block:
    """One block's recorded forward on one side."""

    name: str  # qualified name of the block module
    input: Tensor
    output: Tensor
    layers: list[Seen]  # the leaf modules inside, in call order

    def relative(self, layer: str) -> str:
        return layer[len(self.name) + 1 :] if layer.startswith(self.name + ".") else layer

    def layer(self, relative: str) -> Seen | None:
        return next((s for s in self.layers if s.name == f"{self.name}.{relative}"), None)

    def last_under(self, relative: str) -> Seen | None:
        inside = [s for s in self.layers if s.name.startswith(f"{self.name}.{relative}")]
        return inside[-1] if inside else None


def likely_cause(user: Block, ref: Block, partner: dict[str, str], form: ResidualForm) -> str:
    """`partner` maps the user's layer names to the reference's."""
    main = ref.layer(form.main)
    shortcut = ref.last_under(form.shortcut) if form.shortcut else None
    s = shortcut.output if shortcut is not None else ref.input
    by_name = {seen.name: seen for seen in ref.layers}
    for index, seen in enumerate(user.layers):
        theirs = by_name.get(partner.get(seen.name, ""))
        if kind_of(seen.type) not in WEIGHTED:
            continue  # parameter-free layers pair loosely (F.relu vs nn.ReLU): judged by the outcome
        if theirs is not None and not same(seen.input, theirs.input):
            return _input_cause(user, seen, theirs, ref, s, user.layers[:index])
    if main is None or main.output is None or s is None:
        return "every layer inside agrees with the reference's; the way their outputs are combined differs"
    return _combination_cause(user, main.output, s, form, shortcut is not None)


def _input_cause(
    user: Block,
    seen: Seen,
    theirs: Seen,
    ref: Block,
    shortcut: Tensor | None,
    before: Sequence[Seen],
) -> str:
    name, their_name = user.relative(seen.name), ref.relative(theirs.name)
    got, wanted = seen.input, theirs.input
    assert got is not None and wanted is not None
    if shortcut is not None and same(got, wanted + shortcut):
        if kind_of(seen.type) == "norm":
            return (
                f"{name} normalises the sum of the branch and the shortcut, where the reference's "
                f"{their_name} comes before the addition (norm after the addition)"
            )
        return f"{name} is applied to the sum of the branch and the shortcut (layer after the addition)"
    if same(torch.relu(got), wanted):
        return f"the activation before {name} is missing (missing activation)"
    if same(got, torch.relu(wanted)):
        return (
            f"an activation before {name} is extra; the reference has none there (extra activation)"
        )
    source = next((s for s in reversed(before) if same(got, s.output)), None)
    if source is not None:
        return (
            f"{name} takes {user.relative(source.name)}'s output, where the reference's {their_name} takes "
            f"{_describe_input(ref, theirs)} (wrong input tensor)"
        )
    return f"{name} receives another tensor than the reference's {their_name}"


def _describe_input(ref: Block, layer: Seen) -> str:
    if layer.input is not None and same(layer.input, ref.input):
        return "the block's input"
    source = next(
        (s for s in ref.layers if s.output is not None and same(layer.input, s.output)), None
    )
    return f"{ref.relative(source.name)}'s output" if source is not None else "another tensor"


BEFORE_ADDITION = "the activation is applied to the branch before the shortcut is added (activation before the addition)"


def _in_shortcut(user: Block, shortcut: Tensor) -> str:
    """The user's activation that the shortcut goes through, by name when one of its layers is it."""
    layer = next(
        (
            s
            for s in user.layers
            if kind_of(s.type) == "act" and s.input is not None and same(s.input, shortcut)
        ),
        None,
    )
    via = f"{user.relative(layer.name)} ({layer.type})" if layer is not None else "an activation"
    return f"the shortcut goes through {via} before the addition (activation in the shortcut)"


def _combination_cause(
    user: Block, branch: Tensor, shortcut: Tensor, form: ResidualForm, projected: bool
) -> str:
    def act(x: Tensor) -> Tensor:
        return torch.relu(x) if form.activation_after else x

    y = user.output
    what = "the projection's output" if projected else "the block's input"
    candidates: list[tuple[str, Tensor]] = [
        (BEFORE_ADDITION, torch.relu(branch) + shortcut),
        (BEFORE_ADDITION, act(torch.relu(branch) + shortcut)),
        (_in_shortcut(user, shortcut), act(branch + torch.relu(shortcut))),
        ("the shortcut is subtracted instead of added (subtraction)", act(branch - shortcut)),
        (
            "the branch is subtracted from the shortcut instead of added (subtraction)",
            act(shortcut - branch),
        ),
        ("nothing is added to the branch (missing shortcut)", act(branch)),
    ]
    if form.activation_after:
        candidates.insert(
            0, ("there is no activation after the addition (missing activation)", branch + shortcut)
        )
    else:
        candidates.insert(
            0,
            (
                "an activation follows the addition, where the reference has none (extra activation)",
                torch.relu(branch + shortcut),
            ),
        )
    for sentence, value in candidates:
        if same(y, value):
            return sentence
    for layer in [Seen("input", "", None, user.input), *user.layers]:
        t = layer.output
        if (
            t is not None
            and t.shape == shortcut.shape
            and not same(t, shortcut)
            and same(y, act(branch + t))
        ):
            source = (
                "the block's input"
                if layer.name == "input"
                else f"{user.relative(layer.name)}'s output"
            )
            return f"the shortcut adds {source} instead of {what} (shortcut from the wrong tensor)"
    return "every layer inside agrees with the reference's; the way the branch and the shortcut are combined differs"
