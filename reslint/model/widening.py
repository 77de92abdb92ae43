"""Blocks the file builds with given widths whose sum adds the untouched input to a branch of
another width: `Bottleneck(64, 64, 1, None)` in the network `resnet50()` builds, where the block
class can take a projection shortcut but its builder left it out (`_make_layer` that never builds a
downsample, or `if stride != 1:` decided false for the first stage of a stage loop).

The class as written projects at that sum when it is given a shortcut, so the generic instance says
nothing; only the construction, with its numbers, shows the widths that cannot be added."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import libcst as cst

from reslint.knowledge.naming import SHORTCUT_NAME
from reslint.model.classes import ClassModel, Instance, flow_channels_out
from reslint.model.module import ModuleModel
from reslint.model.queries import Residual, branch_output, can_coexist, reaching, residuals
from reslint.model.symbolic import Expr, Relation, relation
from reslint.model.values import Flow, Layer
from reslint.model.walk import descendants


@dataclass(frozen=True)
class WideningIdentity:
    """`layer`, built by `call` (a call of the file), is `instance`, whose `residual` adds an
    identity shortcut of `widths[0]` channels to `widths[1]`, both numbers. `declined`: the `if` of the code that
    built it which would have assigned the shortcut it passes and went the other way."""

    layer: Layer
    call: cst.Call
    instance: Instance
    residual: Residual
    widths: tuple[Expr, Expr]
    declined: cst.If | None


def widening_identities(module: ModuleModel) -> list[WideningIdentity]:
    """Every such construction of the file, worked out once."""
    cache = module.__dict__
    if "_widening_identities" not in cache:
        cache["_widening_identities"] = list(_widening_identities(module))
    return cache["_widening_identities"]


def _widening_identities(module: ModuleModel) -> Iterator[WideningIdentity]:
    instances = {id(instance) for instance in module.instances()}
    fitting: dict[int, set[int]] = {}  # by class: worked out once, and only for a widening sum
    for layer in module.interpreter.constructed:
        instance = layer._instance
        if (
            instance is None
            or id(instance) not in instances
            or instance is instance.cls.generic
            or layer.guards  # built under a test reslint could not decide: one way of several
            or not isinstance(layer.node, cst.Call)
            or not module.owns(layer.node)
        ):
            continue
        call = layer.node
        for residual in residuals(instance):
            widths = None if any(residual.shortcuts) else _identity_widths(residual, instance)
            if widths is None:
                continue  # this one got a projection, or its widths agree or are not numbers
            cls = instance.cls
            if id(cls) not in fitting:
                fitting[id(cls)] = _fitting_projections(cls)
            if id(residual.site.node) not in fitting[id(cls)]:
                # RN309 judges a sum the class never projects, and one whose projection misfits
                # its branch (the class is wrong, not its construction)
                continue
            yield WideningIdentity(
                layer, call, instance, residual, widths, _declined(layer, call, module)
            )


def _identity_widths(residual: Residual, instance: Instance) -> tuple[Expr, Expr] | None:
    """The two sides' channel counts, when both are numbers and differ."""
    site = residual.site
    if site.adds_a_given_tensor:
        return None  # the shortcut may be the caller's tensor, not the identity
    sides = [
        side_channels(reaching((f for f in side if isinstance(f, Flow)), site.guards), instance)
        for side in (site.left, site.right)
    ]
    left, right = sides
    if (
        left is None
        or right is None
        or left.constant is None
        or right.constant is None
        or relation(left, right) is not Relation.DIFFERENT
    ):
        return None
    return left, right


def _declined(layer: Layer, call: cst.Call, module: ModuleModel) -> cst.If | None:
    """The decided `if` whose other way assigns a shortcut variable the call passes
    (`if stride != 1: downsample = ...` gone false, then `block(inplanes, planes, stride,
    downsample)`), while the way it went does not. Only an `if` written before the call: one after
    it, decided in an earlier turn of a loop, did not choose this call's arguments."""
    passed: set[str] = set()
    for arg in call.args:
        names = {node.value for node in descendants(arg.value) if isinstance(node, cst.Name)}
        said = [arg.keyword.value] if arg.keyword else names
        if any(SHORTCUT_NAME.search(name) for name in said):
            passed |= names  # `downsample if index == 0 else None`: what the shortcut comes from
    for node, way in layer.decided:
        if module.line_of(node) >= module.line_of(call):
            continue
        taken, other = (node.body, node.orelse) if way else (node.orelse, node.body)
        for name in passed:
            if _assigns(other, name) and not _assigns(taken, name):
                return node
    return None


def _assigns(branch: cst.CSTNode | None, name: str) -> bool:
    """Whether the branch assigns a value built by a call to the name (`downsample = Seq(...)`)."""
    if branch is None:
        return False
    return any(
        isinstance(node, cst.Assign)
        and isinstance(node.value, (cst.Call, cst.IfExp))
        and any(
            isinstance(target.target, cst.Name) and target.target.value == name
            for target in node.targets
        )
        for node in descendants(branch)
    )


def _fitting_projections(cls: ClassModel) -> set[int]:
    """The additions of the class (by node id) that some instance projects, none of whose
    projections gives other channels than its branch ends with, where both are known: a class that
    adds a projection of another width than its branch is wrong in itself (RN309 says so), whatever
    it is built with."""
    projecting: set[int] = set()
    misfitting: set[int] = set()
    for instance in cls.instances():
        for residual in residuals(instance):
            if any(residual.shortcuts):
                projecting.add(id(residual.site.node))
                if _misfits(residual):
                    misfitting.add(id(residual.site.node))
    return projecting - misfitting


def _misfits(residual: Residual) -> bool:
    """A projection that gives other channels than the branch it is added to, on every path where
    both run."""
    for main in residual.mains:
        for shortcut in residual.shortcuts:
            ending, projecting = branch_output(main), branch_output(shortcut)
            if ending is None or projecting is None or not can_coexist(ending[0], projecting[0]):
                continue
            both = main.assume + shortcut.assume
            if relation(ending[1], projecting[1], both) is Relation.DIFFERENT:
                return True
    return False


def projecting_sites(instance: Instance | None) -> set[int]:
    """The additions (by node id) that have a projection shortcut on some path of the instance."""
    if instance is None:
        return set()
    return {
        id(residual.site.node)
        for residual in residuals(instance)
        if any(shortcut for shortcut in residual.shortcuts)
    }


def side_channels(flows: list[Flow], instance: Instance) -> Expr | None:
    """The channel count of a side of a sum; the block's own input channels for its untouched
    input. None unless every flow's is known."""
    values = [
        flow_channels_out(flow)
        or (instance.channels_in if flow.origin == "input" and not flow.steps else None)
        for flow in flows
    ]
    return values[0] if values and all(v is not None for v in values) else None
