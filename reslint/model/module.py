"""ModuleModel: a parsed file with its imports, classes, functions and their interpretation."""

from __future__ import annotations

import builtins
import re
from collections.abc import Callable, Iterator, Sequence
from functools import cached_property
from typing import Any, TypeVar

import libcst as cst

from reslint.knowledge.naming import BOOKKEEPING
from reslint.model.bindings import (
    UndefinedName,
    find_undefined_names,
    lines_changed_in_repair,
    names_lost_in_repair,
)
from reslint.model.call_binding import called_name
from reslint.model.classes import ClassModel, Instance, named_values
from reslint.model.configurations import (
    annotated_classes,
    class_table_choices,
    handed_classes,
    table_choices,
)
from reslint.model.flow import FunctionFlow, analyse_function, own_code, target_names
from reslint.model.imports import ImportMap
from reslint.model.interpreter import Builtin, Frame, Interpreter
from reslint.model.names import NameIndex
from reslint.model.network_families import family_key
from reslint.model.positions import PlacedStatement, code_of, place_statement, statement_lines
from reslint.model.project import Project
from reslint.model.stores import Liveness, liveness
from reslint.model.symbolic import OPERATOR_SYMBOLS
from reslint.model.unused import UnusedLayer, unused_layers
from reslint.model.values import (
    UNKNOWN,
    ClassRef,
    FunctionRef,
    Layer,
    TorchRef,
    options,
)
from reslint.model.walk import descendants
from reslint.segments import Segment

NodeT = TypeVar("NodeT", bound=cst.CSTNode)

BUILTIN_NAMES = frozenset(dir(builtins)) | {
    "__file__",
    "__name__",
    "__doc__",
    "__builtins__",
    "__spec__",
}


class ModuleModel:
    """Everything reslint knows about one source file. Rules ask it; they do not re-walk the syntax.

    A file may define a name several times (notebook exports, a blog post quoting a library after its
    own code): every definition gets its own model, and a use refers to the definition in force where
    it stands, as Python would (see `definition`)."""

    def __init__(
        self,
        tree: cst.Module,
        source: str,
        path: str,
        project: Project | None = None,
        segment: Segment | None = None,
    ) -> None:
        self.tree = tree
        self.source = source
        self.path = path
        # A segment of a huge file (reslint.segments): positions and `lines` count the file's lines.
        self.segment = segment
        self.lines: Sequence[str] = (
            source.splitlines() if segment is None else segment.lines_as_in_file()
        )
        # Identifiers on lines a syntax repair changed (see build_module_model).
        self.lost_in_repair: frozenset[str] = frozenset()
        # The file's numbers of the lines a syntax repair changed (`self.conv = ???` of an exercise).
        self.repaired_lines: frozenset[int] = frozenset()
        self.names = NameIndex(tree)
        self.imports = ImportMap(self.names.imports, self.names.bound_anywhere, path)
        # Every top-level class and function definition, in source order.
        self.class_defs: list[ClassModel] = []
        self.function_defs: list[cst.FunctionDef] = []
        # name -> [(order of the top-level statement, ClassModel | FunctionDef | assigned expression)]
        self._bindings: dict[str, list[tuple[int, Any]]] = {}
        self._order = {id(statement): order for order, statement in enumerate(tree.body)}
        self._placed_statements: dict[int, PlacedStatement] = {}
        # where the top-level statements start, the first one after the header: grown on demand
        self._statement_starts = [1 + len(tree.header)]
        for order, statement in enumerate(tree.body):
            self._index_top_level(statement, order)
        self._globals_cache: dict[tuple[str, int], Any] = {}
        self._code_cache: dict[int, str] = {}
        self._method_owner = {id(f): cls for cls in self.class_defs for f in cls.methods.values()}
        self.project = project if project is not None else Project()
        self.project.add(self)
        self.names.functions.foreign = self.project.function_names

    @property
    def interpreter(self) -> Interpreter:
        return self.project.interpreter

    def release(self) -> None:
        """Drop everything the model holds (Project.release): it answers nothing afterwards."""
        for cls in vars(self).get("class_defs", ()):  # a model known under two paths comes twice
            cls.release()
        vars(self).clear()

    def _index_top_level(self, statement: cst.CSTNode, order: int) -> None:
        if isinstance(statement, cst.ClassDef):
            cls = ClassModel(statement, self)
            self.class_defs.append(cls)
            self._bind(statement.name.value, order, cls)
        elif isinstance(statement, cst.FunctionDef):
            self.function_defs.append(statement)
            self._bind(statement.name.value, order, statement)
        elif isinstance(statement, cst.SimpleStatementLine):
            for name, value in named_values(statement):
                self._bind(name, order, value)
        elif isinstance(statement, cst.If):  # `if __name__ == "__main__":` and version switches
            for inner in statement.body.body:
                if isinstance(inner, (cst.ClassDef, cst.FunctionDef)):
                    self._index_top_level(inner, order)

    def _bind(self, name: str, order: int, value: Any) -> None:
        self._bindings.setdefault(name, []).append((order, value))

    def definition(self, name: str, at: cst.CSTNode | None = None, strict: bool = False) -> Any:
        """The definition of a top-level name in force at `at`: the last one before it in source order
        (`strict`: strictly before, as for a class's bases), else the first one after it (a function body
        runs later), else None. Without `at`, the last definition of the file."""
        bindings = self._bindings.get(name)
        if not bindings:
            return None
        if at is None:
            return bindings[-1][1]
        here = self.order_of(at)
        before = [
            value for order, value in bindings if order < here or (order == here and not strict)
        ]
        if before:
            return before[-1]
        after = [value for order, value in bindings if order > here]
        return after[0] if after else None

    def order_of(self, node: cst.CSTNode) -> int:
        """The source-order index of the top-level statement that holds `node`."""
        return self._order.get(id(self._top_level_statement(node)), len(self._order))

    def repaired_within(self, node: cst.CSTNode | None) -> bool:
        """Whether a line the syntax repair changed (`self.conv1 = ???` an exercise leaves for the
        student) lies within `node`: what that line did is unknown."""
        if node is None or not self.repaired_lines:
            return False
        first, _, last, _ = self.position(node)
        return any(first <= line <= last for line in self.repaired_lines)

    def owns(self, node: cst.CSTNode) -> bool:
        """Whether a node is part of this file (a finding may be about a block of an imported file)."""
        return id(self._top_level_statement(node)) in self._order

    def class_named(self, name: str, at: cst.CSTNode | None = None) -> ClassModel | None:
        found = self.definition(name, at)
        return found if isinstance(found, ClassModel) else None

    def function_named(self, name: str, at: cst.CSTNode | None = None) -> cst.FunctionDef | None:
        found = self.definition(name, at)
        return found if isinstance(found, cst.FunctionDef) else None

    @property
    def class_names(self) -> set[str]:
        return {cls.name for cls in self.class_defs}

    def enclosing_method(self, function: cst.FunctionDef) -> cst.FunctionDef:
        """The method a (possibly nested) function is defined in; the function itself at top level."""
        cache = self.__dict__.setdefault("_enclosing", {})
        if id(function) not in cache:
            outer, node = function, function
            while (parent := self.names.parents.get(id(node))) is not None:
                if isinstance(parent, cst.ClassDef):
                    break
                if isinstance(parent, cst.FunctionDef):
                    outer = parent
                node = parent
            cache[id(function)] = outer
        return cache[id(function)]

    # The rules ask "which attributes does this method read or store?" once per class or method;
    # scanning every attribute of the file each time made a file of 10,000 small classes quadratic
    # (360 s). Grouped once here, each question costs what the method holds.

    def attributes_in(self, function: cst.FunctionDef) -> list[cst.Attribute]:
        """The attributes (`x.name`, read or stored) written directly in `function`, nested
        functions excluded."""
        return self._attributes_by_function.get(id(function), [])

    def calls_in(self, function: cst.FunctionDef) -> list[cst.Call]:
        """The calls written directly in `function`, nested functions excluded."""
        return self._calls_by_function.get(id(function), [])

    def attributes_in_method(self, method: cst.FunctionDef) -> list[cst.Attribute]:
        """The attributes written in `method` or in a function nested in it."""
        return self._attributes_by_method.get(id(method), [])

    def attribute_stores_in_method(self, method: cst.FunctionDef) -> list[cst.Attribute]:
        """The attribute targets (`x.name = ...`) in `method` or in a function nested in it."""
        return self._attribute_stores_by_method.get(id(method), [])

    @cached_property
    def configured_keywords(self) -> frozenset[str]:
        """The keywords the file passes a value of its own somewhere (`act_layer="silu"`,
        `act_layer=cfg.act_layer`) rather than handing on the same-named parameter
        (`act_layer=act_layer`): a constructor parameter of that name is not always its default."""
        return frozenset(
            arg.keyword.value
            for call, _ in self.names.calls
            for arg in call.args
            if arg.keyword is not None
            and not (isinstance(arg.value, cst.Name) and arg.value.value == arg.keyword.value)
        )

    @cached_property
    def _attributes_by_function(self) -> dict[int, list[cst.Attribute]]:
        return _grouped(self.names.attributes, id)

    @cached_property
    def _calls_by_function(self) -> dict[int, list[cst.Call]]:
        return _grouped(self.names.calls, id)

    @cached_property
    def _attributes_by_method(self) -> dict[int, list[cst.Attribute]]:
        return _grouped(self.names.attributes, lambda f: id(self.enclosing_method(f)))

    @cached_property
    def _attribute_stores_by_method(self) -> dict[int, list[cst.Attribute]]:
        return _grouped(self.names.attribute_stores, lambda f: id(self.enclosing_method(f)))

    @cached_property
    def attribute_reads(self) -> tuple[dict[int, dict[str, list[cst.Attribute]]], set[str]]:
        """Attribute reads: `self.X` by the method they are in (nested functions count for their
        method), and the names read on anything else (`model.fc`, `self.backbone.fc`'s `fc`) but
        torch's own (`F.pad`, `nn.functional.pad`: a function, never a layer of the file)."""
        stores = {id(target) for target, _ in self.names.attribute_stores}
        on_self: dict[int, dict[str, list[cst.Attribute]]] = {}
        elsewhere: set[str] = set()
        for attribute, function in self.names.attributes:
            if id(attribute) in stores:
                continue
            method = self.enclosing_method(function) if function is not None else None
            receiver = attribute.value
            if (
                method is not None
                and isinstance(receiver, cst.Name)
                and receiver.value == _first_param(method)
            ):
                on_self.setdefault(id(method), {}).setdefault(attribute.attr.value, []).append(
                    attribute
                )
            elif not (
                self.initialises_a_parameter(attribute, method)
                or (self.imports.qualified(receiver) or "").split(".")[0] == "torch"
            ):
                elsewhere.add(attribute.attr.value)
        return on_self, elsewhere

    def forward_functions(self) -> Iterator[cst.FunctionDef]:
        """The `forward` of every analysed class, and the functions nested in it."""
        for cls in self.analysed_classes:
            forward = cls.methods.get("forward")
            if forward is not None:
                yield forward
                yield from self._functions_inside.get(id(forward), ())

    def forward_and_helpers(self) -> Iterator[cst.FunctionDef]:
        """`forward_functions`, and the methods of the same class forward runs through `self`
        (`self._forward(x)`, `checkpoint(self._forward, x, emb)`), transitively, with the functions
        nested in them: what those compute is the network's output too."""
        for cls in self.analysed_classes:
            todo = [method] if (method := cls.methods.get("forward")) is not None else []
            seen: set[int] = set()
            while todo:
                function = todo.pop()
                if id(function) in seen:
                    continue
                seen.add(id(function))
                yield function
                yield from self._functions_inside.get(id(function), ())
                todo += [
                    cls.methods[name] for name in self.self_reads(function) if name in cls.methods
                ]

    @cached_property
    def _functions_inside(self) -> dict[int, list[cst.FunctionDef]]:
        """The functions defined inside each function (at any depth, in source order), from the name
        index rather than a walk of each body."""
        inside: dict[int, list[cst.FunctionDef]] = {}
        parents = self.names.parents
        for names in self.names.functions.values():
            parent = parents.get(id(names.node))
            while parent is not None:
                if isinstance(parent, cst.FunctionDef):
                    inside.setdefault(id(parent), []).append(names.node)
                parent = parents.get(id(parent))
        return inside

    def file_of(self, node: cst.CSTNode) -> ModuleModel:
        """The model of the file `node` is part of: this one, or another linted file of the project
        (a base class may come from there)."""
        return self if self.owns(node) else self.project.file_of(node) or self

    def self_reads(self, method: cst.FunctionDef) -> dict[str, list[cst.Attribute]]:
        """The `self.X` reads of `method`, by name, read in the file that defines it."""
        return self.file_of(method).attribute_reads[0].get(id(method), {})

    def initialises_a_parameter(
        self, attribute: cst.Attribute, method: cst.FunctionDef | None
    ) -> bool:
        """`m.bn2.weight` read in a method that sets the model up (`nn.init.constant_(m.bn2.weight,
        0)` in `__init__` or `_init_weights`; timm's `zero_init_last` with
        `nn.init.zeros_(self.conv3.bn.weight)` and `getattr(self.bn3, "weight", None)`), or the
        layer handed whole to an initialiser (`constant_init(self.proj, 0)`), asked to set itself
        up (`self.conv_pre.remove_weight_norm()` in the model's own `remove_weight_norm`) or listed
        for a loop that sets each up (`for m in [self.conv1, self.conv2]: xavier_init(m)`): setting a layer's
        weights up is not using the layer."""
        if method is None or BOOKKEEPING.search(method.name.value) is None:
            return False
        node: cst.CSTNode = attribute
        parent = self.names.parents.get(id(node))
        while isinstance(parent, cst.Attribute) and parent.value is node:
            if parent.attr.value in _PARAMETER_NAMES:
                return True
            node, parent = parent, self.names.parents.get(id(parent))
        if node is not attribute and isinstance(parent, cst.Call) and parent.func is node:
            # `self.conv_pre.remove_weight_norm()`, `self.fc.reset_parameters()`: set up, not run.
            return (
                isinstance(node, cst.Attribute) and _SETTING_UP.match(node.attr.value) is not None
            )
        if isinstance(parent, cst.Arg):
            call = self.names.parents.get(id(parent))
            return _getattr_of_parameter(call, node) or _initialiser_of(call, node)
        return node is attribute and self._listed_for_a_loop_not_calling_it(attribute)

    def _listed_for_a_loop_not_calling_it(self, attribute: cst.Attribute) -> bool:
        """`for m in [self.conv1, self.conv2]:` whose body never calls `m`: the loop sets the layers
        up (initialises, freezes) rather than running them."""
        parents = self.names.parents
        element = parents.get(id(attribute))
        listed = parents.get(id(element)) if isinstance(element, cst.Element) else None
        loop = parents.get(id(listed)) if isinstance(listed, cst.List | cst.Tuple) else None
        if not isinstance(loop, cst.For) or loop.iter is not listed:
            return False
        if not isinstance(loop.target, cst.Name):
            return False
        variable = loop.target.value
        return not any(
            isinstance(node, cst.Call)
            and isinstance(node.func, cst.Name)
            and node.func.value == variable
            for node in descendants(loop.body)
        )

    def fills_a_container(self, attribute: cst.Attribute) -> bool:
        """`self.features.add_module("stage1", stage)`, `self.blocks.append(block)`: putting layers
        into a container builds it; it is not running it."""
        parent = self.names.parents.get(id(attribute))
        return (
            isinstance(parent, cst.Attribute)
            and parent.attr.value in _CONTAINER_FILLERS
            and isinstance(call := self.names.parents.get(id(parent)), cst.Call)
            and call.func is parent
        )

    # ----- places and text -----------------------------------------------------------------

    # Positions: libcst's PositionProvider re-generates the code with bookkeeping for every node. Only
    # reported nodes need a place, so a node is placed by generating the innermost definition around
    # it (or its top-level statement), on demand, and a clean file is never placed at all. Where that
    # definition starts comes from Python's own parser, which costs far less than generating the code
    # above it.

    def position(self, node: cst.CSTNode) -> tuple[int, int, int, int]:
        """(line, column, end_line, end_column), 1-based columns."""
        unit, indents = self._placing_unit(node)
        placed = self._placed(unit, indents)
        line, column, end_line, end_column = placed.spans[id(node)]
        starts = self._statement_lines
        if starts is not None:
            offset = self.file_line(starts[id(unit)]) - placed.spans[id(unit)][0]
        else:
            offset = self._first_line(unit) - 1
        return line + offset, column + 1, end_line + offset, end_column + 1

    def file_line(self, line: int) -> int:
        """The file's number of a line of `source` (they differ in a segment of a huge file)."""
        return line if self.segment is None else self.segment.file_line(line)

    def line_of(self, node: cst.CSTNode) -> int:
        return self.position(node)[0]

    def _top_level_statement(self, node: cst.CSTNode) -> cst.CSTNode:
        current = node
        while True:
            parent = self.names.parents.get(id(current))
            if parent is None or parent is self.tree:
                return current
            current = parent

    def _placing_unit(self, node: cst.CSTNode) -> tuple[cst.CSTNode, list[str]]:
        """The innermost class or function definition around `node` (itself included) and the
        indentation of the blocks it stands in; its top-level statement where Python's parser gave no
        lines."""
        unit = None
        indents: list[str] = []
        current = node
        while True:
            parent = self.names.parents.get(id(current))
            if parent is None or parent is self.tree:
                break
            if unit is None and isinstance(current, cst.FunctionDef | cst.ClassDef):
                unit = current
            if unit is not None and isinstance(parent, cst.IndentedBlock | cst.Match):
                indents.append(self.tree.default_indent if parent.indent is None else parent.indent)
            current = parent
        if unit is None or self._statement_lines is None:
            return current, []
        return unit, indents[::-1]

    @cached_property
    def _statement_lines(self) -> dict[int, int] | None:
        return statement_lines(self.tree, self.source)

    def _placed(self, unit: cst.CSTNode, indents: Sequence[str] = ()) -> PlacedStatement:
        placed = self._placed_statements.get(id(unit))
        if placed is None:
            placed = self._placed_statements[id(unit)] = place_statement(unit, self.tree, indents)
        return placed

    def _first_line(self, statement: cst.CSTNode) -> int:
        """The line a top-level statement's code (its leading comments included) starts on: after the
        header and the lines of every statement before it."""
        starts = self._statement_starts
        order = self._order[id(statement)]
        while len(starts) <= order:
            before = self.tree.body[len(starts) - 1]
            starts.append(starts[-1] + self._newlines(before))
        # a statement's lines (leading comments included) are whole in a segment: see segments.py
        return self.file_line(starts[order])

    def _newlines(self, statement: cst.CSTNode) -> int:
        """The "\\n" in a top-level statement's code: counted when it was placed, else generated."""
        placed = self._placed_statements.get(id(statement))
        if placed is not None:
            return placed.newlines
        return code_of(statement, self.tree).count("\n")

    def code(self, node: cst.CSTNode) -> str:
        """The source text of a node, on one line, as the user wrote it."""
        key = id(node)
        if key not in self._code_cache:
            text = _simple_text(node)
            if text is None:
                text = code_of(node, self.tree)
            self._code_cache[key] = " ".join(text.split())
        return self._code_cache[key]

    def within(self, container: cst.CSTNode) -> Callable[[cst.CSTNode], bool]:
        return lambda node: self.names.contains(container, node)

    # ----- names ---------------------------------------------------------------------------

    def global_value(self, name: str, at: cst.CSTNode | None = None) -> Any:
        """What a global name means at `at`: a class, a function, an import, a constant, a builtin."""
        definition = self.definition(name, at)
        key = (name, id(definition))
        if key not in self._globals_cache:
            self._globals_cache[key] = UNKNOWN  # a constant defined in terms of itself
            self._globals_cache[key] = self._resolve_global(name, definition)
        return self._globals_cache[key]

    def _resolve_global(self, name: str, definition: Any) -> Any:
        if isinstance(definition, ClassModel):
            return ClassRef(definition)
        if isinstance(definition, cst.FunctionDef):
            return FunctionRef(definition)
        if name in self.imports.sources:
            imported = self.project.resolve_import(self, self.imports.sources[name])
            if imported is not None:
                return imported
        if name in self.imports.aliases:
            return TorchRef(self.imports.aliases[name])
        if definition is not None:
            return self.interpreter.evaluate(definition, Frame({}, None, 0, self))
        if name in BUILTIN_NAMES:
            return Builtin(name)
        return self.project.from_star_imports(self, name)

    @cached_property
    def _constant_values(self) -> dict[str, tuple]:
        domains: dict[str, list[float]] = {}
        for cls in self.class_defs:
            for name in cls.constant_nodes:
                value = cls.constant(name, self.interpreter)
                constant = getattr(value, "constant", None)
                if constant is not None and constant not in domains.setdefault(name, []):
                    domains[name].append(constant)
        return {name: tuple(values) for name, values in domains.items() if values}

    def constant_domain(self, name: str) -> tuple:
        """The values a class constant takes across the file's classes (`expansion` -> (1, 4))."""
        return self._constant_values.get(name, ())

    def flow(self, function: cst.FunctionDef) -> FunctionFlow:
        """The control-flow facts of one of the file's functions, worked out on first demand."""
        cache = self.__dict__.setdefault("_flows", {})
        if id(function) not in cache:
            reads = self.names.functions[id(function)].reads
            cache[id(function)] = analyse_function(function, reads)
        return cache[id(function)]

    def liveness(self, function: cst.FunctionDef) -> Liveness:
        """What `function` does with the values it assigns (stores overwritten or never read), worked
        out on first demand: RN312 and RN313 both ask."""
        cache = self.__dict__.setdefault("_liveness", {})
        if id(function) not in cache:
            cache[id(function)] = liveness(function.body)
        return cache[id(function)]

    @cached_property
    def unused_layers(self) -> list[UnusedLayer]:
        """Layers the file's classes build and never use, worked out once: RN107 and RN312 both
        ask."""
        return list(unused_layers(self))

    def surely_unbound(self, read: cst.Name, function: cst.FunctionDef) -> bool:
        """A read of `function`'s local that no binding can precede: every path reaches it with the
        name unbound (`x = self.conv1(x)` as forward's first use of `x`), so it raises whenever it
        runs."""
        if not self.flow(function).may_be_unbound(read):
            return False
        start = self.position(read)[:2]
        bindings = self.names.functions[id(function)].bound.get(read.value, [])
        return all(self.position(self._statement_of(b))[2:] > start for b in bindings)

    def _statement_of(self, node: cst.CSTNode) -> cst.CSTNode:
        """The statement a node belongs to (a loop's target: the loop)."""
        current = node
        while not isinstance(current, (cst.SimpleStatementLine, cst.BaseCompoundStatement)):
            parent = self.names.parents.get(id(current))
            if parent is None:
                return current
            current = parent
        return current

    @cached_property
    def undefined_names(self) -> tuple[UndefinedName, ...]:
        """Reads of names nothing binds where they are read (pyflakes), worked out on first demand."""
        return find_undefined_names(self)

    def class_of(self, function: cst.FunctionDef | None) -> ClassModel | None:
        return self._method_owner.get(id(function)) if function is not None else None

    # ----- interpretation ------------------------------------------------------------------

    @property
    def module_classes(self) -> list[ClassModel]:
        return [cls for cls in self.class_defs if cls.is_module]

    @property
    def defines_networks(self) -> bool:
        """Whether the file defines an nn.Module class (the whole file's answer for a segment: rules
        that only speak about model files ask this)."""
        return bool(self.module_classes) or (
            self.segment is not None and self.segment.in_network_file
        )

    def subclasses(self, cls: ClassModel) -> list[ClassModel]:
        """The file's classes that derive from `cls`, directly or not, in source order."""
        return self._subclasses.get(id(cls), [])

    @cached_property
    def _subclasses(self) -> dict[int, list[ClassModel]]:
        found: dict[int, list[ClassModel]] = {}
        for cls in self.class_defs:
            for ancestor in cls.ancestors():
                found.setdefault(id(ancestor), []).append(cls)
        return found

    @property
    def analysed_classes(self) -> list[ClassModel]:
        """The classes whose instances rules check: nn.Modules, and classes built on a base reslint
        cannot see (mmengine's BaseModule, another file's block) that look like one."""
        return [cls for cls in self.class_defs if cls.is_module or cls.may_be_module]

    def instances(self) -> list[Instance]:
        """Every instance worth checking: each class generically, plus every specialisation a builder or
        factory produces (a Bottleneck built with a given downsample, the ResNet that resnet50() builds).
        Worked out once; rules share the list."""
        cached = self.__dict__.get("_all_instances")
        if cached is not None:
            return cached
        for cls in self.analysed_classes:
            for result in cls.built_alone:  # builds the generic instance first
                _instantiate_blocks(result)
        for function in self.function_defs:
            if _builds_handed_class(function):
                # `make_blocks(block_fns, channels, ...)` at module level: a stage builder, run on
                # its own as a class's `_make_layer` is, so its conditions (which shortcut a block
                # gets) stay visible.
                _instantiate_blocks(self.interpreter.run_alone(function, None))
        networks = self._factory_networks()
        for cls in self.analysed_classes:
            for choice in annotated_classes(cls, self):
                if not _built_with(cls, choice, networks):
                    cls.instantiate(choice)
            for choice in handed_classes(cls, self):
                cls.instantiate(choice)
            for choice in class_table_choices(cls):
                cls.instantiate(choice)
        for network in networks:
            network.instance  # noqa: B018 -- builds and caches the instance
        seen: list[Instance] = []
        pending = True
        while pending:
            pending = False
            for cls in list(self.analysed_classes):
                for instance in cls.instances():
                    if instance in seen:
                        continue
                    seen.append(instance)
                    pending = True
                    for layer in instance.layers().values():
                        for inner in layer.walk():
                            if inner.kind == "block":
                                inner.instance  # noqa: B018 -- builds and caches the instance
        self.__dict__["_all_instances"] = seen
        return seen

    def _factory_networks(self) -> list[Layer]:
        """The networks the factories declare, one per family (reslint.model.network_families)."""
        networks: dict[str, Layer] = {}
        for function in self.function_defs:
            for option in self.declared_models(function):
                if isinstance(option, Layer) and option.kind == "block":
                    networks.setdefault(family_key(option), option)
        return list(networks.values())

    def declared_models(self, function: cst.FunctionDef) -> list[Any]:
        """What a factory returns with its defaults and with each entry of a table it looks its
        argument up in (`ResNetGenerator(name="resnet-50")`). Worked out once per factory."""
        cache = self.__dict__.setdefault("_declared_models", {})
        if id(function) in cache:
            return cache[id(function)]
        found = list(options(self.factory_model(function)))
        for choice in table_choices(function):
            try:
                result = self.interpreter.call_function(function, [], choice, None, depth=1)
            except RecursionError:
                continue
            found.extend(options(result))
        cache[id(function)] = found
        return found

    def factory_model(self, function: cst.FunctionDef) -> Any:
        """What a module-level function returns when called with its defaults (resnet50() -> a ResNet layer)."""
        cache = self.__dict__.setdefault("_factories", {})
        if id(function) not in cache:
            cache[id(function)] = UNKNOWN
            try:
                cache[id(function)] = self.interpreter.call_function(
                    function, [], {}, None, depth=1
                )
            except RecursionError:
                pass
        return cache[id(function)]


_PARAMETER_NAMES = frozenset({"weight", "bias", "running_mean", "running_var"})
_CONTAINER_FILLERS = frozenset({"add_module", "append", "extend", "insert", "update"})


# The methods of a layer that set it up without running it: weights reset or re-parametrised,
# gradients frozen, the training mode switched.
_SETTING_UP = re.compile(
    r"_?(reset_param|init_weight|(remove|apply)_weight_norm|remove_parametrizations|requires_grad_$"
    r"|train$|eval$)",
    re.I,
)

# `constant_init`, `xavier_init`, `init_weights`, `initialize`: a function that sets weights up.
_INITIALISER = re.compile(r"(^|_)init(_|$|iali[sz]e)", re.I)


def _initialiser_of(call: cst.CSTNode | None, target: cst.CSTNode) -> bool:
    """`constant_init(target, 0)`, `nn.utils.remove_weight_norm(target)`: `target`, a whole layer,
    handed first to a function that sets it up."""
    if not (isinstance(call, cst.Call) and call.args and call.args[0].value is target):
        return False
    name = called_name(call)
    return _INITIALISER.search(name) is not None or _SETTING_UP.match(name) is not None


def _getattr_of_parameter(call: cst.CSTNode | None, target: cst.CSTNode) -> bool:
    """`getattr(target, "weight", None)`: a parameter of `target`, read by name."""
    if not (
        isinstance(call, cst.Call)
        and isinstance(call.func, cst.Name)
        and call.func.value == "getattr"
        and len(call.args) >= 2
        and call.args[0].value is target
    ):
        return False
    name = call.args[1].value
    return isinstance(name, cst.SimpleString) and name.evaluated_value in _PARAMETER_NAMES


def _built_with(cls: ClassModel, choice: dict[str, Any], networks: list[Layer]) -> bool:
    """Whether a factory's network builds `cls` with the classes `choice` hands it (`resnet18()`
    builds `ResNet` with `block=BasicBlock`). That network is checked with the numbers the file
    builds it with, so the choice is not tried again with its numbers left open: a second network
    and all its blocks (12% of a cold run on torchvision's resnet.py), for no finding the recall
    benchmarks showed."""
    return any(
        network.cls is cls
        and all(
            isinstance(given := network.args.get(name), ClassRef) and given.cls is ref.cls
            for name, ref in choice.items()
        )
        for network in networks
    )


def _instantiate_blocks(result: Any) -> None:
    """Build (and cache) the instance of each block a builder's result holds."""
    for option in options(result):
        if isinstance(option, Layer):
            for inner in option.walk():
                if inner.kind == "block":
                    inner.instance  # noqa: B018 -- builds and caches the instance


def _builds_handed_class(function: cst.FunctionDef) -> bool:
    """A function that calls a class it was handed: a parameter, or a name its own `for` takes from
    one (`for block_fn, planes in zip(block_fns, channels): ... block_fn(inplanes, planes)`). A
    factory calls the classes it names; a stage builder, the block it is given."""
    params = function.params
    handed = {p.name.value for p in (*params.posonly_params, *params.params, *params.kwonly_params)}
    nodes = list(own_code(function.body))
    for node in nodes:
        if isinstance(node, cst.For):
            handed |= target_names(node.target)
    return any(
        isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value in handed
        for node in nodes
    )


def _first_param(function: cst.FunctionDef) -> str | None:
    params = [*function.params.posonly_params, *function.params.params]
    return params[0].name.value if params else None


def _simple_text(node: cst.CSTNode) -> str | None:
    """The exact source of the common small expressions, without libcst's code generator (slow when it
    runs for every attribute and product the interpreter meets). None for anything else."""
    if getattr(node, "lpar", None):
        return None
    if isinstance(node, cst.Name):
        return node.value
    if isinstance(node, (cst.Integer, cst.Float, cst.SimpleString)):
        return node.value
    if isinstance(node, cst.Attribute):
        base = _simple_text(node.value)
        dot = node.dot
        if (
            base is None
            or not isinstance(dot.whitespace_before, cst.SimpleWhitespace)
            or not isinstance(dot.whitespace_after, cst.SimpleWhitespace)
        ):
            return None
        return f"{base}{dot.whitespace_before.value}.{dot.whitespace_after.value}{node.attr.value}"
    if isinstance(node, cst.BinaryOperation):
        left, right = _simple_text(node.left), _simple_text(node.right)
        operator = node.operator
        before, after = (
            getattr(operator, "whitespace_before", None),
            getattr(operator, "whitespace_after", None),
        )
        token = OPERATOR_SYMBOLS.get(type(operator).__name__)
        if (
            None in (left, right, token)
            or not isinstance(before, cst.SimpleWhitespace)
            or not isinstance(after, cst.SimpleWhitespace)
        ):
            return None
        return f"{left}{before.value}{token}{after.value}{right}"
    return None


def _grouped(
    pairs: list[tuple[NodeT, cst.FunctionDef | None]], key: Callable[[cst.FunctionDef], int]
) -> dict[int, list[NodeT]]:
    """The nodes of (node, function it is in) pairs grouped by `key(function)`; those outside any
    function left out."""
    grouped: dict[int, list[NodeT]] = {}
    for node, function in pairs:
        if function is not None:
            grouped.setdefault(key(function), []).append(node)
    return grouped


def build_module_model(
    tree: cst.Module,
    source: str,
    path: str,
    project: Project | None = None,
    original: str | None = None,
    segment: Segment | None = None,
) -> ModuleModel:
    """The model of a parsed file (or `segment` of it); `original` is the file's text when `source` is
    its syntax repair."""
    model = ModuleModel(tree, source, path, project, segment)
    if original is not None:
        model.lost_in_repair = names_lost_in_repair(original, source)
        model.repaired_lines = frozenset(
            map(model.file_line, lines_changed_in_repair(original, source))
        )
    return model
