"""RN124 possibly-unbound-variable."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from reslint.knowledge.spelling import did_you_mean
from reslint.model import ModuleModel
from reslint.model.branch_facts import negates, tests_object_kind
from reslint.rule import Rule, Violation
from reslint.rules_support import (
    admits_only,
    chain_cases,
    chain_tests,
    function_of,
    unread_assignments,
)


class PossiblyUnboundVariable(Rule):
    """## What it does
    Checks model files for a local variable that is assigned only in the branches of an `if` /
    `elif` chain with no `else`, and read where no branch of the chain may have run.

    A variable set under `if flag:` and read under `if flag:` again is not reported: reslint does not
    compare conditions, and such pairs are usually deliberate. Nor is a chain that only tests what
    kind of object arrives (`isinstance(branch, Conv)` / `elif isinstance(branch, nn.BatchNorm2d)`,
    `hasattr(config, ...)`): which kinds reach it is up to the callers. An `if` / `elif` chain over
    settings is a table of cases, and the case it does not list is the bug.

    ## Why is this bad?
    Every call that takes the path without the assignment raises `UnboundLocalError`. A depth table
    written as `if depth == 18: ... elif depth == 34: ...` with no `else` builds the listed depths and
    fails, with an unhelpful message, on every other one.

    ## Example
    ```python
    if self.num_layers == 18:
        num_loops = [2, 2, 2, 2]
    elif self.num_layers in (34, 50):
        num_loops = [3, 4, 6, 3]
    self.conv2 = self.make_stage(num_loops[0], 64)
    ```

    Use instead:
    ```python
    if self.num_layers == 18:
        num_loops = [2, 2, 2, 2]
    elif self.num_layers in (34, 50):
        num_loops = [3, 4, 6, 3]
    else:
        raise ValueError(f"unsupported depth {self.num_layers}")
    self.conv2 = self.make_stage(num_loops[0], 64)
    ```
    """

    code = "RN124"
    name = "possibly-unbound-variable"
    defers_to = ("RN103",)

    def check(self, module: ModuleModel) -> Iterator[Violation]:
        if not module.defines_networks:
            return
        for names in module.names.functions.values():
            # Only names assigned in an open chain can be reported: the flow is worked out for those.
            chains = {
                name: chain
                for name in names.conditional
                if (chain := _open_chain(names.bound[name], module)) is not None
            }
            if not chains:
                continue
            reported: set[str] = set()
            typos = unread_assignments(names, module)
            for read in module.flow(names.node).maybe_unbound_reads:
                name = read.value
                if name in reported or name not in chains:
                    continue
                reported.add(name)
                chain = chains[name]
                # A misspelt assignment (`indentity = x`) is the better explanation: RN103's, at it.
                misspelt = tuple(
                    ("RN103", bindings[0])
                    for typo, bindings in typos.items()
                    if len(name) >= 4 and did_you_mean(typo, [name]) is not None  # as RN103 decides
                )
                lines = sorted({module.line_of(binding) for binding in names.bound[name]})
                yield Violation(
                    read,
                    f"`{name}` is assigned only in the branches of `if {module.code(chain.test)}:` / "
                    f"`elif` (line{'s' if len(lines) > 1 else ''} "
                    f"{', '.join(map(str, lines))}), which has no `else`: when no branch runs, "
                    "this line raises UnboundLocalError",
                    f"assign `{name}` on every path (an `else:` that raises for unsupported values, "
                    "or a default before the `if`)",
                    defers_to=misspelt,
                )


def _open_chain(bindings: list[cst.CSTNode], module: ModuleModel) -> cst.If | None:
    """The `if` / `elif` chain without `else` that holds every binding, one per branch or more."""
    chains = {id(chain): chain for chain in (_chain_of(binding, module) for binding in bindings)}
    if len(chains) != 1:
        return None
    (chain,) = chains.values()
    if chain is None or not isinstance(chain.orelse, cst.If):
        return None  # a lone `if`: its condition is often tested again where the name is read
    last = chain
    while isinstance(last.orelse, cst.If):
        last = last.orelse
    if last.orelse is not None or _checked_before(chain, module) or _complemented(chain):
        return None
    if all(tests_object_kind(test) for test in chain_tests(chain)) and _subjects_handed_in(
        chain, module
    ):
        return None  # a dispatch on the kind of object handed in: the callers decide which arrive
    return chain


def _subjects_handed_in(chain: cst.If, module: ModuleModel) -> bool:
    """Every `isinstance` / `hasattr` test of the chain looks at a parameter of the function, or at
    something reached from one (`self.norm`, `config.act`), not at a value it computes itself."""
    function = function_of(chain, module)
    if function is None:
        return False
    signature = function.params
    parameters = {
        parameter.name.value
        for parameter in (*signature.posonly_params, *signature.params, *signature.kwonly_params)
    }
    for test in chain_tests(chain):
        call = test.expression if isinstance(test, cst.UnaryOperation) else test
        subject = call.args[0].value if isinstance(call, cst.Call) and call.args else None
        while isinstance(subject, cst.Attribute | cst.Subscript):
            subject = subject.value
        if not (isinstance(subject, cst.Name) and subject.value in parameters):
            return False
    return True


def _complemented(chain: cst.If) -> bool:
    """A later test is the negation of an earlier one (`if a == b:` ... `elif a != b:`): one of the
    branches always runs."""
    tests: list[cst.BaseExpression] = []
    for test in chain_tests(chain):
        if any(negates(test, earlier) for earlier in tests):
            return True
        tests.append(test)
    return False


def _checked_before(chain: cst.If, module: ModuleModel) -> bool:
    """The chain tests one value against literals (`depth == 18`, `depth in (34, 50)`), and a
    statement before it in the same block lets only listed values pass (`assert depth in [18, 34,
    50]`, or `if depth not in ...: raise`): the missing `else` can never be taken."""
    subject, listed = chain_cases(chain, module)
    if subject is None:
        return False
    block = module.names.parents.get(id(chain))
    body = getattr(block, "body", ())
    earlier = body[: next((i for i, s in enumerate(body) if s is chain), 0)]
    return admits_only(earlier, {subject}, listed, module) or _checked_in_init(
        chain, subject, listed, module
    )


def _checked_in_init(
    chain: cst.If, subject: str, listed: frozenset[str], module: ModuleModel
) -> bool:
    """`if self.mode == "concat": ... elif self.mode == "add": ...` in a method, where `__init__`
    stores `self.mode = mode` and lets only those values pass (`if mode not in ["concat", "add"]:
    raise ValueError(...)`): the attribute never holds another value."""
    attribute = subject.removeprefix("self.")
    function = function_of(chain, module)
    cls = module.class_of(module.enclosing_method(function)) if function is not None else None
    init = cls.method("__init__") if cls is not None and attribute != subject else None
    if init is None or not isinstance(init.body, cst.IndentedBlock):
        return False
    assignments = [
        line.body[0]
        for line in init.body.body
        if isinstance(line, cst.SimpleStatementLine) and isinstance(line.body[0], cst.Assign)
    ]
    subjects = {subject} | {
        assign.value.value
        for assign in assignments
        if isinstance(assign, cst.Assign)
        and module.code(assign.targets[0].target) == subject
        and isinstance(assign.value, cst.Name)
    }
    return admits_only(init.body.body, subjects, listed, module)


def _chain_of(node: cst.CSTNode, module: ModuleModel) -> cst.If | None:
    """The first `if` of the chain whose branch holds `node` most closely, within its function."""
    parents = module.names.parents
    current = parents.get(id(node))
    while current is not None and not isinstance(current, (cst.If, cst.FunctionDef)):
        current = parents.get(id(current))
    if not isinstance(current, cst.If):
        return None
    while isinstance(outer := parents.get(id(current)), cst.If) and outer.orelse is current:
        current = outer
    return current


PossiblyUnboundVariable.INVALID = [
    """
import torch.nn as nn
class ResNet(nn.Module):
    def __init__(self, num_layers=34):
        super().__init__()
        if num_layers == 18:
            num_loops = [2, 2, 2, 2]
        elif num_layers in (34, 50):
            num_loops = [3, 4, 6, 3]
        self.stages = nn.ModuleList(self.make_stage(n) for n in num_loops)
"""
]
PossiblyUnboundVariable.VALID = [
    """
import torch.nn as nn
class ResNet(nn.Module):
    def __init__(self, num_layers=34):
        super().__init__()
        if num_layers == 18:
            num_loops = [2, 2, 2, 2]
        elif num_layers in (34, 50):
            num_loops = [3, 4, 6, 3]
        else:
            raise ValueError(num_layers)
        for i, n in enumerate(num_loops):
            stage = self.make_stage(n)
        self.last = stage
"""
]
