"""How a class applies the modules it keeps in a container attribute (`self.heads`): one after the
other (`for layer in self.layers: x = layer(x)`, `nn.Sequential(*self.layers)`) or side by side, each
to an input of its own (`for head in self.heads: outs.append(head(x))`, one head per pyramid level
with `zip(feats, self.convs)`). Blocks applied side by side all take the same input width, so a
builder loop that gives each one the same input channels is right."""

from __future__ import annotations

from typing import TYPE_CHECKING

import libcst as cst

from reslint.model.walk import descendants

if TYPE_CHECKING:
    from reslint.model.classes import ClassModel
    from reslint.model.module import ModuleModel

# Calls that hand a loop the container's items one by one, as its iterable.
_ITERATING = frozenset({"zip", "enumerate", "reversed"})


def applied_side_by_side(cls: ClassModel, attr: str, module: ModuleModel) -> bool:
    """Whether every application of `self.<attr>`'s modules in the class feeds each its own input,
    and there is at least one. Any use reslint cannot place (the container handed to a call, a
    result assigned back to its input) answers False."""
    verdicts = [
        _verdict(read, module)
        for method in cls.methods.values()
        for read in module.self_reads(method).get(attr, [])
    ]
    return "side" in verdicts and not ({"chain", "unknown"} & set(verdicts))


def _verdict(read: cst.Attribute, module: ModuleModel) -> str:
    """ "side", "chain", "unknown", or "none" (a use that applies nothing: `.append`, `.modules()`)."""
    parent = module.names.parents.get(id(read))
    if isinstance(parent, cst.Subscript):
        call = module.names.parents.get(id(parent))
        return (
            _application(call, module)
            if isinstance(call, cst.Call) and call.func is parent
            else "none"
        )
    if isinstance(parent, cst.Attribute):
        return "none"
    loop = _loop_over(read, module)
    if loop is not None:
        return _loop_verdict(loop, module)
    if isinstance(parent, cst.Arg):
        return "unknown"  # handed to a call (`nn.Sequential(*self.layers)`, a helper)
    return "none" if isinstance(parent, (cst.Comparison, cst.UnaryOperation)) else "unknown"


def _loop_over(read: cst.Attribute, module: ModuleModel) -> cst.For | cst.CompFor | None:
    """The loop or comprehension `read` is the iterable of, directly or through zip/enumerate."""
    node: cst.CSTNode = read
    parent = module.names.parents.get(id(node))
    if isinstance(parent, cst.Arg):
        call = module.names.parents.get(id(parent))
        if not (
            isinstance(call, cst.Call)
            and isinstance(call.func, cst.Name)
            and call.func.value in _ITERATING
        ):
            return None
        node, parent = call, module.names.parents.get(id(call))
    if isinstance(parent, (cst.For, cst.CompFor)) and parent.iter is node:
        return parent
    return None


def _loop_verdict(loop: cst.For | cst.CompFor, module: ModuleModel) -> str:
    """How the loop applies the modules its target takes from the container."""
    names = {node.value for node in descendants(loop.target) if isinstance(node, cst.Name)}
    body: cst.CSTNode = loop.body if isinstance(loop, cst.For) else module.names.parents[id(loop)]
    verdicts = {
        _application(node, module)
        for node in descendants(body)
        if isinstance(node, cst.Call)
        and isinstance(node.func, cst.Name)
        and node.func.value in names
    }
    if not verdicts:
        return "none"
    if isinstance(loop, cst.CompFor):
        return "side"  # a comprehension applies each module to what it had before it began
    return "side" if verdicts == {"side"} else "chain"


def _application(call: cst.Call, module: ModuleModel) -> str:
    """ "chain" when the statement holding the call assigns a name the call reads (`x = layer(x)`),
    else "side"."""
    read = {
        node.value for arg in call.args for node in descendants(arg) if isinstance(node, cst.Name)
    }
    statement = module.names.parents.get(id(call))
    while statement is not None and not isinstance(
        statement, (cst.Assign, cst.AugAssign, cst.AnnAssign, cst.SimpleStatementLine)
    ):
        statement = module.names.parents.get(id(statement))
    if isinstance(statement, cst.Assign):
        targets = [target.target for target in statement.targets]
    elif isinstance(statement, (cst.AugAssign, cst.AnnAssign)):
        targets = [statement.target]
    else:
        return "side"
    assigned = {n.value for t in targets for n in descendants(t) if isinstance(n, cst.Name)}
    return "chain" if assigned & read else "side"
