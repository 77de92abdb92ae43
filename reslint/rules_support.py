"""Small helpers shared by rules: deduplication, wording, near-miss names, the methods a method
reaches, calls of torch and of the file's functions."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, NamedTuple

import libcst as cst

from reslint.knowledge.signatures import Binding, Signature, signature
from reslint.knowledge.spelling import did_you_mean
from reslint.model.call_binding import argument_keywords
from reslint.model.symbolic import Expr
from reslint.rule import Violation

_NUMBERS = re.compile(r"\d+")

if TYPE_CHECKING:
    from reslint.model import ModuleModel
    from reslint.model.classes import ClassModel
    from reslint.model.names import FunctionNames


def unique(violations: Iterable[Violation]) -> Iterator[Violation]:
    """The same fault seen through several instances of a class is reported once, at its node."""
    seen: set[int] = set()
    for violation in violations:
        if id(violation.node) not in seen:
            seen.add(id(violation.node))
            yield violation


def quoted(expr: Expr) -> str:
    """`planes * self.expansion`, with its value when the user's words are not a plain number."""
    text = str(expr)
    value = expr.constant
    if value is None or text == number_text(value):
        return f"`{text}`"
    if text.isidentifier():
        # A bare name bound to a number elsewhere (`midchannel` inside a builder) says less than the number.
        return f"`{number_text(value)}`"
    return f"`{text}` (= {number_text(value)})"


def number_text(value: float) -> str:
    """`2048` for 2048.0, `0.5` for 0.5."""
    return str(int(value)) if float(value).is_integer() else str(value)


def closest(name: str, candidates: Iterable[str]) -> str | None:
    """The candidate a typo of the identifier `name` most likely meant: the same letters in another
    case (`Resnet` for `ResNet`), else the closest spelling. Names with other numbers in them
    (`conv1x1` for `conv3x3`, `resnet34` for `resnet18`) are other things, not typos, and names under
    four letters are too short to tell. None when nothing is close."""
    numbers = _NUMBERS.findall(name)
    pool = sorted({c for c in candidates if c != name and _NUMBERS.findall(c) == numbers})
    same_letters = [candidate for candidate in pool if candidate.lower() == name.lower()]
    if same_letters:
        return same_letters[0]
    if len(name) < 4:
        return None
    return did_you_mean(name, [candidate for candidate in pool if len(candidate) >= 4], fold=False)


def reachable_methods(
    cls: ClassModel, roots: Iterable[str], module: ModuleModel
) -> list[cst.FunctionDef]:
    """The methods named in `roots` and those they call as `self.name(...)`, transitively."""
    found = [method for method in map(cls.method, roots) if method is not None]
    seen = {id(method) for method in found}
    index = 0
    while index < len(found):
        current = found[index]
        index += 1
        for attribute in module.attributes_in(current):
            if not is_self(attribute.value, current):
                continue
            method = cls.method(attribute.attr.value)
            if method is not None and id(method) not in seen:
                seen.add(id(method))
                found.append(method)
    return found


def is_self(node: cst.CSTNode, method: cst.FunctionDef) -> bool:
    """Whether `node` is the instance parameter of `method` (usually `self`); a static or class
    method has none."""
    params = method.params.params
    return (
        isinstance(node, cst.Name)
        and bool(params)
        and node.value == params[0].name.value
        and not any(
            isinstance(d.decorator, cst.Name)
            and d.decorator.value in ("staticmethod", "classmethod")
            for d in method.decorators
        )
    )


def unread_assignments(names: FunctionNames, module: ModuleModel) -> dict[str, list[cst.CSTNode]]:
    """The locals a function assigns with plain `name = ...` and never reads: each may be a typo of a
    name it does read. Parameters, loop variables, imports and defs are not typos of a local, and
    names under four letters or starting with `_` are too loosely used to tell."""
    read = {node.value for node in names.reads}
    return {
        name: bindings
        for name, bindings in names.bound.items()
        if name not in read
        and not name.startswith("_")
        and len(name) >= 4
        and all(isinstance(b, cst.Name) and _plain_assignment(b, module) for b in bindings)
    }


def _plain_assignment(target: cst.Name, module: ModuleModel) -> bool:
    parent = module.names.parents.get(id(target))
    while parent is not None and isinstance(
        parent, (cst.AssignTarget, cst.Tuple, cst.List, cst.Element, cst.StarredElement)
    ):
        parent = module.names.parents.get(id(parent))
    return isinstance(parent, (cst.Assign, cst.AnnAssign))


class TorchCall(NamedTuple):
    """A call of a torch callable, resolved through the file's imports, its arguments bound."""

    node: cst.Call
    qualified: str  # torch.nn.Conv2d, however the file spells it
    shown: str  # the callee as the user wrote it: nn.Conv2d, Conv2d, torch.nn.Conv2d
    signature: Signature | None  # None for functions written in C
    binding: Binding

    def argument(self, parameter: str) -> cst.BaseExpression | None:
        """The expression the call passes for `parameter`, if any."""
        index = self.binding.arguments.get(parameter)
        return None if index is None else self.node.args[index].value


def torch_calls(
    module: ModuleModel, prefix: str = "torch.", starred: bool = False
) -> Iterator[TorchCall]:
    """Every call of a callable under `prefix` whose arguments reslint can see: a `*args` or
    `**kwargs` at the call site could hold anything, so such calls are left out. With `starred`
    they are kept with only their keyword arguments bound: what a star holds cannot give a
    parameter the call also names (`interpolate(x, **size, mode="bilinear")`)."""
    for call, function in module.names.calls:
        has_star = any(arg.star for arg in call.args)
        if has_star and not starred:
            continue
        qualified = module.imports.qualified(call.func)
        if qualified is None or not qualified.startswith(prefix):
            continue
        if _shadowed(call.func, function, module):
            continue
        keywords = argument_keywords(call)
        known = signature(qualified)
        binding = (
            known.bind(keywords)
            if known is not None and not has_star
            else Binding({k: i for i, k in enumerate(keywords) if k is not None})
        )
        yield TorchCall(call, qualified, module.code(call.func), known, binding)


def _shadowed(
    callee: cst.BaseExpression, function: cst.FunctionDef | None, module: ModuleModel
) -> bool:
    """The callee's first name is the file's own class or function, or a local of the calling function."""
    head = callee
    while isinstance(head, cst.Attribute):
        head = head.value
    if not isinstance(head, cst.Name):
        return True
    if module.definition(head.value, callee) is not None:
        return True
    return function is not None and head.value in module.names.functions[id(function)].bound


def written_name(module: ModuleModel, qualified: str) -> str | None:
    """How this file can write `qualified` (torch.nn.ModuleList) through what it really imports:
    `nn.ModuleList`, `torch.nn.ModuleList`, or None when it imports neither (a fix then stays silent
    rather than add an import)."""
    imports = module.imports
    spellings = [
        local + qualified[len(target) :]
        for local in imports.sources
        if (target := imports.aliases.get(local, ""))
        and (qualified == target or qualified.startswith(target + "."))
    ]
    return min(spellings, key=lambda spelling: (len(spelling), spelling), default=None)


def function_of(node: cst.CSTNode, module: ModuleModel) -> cst.FunctionDef | None:
    """The innermost function a node is written in (None at module or class level)."""
    parent = module.names.parents.get(id(node))
    while parent is not None and not isinstance(parent, cst.FunctionDef):
        parent = module.names.parents.get(id(parent))
    return parent


def argument(call: cst.Call, position: int, keyword: str) -> cst.Arg | None:
    """The argument of `call` at `position` (counting positional ones) or named `keyword`; None when
    it is not written or a `*args`/`**kwargs` could hold it."""
    if any(arg.star for arg in call.args):
        return None
    positional = [arg for arg in call.args if arg.keyword is None]
    if position < len(positional):
        return positional[position]
    return next((arg for arg in call.args if arg.keyword and arg.keyword.value == keyword), None)


def literal_cases(
    test: cst.BaseExpression, module: ModuleModel
) -> tuple[str | None, frozenset[str]]:
    """`depth == 18` -> ("depth", {"18"}); `depth in (34, 50)` -> ("depth", {"34", "50"})."""
    if not (isinstance(test, cst.Comparison) and len(test.comparisons) == 1):
        return None, frozenset()
    (target,) = test.comparisons
    if isinstance(target.operator, cst.Equal):
        values = [target.comparator]
    elif isinstance(target.operator, cst.In) and isinstance(
        target.comparator, (cst.List, cst.Tuple, cst.Set)
    ):
        values = [element.value for element in target.comparator.elements]
    else:
        return None, frozenset()
    if not all(isinstance(v, (cst.Integer, cst.SimpleString, cst.Float)) for v in values):
        return None, frozenset()
    return module.code(test.left), frozenset(module.code(v) for v in values)


def admits_only(
    statements: Iterable[cst.BaseStatement],
    subjects: set[str],
    listed: frozenset[str],
    module: ModuleModel,
) -> bool:
    """Whether one of `statements` lets only `listed` values of one of `subjects` get past it
    (`assert depth in [18, 34]`, `if depth not in (18, 34): raise ...`): an `if` / `elif` chain
    over those values after it never falls through."""
    return any(
        (allowed := _allowed_values(statement, module)) is not None
        and allowed[0] in subjects
        and allowed[1] <= listed
        for statement in statements
    )


def _allowed_values(
    statement: cst.BaseStatement, module: ModuleModel
) -> tuple[str, frozenset[str]] | None:
    """`assert depth in [18, 34]`, `if depth not in [18, 34]: raise ...` -> ("depth", {"18", "34"});
    `assert 1 <= depth <= 4` or `if not 1 <= depth <= 4: raise ...` -> ("depth", {"1", ..., "4"});
    `if mode == "a": ... elif mode == "b": ... else: raise ...` -> ("mode", {"a", "b"}): the values
    that get past the statement."""
    if isinstance(statement, cst.If) and _else_raises(statement):
        subject, listed = chain_cases(statement, module)
        return None if subject is None else (subject, listed)
    if isinstance(statement, cst.SimpleStatementLine) and isinstance(statement.body[0], cst.Assert):
        test: cst.BaseExpression | None = statement.body[0].test
    elif (
        isinstance(statement, cst.If)
        and statement.orelse is None
        and isinstance(statement.body, cst.IndentedBlock)
        and isinstance(statement.body.body[-1], cst.SimpleStatementLine)
        and isinstance(statement.body.body[-1].body[-1], cst.Raise)
    ):
        test = _passing_test(statement.test)
    else:
        return None
    if test is None:
        return None
    subject, values = literal_cases(test, module)
    if subject is None:
        subject, values = _bounded_integers(test, module)
    return None if subject is None else (subject, values)


def _else_raises(chain: cst.If) -> bool:
    """The `if` / `elif` chain ends in an `else:` whose last statement raises."""
    last: cst.If = chain
    while isinstance(last.orelse, cst.If):
        last = last.orelse
    body = last.orelse.body if isinstance(last.orelse, cst.Else) else None
    return (
        isinstance(body, cst.IndentedBlock)
        and isinstance(body.body[-1], cst.SimpleStatementLine)
        and isinstance(body.body[-1].body[-1], cst.Raise)
    )


def _passing_test(raising: cst.BaseExpression) -> cst.BaseExpression | None:
    """What holds for the values that get past `if <raising>: raise`: `depth not in (18, 34)` ->
    `depth in (18, 34)`, `not 1 <= depth <= 4` -> `1 <= depth <= 4`."""
    if isinstance(raising, cst.UnaryOperation) and isinstance(raising.operator, cst.Not):
        return raising.expression
    if (
        isinstance(raising, cst.Comparison)
        and len(raising.comparisons) == 1
        and isinstance(raising.comparisons[0].operator, cst.NotIn)
    ):
        (target,) = raising.comparisons
        return raising.with_changes(comparisons=[target.with_changes(operator=cst.In())])
    return None


MAX_RANGE_CASES = 64  # a wider range is no table of cases an `if` / `elif` chain lists


def _bounded_integers(
    test: cst.BaseExpression, module: ModuleModel
) -> tuple[str | None, frozenset[str]]:
    """`1 <= depth <= 4` -> ("depth", {"1", "2", "3", "4"}); `0 < n < 3` -> ("n", {"1", "2"});
    (None, {}) for any other test."""
    if not (isinstance(test, cst.Comparison) and len(test.comparisons) == 2):
        return None, frozenset()
    first, second = test.comparisons
    low, high = test.left, second.comparator
    if not (
        isinstance(low, cst.Integer)
        and isinstance(high, cst.Integer)
        and all(isinstance(c.operator, cst.LessThan | cst.LessThanEqual) for c in test.comparisons)
    ):
        return None, frozenset()
    start = int(low.evaluated_value) + isinstance(first.operator, cst.LessThan)
    stop = int(high.evaluated_value) - isinstance(second.operator, cst.LessThan)
    if stop - start >= MAX_RANGE_CASES:
        return None, frozenset()
    return module.code(first.comparator), frozenset(str(value) for value in range(start, stop + 1))


def chain_tests(chain: cst.If) -> Iterator[cst.BaseExpression]:
    """The tests of an `if` / `elif` chain, in order."""
    branch: cst.BaseSuite | cst.If | cst.Else | None = chain
    while isinstance(branch, cst.If):
        yield branch.test
        branch = branch.orelse


def chain_cases(chain: cst.If, module: ModuleModel) -> tuple[str | None, frozenset[str]]:
    """An `if` / `elif` chain that tests one value against literals (`depth == 18`, `elif depth in
    (34, 50)`) -> ("depth", {"18", "34", "50"}); (None, {}) for any other chain."""
    cases = [literal_cases(test, module) for test in chain_tests(chain)]
    subjects = {subject for subject, _ in cases}
    if None in subjects or len(subjects) != 1:
        return None, frozenset()
    return subjects.pop(), frozenset(value for _, values in cases for value in values)
