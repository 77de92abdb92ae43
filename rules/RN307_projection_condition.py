"""RN307 projection-condition."""

from __future__ import annotations

import re
from collections.abc import Iterator

import libcst as cst

from reslint.model import ModuleModel
from reslint.model.queries import residuals
from reslint.rule import Rule, Violation

SHORTCUT_NAMES = re.compile(
    r"(downsample|down_sample|shortcut|short_cut|proj|skip|extra|identity|residual|down)",
    re.IGNORECASE,
)
CHANNEL_NAMES = re.compile(
    r"(plane|channel|inp|oup|feature|dim|width|in_|out_|inc|outc|filters|\bc_)", re.IGNORECASE
)
CONV_NAMES = re.compile(r"(conv|Conv2d)")


class ProjectionCondition(Rule):
    """## What it does
    Checks the condition that chooses between an identity shortcut and a projection: it must test
    both the stride and the channel change (`stride != 1 or inplanes != planes * expansion`).

    ## Why is this bad?
    Testing only the stride forgets the first block of a Bottleneck network, which keeps stride 1 but
    expands 64 -> 256 channels: the identity shortcut then has the wrong channel count. Testing only
    the channels forgets a stage whose width stays the same while the stride is 2: the identity then
    has twice the height and width of the main branch.

    ## Example
    ```python
    if stride != 1:
        downsample = nn.Sequential(conv1x1(self.inplanes, planes * block.expansion, stride),
                                   norm_layer(planes * block.expansion))
    ```

    Use instead:
    ```python
    if stride != 1 or self.inplanes != planes * block.expansion:
        downsample = nn.Sequential(conv1x1(self.inplanes, planes * block.expansion, stride),
                                   norm_layer(planes * block.expansion))
    ```
    """

    code = "RN307"
    name = "projection-condition"

    def check(self, module: ModuleModel) -> Iterator[Violation]:
        for cls in module.module_classes:
            for method in cls.methods.values():
                for branch in [node for node, function in module.names.ifs if function is method]:
                    violation = self._check_if(branch, method, module, cls)
                    if violation is not None:
                        yield violation

    def _check_if(
        self, branch: cst.If, method: cst.FunctionDef, module: ModuleModel, cls
    ) -> Violation | None:
        projection = _projection_conv(
            branch.body, module, lambda target: _is_shortcut(target, method, cls, module)
        )
        if projection is None or _else_also_projects(branch, module) or not _compares(branch.test):
            return None
        names = _names(branch.test)
        conv_in, conv_out, conv_stride = _conv_arguments(projection, module)
        is_stride = lambda name: "stride" in name.lower() or name == conv_stride  # noqa: E731
        tests_stride = any(is_stride(n) for n in names)
        tests_channels = any(CHANNEL_NAMES.search(n) for n in names if not is_stride(n))
        condition = module.code(branch.test)
        if tests_stride and not tests_channels and conv_in and conv_out and conv_in != conv_out:
            return Violation(
                branch.test,
                f"`if {condition}:` decides the projection from the stride alone, but the projection maps "
                f"`{conv_in}` to `{conv_out}` channels: a stride-1 block that changes channels gets an identity "
                "shortcut of the wrong width",
                f"test both: `if {condition} or {conv_in} != {conv_out}:`",
            )
        stride_param = any(p.name.value == "stride" for p in method.params.params)
        if (
            tests_channels
            and not tests_stride
            and stride_param
            and conv_stride
            and conv_stride != "1"
        ):
            return Violation(
                branch.test,
                f"`if {condition}:` decides the projection from the channels alone, but the block also "
                f"downsamples by `{conv_stride}`: a strided block with equal channels gets an identity shortcut "
                "of the wrong size",
                f"test both: `if stride != 1 or {condition}:`",
            )
        return None


def _compares(test: cst.BaseExpression) -> bool:
    """Only explicit comparisons are judged; a precomputed flag (`if not self.equal_in_out`) may know more."""
    if isinstance(test, cst.Comparison):
        return True
    if isinstance(test, cst.BooleanOperation):
        return _compares(test.left) and _compares(test.right)
    return False


def _names(test: cst.BaseExpression) -> list[str]:
    names: list[str] = []

    class Finder(cst.CSTVisitor):
        def visit_Name(self, node: cst.Name) -> None:
            names.append(node.value)

    test.visit(Finder())
    return names


def _is_shortcut(
    target: cst.BaseExpression, method: cst.FunctionDef, cls, module: ModuleModel
) -> bool:
    """A `self.X` the class's forward adds as a shortcut, or a local handed on to a block's constructor."""
    if isinstance(target, cst.Attribute):
        instance = cls.generic
        return instance is not None and any(
            steps and steps[0].text == target.attr.value
            for residual in residuals(instance)
            for steps in residual.shortcut_steps
        )
    if isinstance(target, cst.Name):
        return any(
            function is method
            and any(
                isinstance(arg.value, cst.Name) and arg.value.value == target.value
                for arg in call.args
            )
            for call, function in module.names.calls
        )
    return False


def _projection_conv(
    body: cst.BaseSuite, module: ModuleModel, is_shortcut=lambda target: True
) -> cst.Call | None:
    """The convolution call of a shortcut assigned in this branch body (not in nested ifs)."""
    for statement in body.body:
        if not isinstance(statement, cst.SimpleStatementLine):
            continue
        for small in statement.body:
            if not isinstance(small, cst.Assign):
                continue
            target = small.targets[0].target
            name = (
                target.attr.value
                if isinstance(target, cst.Attribute)
                else getattr(target, "value", "")
            )
            if (
                not isinstance(name, str)
                or not SHORTCUT_NAMES.search(name)
                or not is_shortcut(target)
            ):
                continue
            call = _first_conv_call(small.value, module)
            if call is not None:
                return call
    return None


def _first_conv_call(value: cst.BaseExpression, module: ModuleModel) -> cst.Call | None:
    found: list[cst.Call] = []

    class Finder(cst.CSTVisitor):
        def visit_Call(self, node: cst.Call) -> None:
            if not found and CONV_NAMES.search(module.code(node.func)):
                found.append(node)

    value.visit(Finder())
    return found[0] if found else None


def _else_also_projects(branch: cst.If, module: ModuleModel) -> bool:
    orelse = branch.orelse
    if isinstance(orelse, cst.Else):
        return _projection_conv(orelse.body, module) is not None
    return False


def _conv_arguments(
    call: cst.Call, module: ModuleModel
) -> tuple[str | None, str | None, str | None]:
    positional = [
        module.code(arg.value) for arg in call.args if arg.keyword is None and not arg.star
    ]
    keywords = {
        arg.keyword.value: module.code(arg.value) for arg in call.args if arg.keyword is not None
    }
    conv_in = keywords.get(
        "in_channels", keywords.get("in_planes", positional[0] if positional else None)
    )
    conv_out = keywords.get(
        "out_channels", keywords.get("out_planes", positional[1] if len(positional) > 1 else None)
    )
    is_torch = module.code(call.func).endswith("Conv2d")
    stride_position = 3 if is_torch else 2
    stride = keywords.get(
        "stride", positional[stride_position] if len(positional) > stride_position else None
    )
    return conv_in, conv_out, stride


ProjectionCondition.INVALID = [
    """
import torch.nn as nn
class ResNet(nn.Module):
    def _make_layer(self, block, planes, blocks, stride=1):
        downsample = None
        if stride != 1:
            downsample = nn.Sequential(nn.Conv2d(self.inplanes, planes * block.expansion, 1, stride, bias=False),
                                       nn.BatchNorm2d(planes * block.expansion))
        return nn.Sequential(block(self.inplanes, planes, stride, downsample))
"""
]
ProjectionCondition.VALID = [
    """
import torch.nn as nn
class ResNet(nn.Module):
    def _make_layer(self, block, planes, blocks, stride=1):
        downsample = None
        if stride != 1 or self.inplanes != planes * block.expansion:
            downsample = nn.Sequential(nn.Conv2d(self.inplanes, planes * block.expansion, 1, stride, bias=False),
                                       nn.BatchNorm2d(planes * block.expansion))
        return nn.Sequential(block(self.inplanes, planes, stride, downsample))
"""
]
