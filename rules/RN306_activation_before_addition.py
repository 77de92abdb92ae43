"""RN306 activation-before-addition."""

from __future__ import annotations

from collections.abc import Iterator

from reslint.knowledge.layers import (
    NON_NEGATIVE_ACTIVATIONS,
    UNNAMED_ACTIVATION,
    activation_name,
)
from reslint.model import ModuleModel
from reslint.model.classes import Instance
from reslint.model.gates import keeps_sign
from reslint.model.queries import (
    Element,
    Residual,
    anchor_of,
    describe,
    expand,
    identified,
    kind_of,
    layer_of,
    may_have_weights,
    residuals,
)
from reslint.model.values import Flow, Step, options
from reslint.rule import Rule, Violation
from reslint.rules_support import unique

# Operations that scale values by non-negative factors at most: the sign of their input survives.
SIGN_KEEPING = {"dropout", "identity"}


class ActivationBeforeAddition(Rule):
    """## What it does
    Checks for a residual branch that ends with an activation (ReLU) right before the addition.

    ## Why is this bad?
    After a ReLU the residual branch can only be non-negative, so each block can only add to its
    input, never subtract: the block cannot learn a correction in both directions. He et al. measure
    this "ReLU before addition" variant as clearly worse (Identity Mappings in Deep Residual Networks,
    2016, Fig. 4c). Post-activation blocks end the branch with BN, add, then ReLU; pre-activation
    blocks end it with a convolution.

    ## Example
    ```python
    out = self.bn3(self.conv3(out))
    out = self.relu(out)
    out += residual
    out = self.relu(out)
    ```

    Use instead:
    ```python
    out = self.bn3(self.conv3(out))
    out += residual
    out = self.relu(out)
    ```
    """

    code = "RN306"
    name = "activation-before-addition"

    def check(self, module: ModuleModel) -> Iterator[Violation]:
        yield from unique(self._check(module))

    def _check(self, module: ModuleModel) -> Iterator[Violation]:
        # A block is built in several configurations (its defaults, and each set of arguments the file
        # passes it: timm's `act_layer=nn.ReLU` default, overridden by the model configs' SiLU). The
        # claim is made only where every configuration of the addition ends with such an activation.
        holds: dict[int, bool] = {}
        found: dict[int, list[Violation]] = {}
        for instance in module.instances():
            for residual in residuals(instance):
                key = id(residual.site.node)
                endings = _endings(residual)
                if not endings or any(_out_of_sight(last, module, residual) for last in endings):
                    continue  # this configuration's ending is out of sight: it neither claims nor denies
                if not all(
                    _non_negative(last) or _unnamed_reapplied(last, residual) for last in endings
                ):
                    holds[key] = (
                        False  # some configuration ends otherwise (act_layer=None -> nn.Identity)
                    )
                    continue
                holds.setdefault(key, True)
                found.setdefault(key, []).extend(
                    Violation(
                        anchor_of(last),
                        _claim(last, module, residual),
                        "apply the activation after the addition, not before it",
                    )
                    for last in endings
                )
        for key, violations in found.items():
            if holds[key]:
                yield from violations


def _endings(residual: Residual) -> list[Element]:
    """The last sign-changing operation of each main branch that may hold weights (a convolution, a
    block, or a submodule reslint cannot read)."""
    mains = [main for main in residual.mains if any(map(may_have_weights, main))]
    return [last for main in mains for last in _last_operations(main)]


def _out_of_sight(element: Element, module: ModuleModel, residual: Residual) -> bool:
    """An ending that says nothing about this configuration: what reslint cannot identify (a base
    class's forward analysed without the subclass that sets `self.relu`), or a layer chosen by a
    parameter's default (`act_layer=nn.ReLU`, the block analysed on its own) where the file passes
    that parameter values of its own (`act_layer=cfg.act_layer`): the default may be no
    configuration the file builds. Not so where the block applies the same layer again after the
    addition (`x = self.act(x); x += residual; x = self.act(x)`): whatever the configuration
    chooses, the block means it to follow the addition and runs it before it too."""
    return not identified(element) or (
        _configured_elsewhere(element, module) and not _reapplied_after(element, residual)
    )


def _configured_elsewhere(element: Element, module: ModuleModel) -> bool:
    layer = layer_of(element)
    return layer is not None and layer.default_of in module.configured_keywords


def _reapplied_after(element: Element, residual: Residual) -> bool:
    """The first activation after the addition is the very layer the branch ended with."""
    layer = layer_of(element)
    following = next((later for later in residual.after if kind_of(later) == "act"), None)
    return layer is not None and following is not None and layer_of(following) is layer


def _unnamed_reapplied(element: Element, residual: Residual) -> bool:
    """`self.activation = ACT2FN[config.hidden_act]` before and after the addition: whichever it is,
    the block runs its activation twice."""
    layer = layer_of(element)
    return (
        layer is not None
        and layer.type_name == UNNAMED_ACTIVATION
        and _reapplied_after(element, residual)
    )


def _claim(element: Element, module: ModuleModel, residual: Residual) -> str:
    ending = f"the residual branch ends with `{describe(element)}` right before `{module.code(residual.site.node)}`"
    if not _reapplied_after(element, residual):
        return f"{ending}: it can only add non-negative values to the shortcut"
    layer = layer_of(element)
    assert layer is not None  # an ending applied again after the addition is a layer
    chosen = "a ReLU"
    if layer.type_name != UNNAMED_ACTIVATION:
        chosen = f"`{activation_name(layer.type_name)}`"
        if _configured_elsewhere(element, module):
            chosen += f" (`{layer.default_of}`'s default)"
    return (
        f"{ending} and again after it, so the block's activation runs twice: with {chosen} the "
        "branch can only add non-negative values to the shortcut"
    )


def _non_negative(element: Element) -> bool:
    """An activation known to output no negative values (`nn.ReLU`, `F.relu`, `x.sigmoid()`)."""
    if kind_of(element) != "act":
        return False
    layer = layer_of(element)
    return (
        activation_name(layer.type_name if layer is not None else describe(element))
        in NON_NEGATIVE_ACTIVATIONS
    )


def _last_operations(elements: list[Element], depth: int = 0) -> list[Element]:
    """The last operation of a branch that can change the sign of values, looking inside a sub-block
    whose forward produces it (one per alternative the sub-block has). Gates that only scale
    (squeeze-and-excitation's `x * weights`, dropout, drop-path) keep the sign and are looked past.
    An empty list: every operation keeps the sign."""
    for last in reversed(elements):
        if kind_of(last) in SIGN_KEEPING or (isinstance(last, Step) and keeps_sign(last)):
            continue
        block = layer_of(last)
        if block is not None and block.kind == "block" and depth < 4 and block.instance is not None:
            branches = _returned_branches(block.instance)
            if branches:
                found = [op for inner in branches for op in _last_operations(inner, depth + 1)]
                if found:
                    return found
                if all(not _last_operations(inner, depth + 1) for inner in branches):
                    continue  # a gate block (SE): the sign comes from what precedes it
        return [last]
    return []


def _returned_branches(instance: Instance) -> list[list[Element]]:
    forward = instance.forward
    if forward is None:
        return []
    return [
        expand(option.steps)
        for value in forward.returns
        for option in options(value)
        if isinstance(option, Flow) and option.origin == "input" and option.steps
    ]


ActivationBeforeAddition.INVALID = [
    """
import torch.nn as nn
class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, padding=1, bias=False)
        self.bn = nn.BatchNorm2d(c)
        self.relu = nn.ReLU()
    def forward(self, x):
        out = self.relu(self.bn(self.conv(x)))
        out += x
        return self.relu(out)
"""
]
ActivationBeforeAddition.VALID = [
    """
import torch.nn as nn
class PreActBlock(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.bn = nn.BatchNorm2d(c)
        self.relu = nn.ReLU()
        self.conv = nn.Conv2d(c, c, 3, padding=1, bias=False)
    def forward(self, x):
        return x + self.conv(self.relu(self.bn(x)))
"""
]
