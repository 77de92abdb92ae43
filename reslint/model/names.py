"""One pass over the syntax: which names are bound where, which are read, attributes, calls and strings."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cached_property

import libcst as cst

from reslint.knowledge.naming import DEBUG_SWITCH
from reslint.model.branch_facts import negates
from reslint.model.walk import descendants, walk

# Calls whose string argument is an attribute or submodule name that they may go on to run.
# (`hasattr(self, "norm3")` only tests whether the layer was built: that uses no layer.)
NAME_TAKING_CALLS = {
    "getattr",
    "setattr",
    "delattr",
    "add_module",
    "register_module",
    "get_submodule",
    "__getattr__",
}


def _is_parameter_path(text: str) -> bool:
    """`layer1.0.conv1.weight`: attribute names and indices joined by dots."""
    parts = text.split(".")
    return (
        len(parts) > 1
        and parts[0].isidentifier()
        and all(part.isidentifier() or part.isdigit() for part in parts[1:])
    )


def _callee(call: cst.Call) -> str:
    func = call.func
    if isinstance(func, cst.Attribute):
        return func.attr.value
    return func.value if isinstance(func, cst.Name) else ""


@dataclass
class NameUse:
    node: cst.Name
    function: cst.FunctionDef | None  # innermost enclosing function
    classdef: cst.ClassDef | None


@dataclass
class FunctionNames:
    """Names a function binds (parameters, assignments, loops, imports, nested defs) and where."""

    node: cst.FunctionDef
    bound: dict[str, list[cst.CSTNode]] = field(default_factory=dict)
    reads: list[cst.Name] = field(default_factory=list)
    # Assignments nested in if/for/while/try: the name may be unbound after them.
    conditional: set[str] = field(default_factory=set)
    unconditional: set[str] = field(default_factory=set)


class FunctionTable(dict[int, "FunctionNames"]):
    """The names of each function of the file, by id of its FunctionDef. A method inherited from a
    class of another linted file is looked up in that file's table (`foreign`, set by the project)."""

    foreign: Callable[[int], FunctionNames | None] | None = None

    def __missing__(self, key: int) -> FunctionNames:
        found = self.foreign(key) if self.foreign is not None else None
        if found is None:
            raise KeyError(key)
        return found


class NameIndex:
    def __init__(self, tree: cst.Module) -> None:
        self.bound_anywhere: set[str] = set()
        self.module_bound: set[str] = set()
        self.reads: list[NameUse] = []
        self.attributes: list[tuple[cst.Attribute, cst.FunctionDef | None]] = []
        self.calls: list[tuple[cst.Call, cst.FunctionDef | None]] = []
        # The same calls by what they call: `Bottleneck(...)` under "Bottleneck", `x.__init__(...)`
        # under "__init__" (a plain name or an attribute's last name; other callees are not indexed).
        self.calls_by_callee: dict[str, list[tuple[cst.Call, cst.FunctionDef | None]]] = {}
        self.strings: set[str] = set()
        # The strings that may name a submodule, by the class they are written in (outside any
        # class: key None).
        self.strings_by_class: dict[int | None, set[str]] = {}
        self.imports: list[cst.Import | cst.ImportFrom] = []
        self.ifs: list[tuple[cst.If, cst.FunctionDef | None]] = []
        # `obj.attr = ...` / `obj.attr += ...` targets, with the function they are in.
        self.attribute_stores: list[tuple[cst.Attribute, cst.FunctionDef | None]] = []
        self.functions = FunctionTable()
        # Names a `del`, a `global`/`nonlocal` or an annotation without a value touches: a binding
        # of theirs may vanish or live in another scope than where it is written.
        self.unsettled: set[str] = set()
        # Names annotated without a value right in a class body: only that class's scope changes.
        self.class_annotations: set[str] = set()
        self._not_reads: set[int] = set()
        self._functions: list[cst.FunctionDef] = []
        self._classes: list[cst.ClassDef] = []
        self._conditional_depth: list[int] = []
        # Each node's parent, so "is this node inside that function?" needs no second walk.
        self.parents: dict[int, cst.CSTNode] = {}
        self._stack: list[cst.CSTNode] = []
        walk(tree, self, self._stack, self.parents)

    def contains(self, container: cst.CSTNode, node: cst.CSTNode) -> bool:
        current: cst.CSTNode | None = node
        while current is not None:
            if current is container:
                return True
            current = self.parents.get(id(current))
        return False

    def raises_after(self, node: cst.CSTNode) -> bool:
        """Whether the code goes on to `raise` after this node's statement, in its block or in a block
        around it (an error branch: `except RuntimeError: if oom: print(...)` then `raise`): the
        statement then runs only on the way to an error. Loops and functions are not left."""
        statement: cst.CSTNode | None = node
        while statement is not None:
            block = self.parents.get(id(statement))
            if isinstance(block, (cst.FunctionDef, cst.ClassDef, cst.For, cst.While, cst.Lambda)):
                return False
            if isinstance(block, cst.IndentedBlock):
                after = block.body[[id(s) for s in block.body].index(id(statement)) + 1 :]
                if any(isinstance(s, cst.SimpleStatementLine) and _raises(s) for s in after):
                    return True
            statement = block
        return False

    def warns_of_a_failure(self, node: cst.CSTNode) -> bool:
        """Whether the node runs only when the network is about to fail: under an `if` that finds
        two shapes different (`if out.size() != residual.size(): print(...)`, the addition after
        it then fails), or whose test is the negation of the `assert` right after it."""
        statement: cst.CSTNode | None = node
        while statement is not None and not isinstance(statement, cst.If):
            statement = self.parents.get(id(statement))
            if isinstance(statement, (cst.FunctionDef, cst.ClassDef, cst.For, cst.While)):
                return False
        if statement is None:
            return False
        if _shapes_differ(statement.test) or _repairs_tested_value(statement):
            return True
        block = self.parents.get(id(statement))
        body = list(getattr(block, "body", ()))
        index = next((i for i, s in enumerate(body) if s is statement), len(body))
        after = body[index + 1] if index + 1 < len(body) else None
        return (
            isinstance(after, cst.SimpleStatementLine)
            and isinstance(after.body[0], cst.Assert)
            and negates(statement.test, after.body[0].test)
        )

    def loop_carried(self, read: NameUse) -> bool:
        """Whether a loop around the read binds the name in the read's own function (`in_ch = out_ch
        if i else base` before `out_ch = ...` in the loop body): a later pass reads what an earlier
        one bound, so the name is defined there, whatever the first pass does."""
        if read.function is None:
            return False
        bindings = self.functions[id(read.function)].bound.get(read.node.value, ())
        loop = self.parents.get(id(read.node))
        while loop is not None and loop is not read.function:
            if isinstance(loop, (cst.For, cst.While)) and any(
                self.contains(loop.body, binding) for binding in bindings
            ):
                return True
            loop = self.parents.get(id(loop))
        return False

    def under_debug_switch(self, node: cst.CSTNode) -> bool:
        """Whether the node runs only when a diagnostics flag is on: inside the body of an `if` (or a
        conditional expression: `print(x.shape) if self.verbose else None`) that tests the flag
        (`if self.verbose:`, `if debug and i == 0:`), or the `else` of one that tests it negated.
        Functions are not left."""
        return any(
            _tests_switch(choice.test, way)
            for choice, way in self.choices_around(node, (cst.FunctionDef, cst.ClassDef))
        )

    def choices_around(
        self, node: cst.CSTNode, up_to: tuple[type[cst.CSTNode], ...]
    ) -> Iterator[tuple[cst.If | cst.IfExp, bool]]:
        """Each `if` statement or conditional expression the node runs under, innermost first, with
        the way its test went for the node to run (True in its body, False in its else), as far as
        the nearest enclosing node of the `up_to` types."""
        child: cst.CSTNode = node
        parent = self.parents.get(id(node))
        while parent is not None and not isinstance(parent, up_to):
            if isinstance(parent, cst.If | cst.IfExp) and (
                child is parent.body or child is parent.orelse
            ):
                yield parent, child is parent.body
            child, parent = parent, self.parents.get(id(parent))

    # ----- binding helpers -----------------------------------------------------------------

    def _bind(self, name: str, node: cst.CSTNode) -> None:
        self.bound_anywhere.add(name)
        if not self._functions:
            self.module_bound.add(name)
            return
        names = self.functions[id(self._functions[-1])]
        names.bound.setdefault(name, []).append(node)
        if self._conditional_depth and self._conditional_depth[-1] > 0:
            names.conditional.add(name)
        else:
            names.unconditional.add(name)

    def _bind_target(self, target: cst.BaseExpression) -> None:
        if isinstance(target, cst.Attribute):
            self.attribute_stores.append((target, self._functions[-1] if self._functions else None))
        elif isinstance(target, cst.Name):
            self._not_reads.add(id(target))
            self._bind(target.value, target)
        elif isinstance(target, (cst.Tuple, cst.List)):
            for element in target.elements:
                self._bind_target(element.value)
        elif isinstance(target, cst.StarredElement):
            self._bind_target(target.value)

    # ----- scopes --------------------------------------------------------------------------

    def visit_FunctionDef(self, node: cst.FunctionDef) -> None:
        self._bind(node.name.value, node)
        self._not_reads.add(id(node.name))
        self._functions.append(node)
        self._conditional_depth.append(0)
        self.functions[id(node)] = FunctionNames(node)
        params = node.params
        for param in [*params.posonly_params, *params.params, *params.kwonly_params]:
            self._not_reads.add(id(param.name))
            self._bind(param.name.value, param)
        for star in (params.star_arg, params.star_kwarg):
            if isinstance(star, cst.Param):
                self._not_reads.add(id(star.name))
                self._bind(star.name.value, star)

    def leave_FunctionDef(self, original_node: cst.FunctionDef) -> None:
        self._functions.pop()
        self._conditional_depth.pop()

    def visit_Lambda(self, node: cst.Lambda) -> None:
        params = node.params
        stars = [
            star for star in (params.star_arg, params.star_kwarg) if isinstance(star, cst.Param)
        ]
        for param in [*params.posonly_params, *params.params, *params.kwonly_params, *stars]:
            self._not_reads.add(id(param.name))
            self.bound_anywhere.add(param.name.value)
            if self._functions:
                self.functions[id(self._functions[-1])].bound.setdefault(
                    param.name.value, []
                ).append(param)

    def visit_ClassDef(self, node: cst.ClassDef) -> None:
        self._bind(node.name.value, node)
        self._not_reads.add(id(node.name))
        self._classes.append(node)

    def leave_ClassDef(self, original_node: cst.ClassDef) -> None:
        self._classes.pop()

    def _enter_conditional(self) -> None:
        if self._conditional_depth:
            self._conditional_depth[-1] += 1

    def _leave_conditional(self) -> None:
        if self._conditional_depth:
            self._conditional_depth[-1] -= 1

    def visit_If(self, node: cst.If) -> None:
        self.ifs.append((node, self._functions[-1] if self._functions else None))
        self._enter_conditional()

    def leave_If(self, original_node: cst.If) -> None:
        self._leave_conditional()

    def visit_For(self, node: cst.For) -> None:
        self._bind_target(node.target)
        self._enter_conditional()

    def leave_For(self, original_node: cst.For) -> None:
        self._leave_conditional()

    def visit_While(self, node: cst.While) -> None:
        self._enter_conditional()

    def leave_While(self, original_node: cst.While) -> None:
        self._leave_conditional()

    def visit_Try(self, node: cst.Try) -> None:
        self._enter_conditional()

    def leave_Try(self, original_node: cst.Try) -> None:
        self._leave_conditional()

    # ----- bindings ------------------------------------------------------------------------

    def visit_Assign(self, node: cst.Assign) -> None:
        for target in node.targets:
            self._bind_target(target.target)

    def visit_AnnAssign(self, node: cst.AnnAssign) -> None:
        self._bind_target(node.target)
        if node.value is None and isinstance(node.target, cst.Name):
            # path: ..., ClassDef, its IndentedBlock, SimpleStatementLine, this AnnAssign
            in_class_body = len(self._stack) > 3 and isinstance(self._stack[-4], cst.ClassDef)
            names = self.class_annotations if in_class_body else self.unsettled
            names.add(node.target.value)

    def visit_Del(self, node: cst.Del) -> None:
        self.unsettled.update(target_names(node.target))

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        if isinstance(node.target, cst.Name):
            self._bind(node.target.value, node.target)
        elif isinstance(node.target, cst.Attribute):
            self.attribute_stores.append(
                (node.target, self._functions[-1] if self._functions else None)
            )

    def visit_NamedExpr(self, node: cst.NamedExpr) -> None:
        self._bind_target(node.target)

    def visit_CompFor(self, node: cst.CompFor) -> None:
        self._bind_target(node.target)

    def visit_WithItem(self, node: cst.WithItem) -> None:
        if node.asname is not None:
            self._bind_target(node.asname.name)

    def visit_ExceptHandler(self, node: cst.ExceptHandler) -> None:
        if node.name is not None and isinstance(node.name.name, cst.Name):
            self._not_reads.add(id(node.name.name))
            self._bind(node.name.name.value, node)

    def visit_Global(self, node: cst.Global) -> None:
        for item in node.names:
            self._not_reads.add(id(item.name))
            self._bind(item.name.value, node)
            self.unsettled.add(item.name.value)

    visit_Nonlocal = visit_Global

    def visit_Import(self, node: cst.Import) -> bool:
        self.imports.append(node)
        for alias in node.names:
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                self._bind(alias.asname.name.value, node)
            else:
                name = alias.name
                while isinstance(name, cst.Attribute):
                    name = name.value
                if isinstance(name, cst.Name):
                    self._bind(name.value, node)
        return False

    def visit_ImportFrom(self, node: cst.ImportFrom) -> bool:
        self.imports.append(node)
        if isinstance(node.names, cst.ImportStar):
            self.bound_anywhere.add("*")
            return False
        for alias in node.names:
            if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                self._bind(alias.asname.name.value, node)
            elif isinstance(alias.name, cst.Name):
                self._bind(alias.name.value, node)
        return False

    # ----- uses ----------------------------------------------------------------------------

    def visit_Attribute(self, node: cst.Attribute) -> None:
        self._not_reads.add(id(node.attr))
        self.attributes.append((node, self._functions[-1] if self._functions else None))

    def visit_Arg(self, node: cst.Arg) -> None:
        if node.keyword is not None:
            self._not_reads.add(id(node.keyword))

    def visit_Call(self, node: cst.Call) -> None:
        call = (node, self._functions[-1] if self._functions else None)
        self.calls.append(call)
        func = node.func
        callee = func.value if type(func) is cst.Name else None
        if type(func) is cst.Attribute:
            callee = func.attr.value
        if callee is not None:
            self.calls_by_callee.setdefault(callee, []).append(call)

    def visit_SimpleString(self, node: cst.SimpleString) -> None:
        # Only identifier-like strings matter (getattr(self, "layer1")); evaluating every literal is slow.
        raw = node.value
        inner = raw[1:-1] if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "'\"" else ""
        if inner.isidentifier():
            if self._in_export_list():
                return  # `__all__ = ["Block"]` exports a name: no attribute, no lookup by name
            self.strings.add(inner)
            if self._may_name_an_attribute(node):
                self._names_attribute(inner)
        elif self._classes and _is_parameter_path(inner) and self._may_name_an_attribute(node):
            # "patch_embed.proj.weight" in a class (transformers' _tied_weights_keys): a weight of
            # its submodule `patch_embed`, which the model shares by that path. (A file's checkpoint
            # key maps outside any class name the modules of some other model.)
            self._names_attribute(inner.split(".", 1)[0])

    def _in_export_list(self) -> bool:
        """The string is an entry of `__all__ = [...]` (or `+= [...]`) at the top of the file."""
        if self._functions or self._classes:
            return False
        for node in self._stack[-5:]:
            if isinstance(node, cst.Assign):
                targets = [target.target for target in node.targets]
            elif isinstance(node, cst.AugAssign):
                targets = [node.target]
            else:
                continue
            return any(isinstance(t, cst.Name) and t.value == "__all__" for t in targets)
        return False

    def _names_attribute(self, name: str) -> None:
        owner = id(self._classes[0]) if self._classes else None
        self.strings_by_class.setdefault(owner, set()).add(name)

    def _may_name_an_attribute(self, node: cst.SimpleString) -> bool:
        """`getattr(self, "layer1")`, `module="act1"`, `["layer1", "layer2"]`, `name = "fc"`: places
        a string can name a submodule; not `nonlinearity="relu"`."""
        parent = self._stack[-2] if len(self._stack) > 1 else None
        if isinstance(parent, cst.Arg):
            if parent.keyword is not None:
                return parent.keyword.value in ("module", "name", "layer", "layer_name")
            call = self._stack[-3] if len(self._stack) > 2 else None
            return isinstance(call, cst.Call) and _callee(call) in NAME_TAKING_CALLS
        return isinstance(
            parent, (cst.Element, cst.DictElement, cst.Index, cst.Assign, cst.AnnAssign)
        )

    def visit_Name(self, node: cst.Name) -> None:
        if id(node) in self._not_reads:
            return
        function = self._functions[-1] if self._functions else None
        self.reads.append(NameUse(node, function, self._classes[-1] if self._classes else None))
        if function is not None:
            self.functions[id(function)].reads.append(node)

    # ----- questions -----------------------------------------------------------------------

    def reads_of(self, name: str) -> list[NameUse]:
        """The reads of one name (a class's constructions, asked for class after class)."""
        return self._reads_by_name.get(name, [])

    @cached_property
    def _reads_by_name(self) -> dict[str, list[NameUse]]:
        found: dict[str, list[NameUse]] = {}
        for use in self.reads:
            found.setdefault(use.node.value, []).append(use)
        return found

    def undefined_reads(self) -> list[NameUse]:
        """Reads of names bound nowhere in the file (nor by a star import)."""
        from reslint.model.module import BUILTIN_NAMES

        if "*" in self.bound_anywhere:
            return []
        return [
            use
            for use in self.reads
            if use.node.value not in self.bound_anywhere and use.node.value not in BUILTIN_NAMES
        ]


def target_names(target: cst.BaseExpression) -> list[str]:
    """The plain names an assignment (or `del`) target binds: `a`, `a, (b, *c)`; not attributes."""
    if isinstance(target, cst.Name):
        return [target.value]
    if isinstance(target, cst.Tuple | cst.List):
        return [name for element in target.elements for name in target_names(element.value)]
    if isinstance(target, cst.StarredElement):
        return target_names(target.value)
    return []


def _raises(line: cst.SimpleStatementLine) -> bool:
    return any(isinstance(small, cst.Raise) for small in line.body)


def _repairs_tested_value(branch: cst.If) -> bool:
    """`if loss.item() > 1.0: print("out of range, clamping"); loss = torch.tensor(1.0)`: the body
    reassigns a name its test reads, so it runs on an abnormal value and mends it."""
    tested = {node.value for node in descendants(branch.test) if isinstance(node, cst.Name)}
    for line in getattr(branch.body, "body", ()):
        for small in getattr(line, "body", ()):
            if isinstance(small, cst.Assign) and any(
                isinstance(target.target, cst.Name) and target.target.value in tested
                for target in small.targets
            ):
                return True
    return False


def _shapes_differ(test: cst.BaseExpression) -> bool:
    """`a.shape != b.shape`, `x.size() != y.size()`: a test that two tensors' shapes differ."""
    if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
        return False
    target = test.comparisons[0]
    return isinstance(target.operator, cst.NotEqual) and all(
        _is_shape(side) for side in (test.left, target.comparator)
    )


def _is_shape(node: cst.BaseExpression) -> bool:
    if isinstance(node, cst.Call) and not node.args:
        node = node.func
    return isinstance(node, cst.Attribute) and node.attr.value in ("shape", "size")


def _tests_switch(test: cst.BaseExpression, on: bool) -> bool:
    """Whether `test` holds (`on`) or fails (not `on`) only while a diagnostics flag is on: the flag
    itself (`verbose`, `self.debug`), its negation, or an `and` with it among the operands."""
    if isinstance(test, cst.UnaryOperation) and isinstance(test.operator, cst.Not):
        return _tests_switch(test.expression, not on)
    if isinstance(test, cst.BooleanOperation) and isinstance(test.operator, cst.And) and on:
        return _tests_switch(test.left, on) or _tests_switch(test.right, on)
    name = test.attr if isinstance(test, cst.Attribute) else test
    return on and isinstance(name, cst.Name) and bool(DEBUG_SWITCH.search(name.value))
