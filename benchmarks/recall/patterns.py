"""What the operators look for in a ResNet-family file: forward methods, residual additions, layer calls.

Small questions over the libcst tree, shared by the operators so each operator reads as the bug it makes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import libcst as cst
from sourcetext import Source

FORWARD_NAMES = {
    "forward",
    "_forward_impl",
    "forward_features",
    "_forward",
    "_inner_forward",
    "forward_impl",
}
IDENTITY = re.compile(
    r"^(identity|residual|shortcut|skip|res|short|sc|idt|x_?(shortcut|skip|res|residual|identity))$"
)
SHORTCUT_ATTR = re.compile(r"downsample|shortcut|skip|short|^proj$|^sc$", re.IGNORECASE)
NORM_ATTR = re.compile(r"bn|norm", re.IGNORECASE)
ACTIVATION_ATTR = re.compile(r"relu|act", re.IGNORECASE)
IN_CHANNELS = re.compile(r"^in_?(planes?|channels?|chs|ch|_?c)$")
# Words of a channel count in a shortcut's test (`inplanes != planes * 4`, `in_chs != out_chs`).
CHANNEL_WORD = re.compile(r"plane|chan|chs|inp|oup|dim|width|filter|feature|_c\b|\bc_", re.I)


def dotted(node: cst.CSTNode) -> str:
    """`nn.Conv2d` for an Attribute chain or a Name; '' for anything else."""
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, cst.Attribute):
        base = dotted(node.value)
        return f"{base}.{node.attr.value}" if base else ""
    return ""


def self_attribute(node: cst.CSTNode) -> str:
    """`conv1` for `self.conv1`, else ''."""
    if (
        isinstance(node, cst.Attribute)
        and isinstance(node.value, cst.Name)
        and node.value.value == "self"
    ):
        return node.attr.value
    return ""


def callee(call: cst.Call) -> str:
    """The last name of what is called: `Conv2d` for `nn.Conv2d(...)`, `conv3x3` for `conv3x3(...)`."""
    name = dotted(call.func)
    return name.rsplit(".", 1)[-1]


def classes(source: Source) -> list[cst.ClassDef]:
    return [node for node in source.walk() if isinstance(node, cst.ClassDef)]


def ancestors(cls: cst.ClassDef, classes: list[cst.ClassDef]) -> set[str]:
    """The names of `cls`'s bases, and of their bases among `classes` (the file's own), transitively."""
    by_name = {other.name.value: other for other in classes}
    found: set[str] = set()
    pending = [cls]
    while pending:
        current = pending.pop()
        for base in current.bases:
            name = dotted(base.value).rsplit(".", 1)[-1]
            if name and name not in found:
                found.add(name)
                if name in by_name:
                    pending.append(by_name[name])
    return found


def methods(cls: cst.ClassDef) -> list[cst.FunctionDef]:
    return [node for node in cls.body.body if isinstance(node, cst.FunctionDef)]


def method(cls: cst.ClassDef, name: str) -> cst.FunctionDef | None:
    return next((node for node in methods(cls) if node.name.value == name), None)


def forwards(cls: cst.ClassDef) -> list[cst.FunctionDef]:
    return [node for node in methods(cls) if node.name.value in FORWARD_NAMES]


def inside(source: Source, node: cst.CSTNode, kind: type[cst.CSTNode]) -> Iterator[cst.CSTNode]:
    return (child for child in source.walk(node) if isinstance(child, kind))


def reads_in_scope(source: Source, function: cst.FunctionDef, name: str) -> list[cst.Name]:
    """The names `name` in `function`'s body that stand for its own variable: not inside a nested
    function or lambda that takes a parameter of that name (`def _inner_forward(x):` in forward)."""
    shadowed: set[int] = set()
    for node in source.walk(function.body):
        if isinstance(node, (cst.FunctionDef, cst.Lambda)) and any(
            param.name.value == name for param in _parameters(node.params)
        ):
            shadowed |= {id(inner) for inner in source.walk(node)}
    return [
        node
        for node in source.walk(function.body)
        if isinstance(node, cst.Name) and node.value == name and id(node) not in shadowed
    ]


def _parameters(params: cst.Parameters) -> list[cst.Param]:
    stars = [p for p in (params.star_arg, params.star_kwarg) if isinstance(p, cst.Param)]
    return [*params.posonly_params, *params.params, *params.kwonly_params, *stars]


def variables(source: Source, function: cst.FunctionDef) -> list[cst.Name]:
    """The names in `function` that are variables: not `.attr` of an attribute, not `keyword=` of a call."""
    not_variables = set()
    for node in source.walk(function):
        if isinstance(node, cst.Attribute):
            not_variables.add(node.attr)
        elif isinstance(node, cst.Arg) and node.keyword is not None:
            not_variables.add(node.keyword)
    return [n for n in source.walk(function) if isinstance(n, cst.Name) and n not in not_variables]


def blocks(source: Source, scope: cst.CSTNode) -> Iterator[list[cst.BaseStatement]]:
    """Every statement list (function body, if/for/with/try bodies, nested defs) inside `scope`."""
    for node in source.walk(scope):
        if isinstance(node, cst.IndentedBlock):
            yield list(node.body)


def small(statement: cst.CSTNode) -> cst.BaseSmallStatement | None:
    """The only small statement of a simple statement line, else None."""
    if isinstance(statement, cst.SimpleStatementLine) and len(statement.body) == 1:
        return statement.body[0]
    return None


def single_target(statement: cst.CSTNode) -> tuple[str, cst.BaseExpression] | None:
    """(`out`, value) for `out = value`."""
    node = small(statement)
    if (
        isinstance(node, cst.Assign)
        and len(node.targets) == 1
        and isinstance(node.targets[0].target, cst.Name)
    ):
        return node.targets[0].target.value, node.value
    return None


def self_call_on(statement: cst.CSTNode, pattern: re.Pattern[str]) -> tuple[str, str] | None:
    """(variable, attribute) for `v = self.attr(v)` whose attribute matches `pattern`."""
    assigned = single_target(statement)
    if assigned is None or not isinstance(assigned[1], cst.Call):
        return None
    call = assigned[1]
    attribute = self_attribute(call.func)
    if not attribute or not pattern.search(attribute) or len(call.args) != 1:
        return None
    argument = call.args[0].value
    if isinstance(argument, cst.Name) and argument.value == assigned[0]:
        return assigned[0], attribute
    return None


def is_residual_operand(node: cst.CSTNode) -> bool:
    if isinstance(node, cst.Name):
        return bool(IDENTITY.match(node.value))
    if isinstance(node, cst.Call):
        return bool(SHORTCUT_ATTR.search(self_attribute(node.func) or dotted(node.func)))
    return False


def addition(statement: cst.CSTNode) -> str | None:
    """The variable that `out += identity` or `out = out + identity` updates, else None."""
    node = small(statement)
    if isinstance(node, cst.AugAssign) and isinstance(node.operator, cst.AddAssign):
        if isinstance(node.target, cst.Name) and is_residual_operand(node.value):
            return node.target.value
    assigned = single_target(statement)
    if (
        assigned
        and isinstance(assigned[1], cst.BinaryOperation)
        and isinstance(assigned[1].operator, cst.Add)
    ):
        operation = assigned[1]
        if is_residual_operand(operation.left) or is_residual_operand(operation.right):
            return assigned[0]
    if assigned and isinstance(assigned[1], cst.Call) and "add" in dotted(assigned[1].func).lower():
        # torch.add(out, identity), quantized FloatFunctional's add / add_relu
        if any(is_residual_operand(arg.value) for arg in assigned[1].args):
            return assigned[0]
    return None


def has_addition(source: Source, function: cst.FunctionDef) -> bool:
    return any(addition(statement) for block in blocks(source, function) for statement in block)


def imports_name(source: Source, name: str) -> bool:
    """Whether the module binds `name` at top level by an import (`nn`, `F`, `torch`)."""
    for statement in source.module.body:
        node = small(statement)
        if isinstance(node, (cst.Import, cst.ImportFrom)) and not isinstance(
            node.names, cst.ImportStar
        ):
            for alias in node.names:
                bound = alias.asname.name if alias.asname else alias.name
                if dotted(bound).split(".")[0] == name:
                    return True
    return False


def top_level_names(source: Source) -> set[str]:
    names: set[str] = set()
    for statement in source.module.body:
        if isinstance(statement, (cst.FunctionDef, cst.ClassDef)):
            names.add(statement.name.value)
    return names


def misspelt(name: str, taken: str) -> str | None:
    """A near miss of `name` (two middle letters swapped, else one dropped) that `taken` never contains."""
    middle = max(1, len(name) // 2)
    candidates = []
    if middle + 1 < len(name) and name[middle] != name[middle + 1]:
        candidates.append(name[:middle] + name[middle + 1] + name[middle] + name[middle + 2 :])
    candidates.append(name[:middle] + name[middle + 1 :])
    for candidate in candidates:
        if len(candidate) > 1 and not re.search(rf"\b{re.escape(candidate)}\b", taken):
            return candidate
    return None


def insert_argument(source: Source, call: cst.Call, text: str) -> tuple[int, str]:
    """Where and what to insert so that `call` gains the argument `text` (keeps a trailing comma)."""
    if not call.args:
        return source.span(call)[1] - 1, text
    end = source.span(call.args[-1].value)[1]
    rest = source.text[end:]
    stripped = rest.lstrip()
    if stripped.startswith(","):
        comma = end + len(rest) - len(stripped) + 1
        return comma, f" {text},"
    return end, f", {text}"


def assignments_to_self(source: Source, cls: cst.ClassDef, attribute: str) -> list[cst.CSTNode]:
    """The statements of `cls` that assign `self.attribute`."""
    found = []
    for node in source.walk(cls):
        if isinstance(node, cst.SimpleStatementLine):
            for part in node.body:
                targets = part.targets if isinstance(part, cst.Assign) else ()
                if any(self_attribute(target.target) == attribute for target in targets):
                    found.append(node)
                if isinstance(part, cst.AnnAssign) and self_attribute(part.target) == attribute:
                    found.append(node)
    return found


def removal(
    source: Source, statement: cst.CSTNode, block: list[cst.BaseStatement]
) -> tuple[int, int, str] | None:
    """Edit span and text that delete a statement (leaving `pass` when it was alone in its block)."""
    lines = source.whole_lines(statement)
    if lines is None:
        return None
    replacement = f"{source.indent(statement)}pass\n" if len(block) == 1 else ""
    return lines[0], lines[1], replacement
