"""Attributes set by computed names: which names `self.add_module(name, ...)` can give.

OpenMMLab code registers its layers under names it computes: `self.add_module(self.norm1_name, norm1)`
after `self.norm1_name, norm1 = build_norm_layer(cfg, planes, postfix=1)` (the norm's abbreviation
then the postfix: "bn1", "gn1"), and `self.add_module(f"layer{i + 1}", stage)`. Such a name is not
any name: it has a shape, and a read such as `self.covn1` that fits none of the shapes is still a
read of something nobody sets. A name reslint cannot shape (a parameter, a plugin's config-chosen
name) may be any name.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING

import libcst as cst

from reslint.knowledge.frameworks import builder_for, module_base_attributes
from reslint.knowledge.layers import ARGUMENT_STORERS, NAME_SETTERS
from reslint.knowledge.names import names_in
from reslint.model.call_binding import called_name

if TYPE_CHECKING:
    from reslint.model.classes import ClassModel
    from reslint.model.module import ModuleModel

ANY = ".*"
MAX_DEPTH = 4  # names defined through names: `layer_name = name` chains are short in real code


def dynamic_name_shapes(module: ModuleModel) -> dict[int, list[re.Pattern] | None]:
    """For each class of the file (by id of its definition) whose methods set attributes on `self`
    through a computed name (`add_module`, `setattr`, `register_buffer` with a name that is not a
    literal), the shapes of those names, a regex each; None when one of them may be any name."""
    found: dict[int, list[re.Pattern] | None] = {}
    for call, function in module.names.calls:
        method = module.enclosing_method(function) if function is not None else None
        cls = module.class_of(method)
        if method is None or cls is None:
            continue
        if called_name(call) in ARGUMENT_STORERS or _hands_over_locals(call, method):
            found[id(cls.node)] = None
            continue
        if not _sets_on_instance(call, method):
            continue
        name = _name_argument(call)
        if isinstance(name, cst.SimpleString):
            continue
        shapes = found.setdefault(id(cls.node), [])
        shape = _shape(name, method, cls, module, 0) if name and shapes is not None else None
        if shape is None:
            found[id(cls.node)] = None
        elif shapes is not None:
            shapes.append(re.compile(shape))
    return found


def _hands_over_locals(call: cst.Call, method: cst.FunctionDef) -> bool:
    """`set_attributes(self, locals())` (pytorchvideo's blocks): a function given both the instance
    and the method's local names can set an attribute named after each of them."""
    values = [arg.value for arg in call.args]
    return any(_is_instance(value, method) for value in values) and any(
        isinstance(value, cst.Call)
        and isinstance(value.func, cst.Name)
        and value.func.value in ("locals", "vars")
        and not value.args
        for value in values
    )


def _setter(call: cst.Call) -> str:
    """`setattr` for `setattr(...)`, `add_module` for `x.add_module(...)`; "" for other calls."""
    func = call.func
    if isinstance(func, cst.Name):
        return func.value if func.value == "setattr" else ""
    name = func.attr.value if isinstance(func, cst.Attribute) else ""
    return name if name in NAME_SETTERS and name != "setattr" else ""


def _sets_on_instance(call: cst.Call, method: cst.FunctionDef) -> bool:
    """A setter called on the method's own instance (`setattr(self, name, v)`,
    `self.add_module(name, m)`), not on another object (`stage.add_module(...)` fills a child)."""
    setter = _setter(call)
    if not setter:
        return False
    if isinstance(call.func, cst.Attribute):
        return _is_instance(call.func.value, method)
    return bool(call.args) and _is_instance(call.args[0].value, method)


def _name_argument(call: cst.Call) -> cst.BaseExpression | None:
    """The expression a setter call gives as the name; None where it is not given plainly."""
    positional = [arg.value for arg in call.args if arg.keyword is None and not arg.star]
    position = NAME_SETTERS[_setter(call)]
    keyword = [arg.value for arg in call.args if arg.keyword and arg.keyword.value == "name"]
    given = positional[position : position + 1] or keyword
    return given[0] if given else None


def _is_instance(node: cst.BaseExpression | None, method: cst.FunctionDef) -> bool:
    params = method.params.params
    return isinstance(node, cst.Name) and bool(params) and node.value == params[0].name.value


def _shape(
    node: cst.BaseExpression,
    method: cst.FunctionDef,
    cls: ClassModel,
    module: ModuleModel,
    depth: int,
) -> str | None:
    """A regex of the strings `node` can evaluate to, None when it can be any string."""
    if depth > MAX_DEPTH:
        return None
    if isinstance(node, cst.SimpleString):
        value = node.evaluated_value
        return re.escape(value) if isinstance(value, str) else None
    if isinstance(node, cst.Integer):
        return re.escape(node.value)
    if isinstance(node, cst.FormattedString):
        return "".join(
            re.escape(part.value) if isinstance(part, cst.FormattedStringText) else ANY
            for part in node.parts
        )
    if isinstance(node, cst.BinaryOperation) and isinstance(node.operator, cst.Add):
        left = _shape(node.left, method, cls, module, depth + 1)
        right = _shape(node.right, method, cls, module, depth + 1)
        return None if left is None or right is None else left + right
    if isinstance(node, cst.Call) and isinstance(node.func, cst.Name) and node.func.value == "str":
        return ANY
    if isinstance(node, cst.Name):
        return _union(
            _shape_of_value(value, method, cls, module, depth + 1)
            for value in _local_values(node.value, method, module)
        )
    if isinstance(node, cst.Attribute) and _is_instance(node.value, method):
        return _union(
            _shape_of_value(value, store_method, cls, module, depth + 1)
            for store_method, value in _attribute_values(node.attr.value, cls, module)
        )
    return None


def _shape_of_value(
    value: tuple[cst.BaseExpression, int] | None,
    method: cst.FunctionDef,
    cls: ClassModel,
    module: ModuleModel,
    depth: int,
) -> str | None:
    """The shape of element `index` of an assigned value (-1: the value itself)."""
    if value is None:
        return None
    expression, index = value
    if index < 0:
        return _shape(expression, method, cls, module, depth)
    if isinstance(expression, (cst.Tuple, cst.List)) and index < len(expression.elements):
        return _shape(expression.elements[index].value, method, cls, module, depth)
    if isinstance(expression, cst.Call) and index == 0:
        return _built_name(expression, method, cls, module, depth)
    return None


def _built_name(
    call: cst.Call, method: cst.FunctionDef, cls: ClassModel, module: ModuleModel, depth: int
) -> str | None:
    """The name a framework builder returns with its layer (mmcv's `build_norm_layer`: "bn1")."""
    qualified = module.file_of(method).imports.qualified(call.func)
    builder = builder_for(qualified) if qualified else None
    if builder is None or not builder.name_prefixes:
        return None
    postfix = _argument(call, builder.params, "postfix")
    suffix = "" if postfix is None else _shape(postfix, method, cls, module, depth)
    if suffix is None:
        return None
    prefixes = "|".join(re.escape(prefix) for prefix in builder.name_prefixes)
    return f"(?:{prefixes}){suffix}"


def _argument(call: cst.Call, params: tuple[str, ...], name: str) -> cst.BaseExpression | None:
    for arg in call.args:
        if arg.keyword is not None and arg.keyword.value == name:
            return arg.value
    positional = [arg.value for arg in call.args if arg.keyword is None and not arg.star]
    index = params.index(name) if name in params else len(positional)
    return positional[index] if index < len(positional) else None


def _union(shapes: Iterator[str | None]) -> str | None:
    found = list(shapes)
    known = {shape for shape in found if shape is not None}
    if not found or len(known) < len(set(found)):
        return None
    return "|".join(f"(?:{shape})" for shape in sorted(known))


def _local_values(
    name: str, method: cst.FunctionDef, module: ModuleModel
) -> Iterator[tuple[cst.BaseExpression, int] | None]:
    """What each binding of a local name assigns (None for a parameter, a loop variable...)."""
    home = module.file_of(method)
    bindings = home.names.functions[id(method)].bound.get(name, [])
    if not bindings:
        yield None
    for target in bindings:
        yield _assigned(target, home)


def _attribute_values(
    name: str, cls: ClassModel, module: ModuleModel
) -> Iterator[tuple[cst.FunctionDef, tuple[cst.BaseExpression, int] | None]]:
    """What each `self.<name> = ...` of the class and its bases assigns (None for a store that is not
    a plain assignment); a single None when a base reslint cannot see may set it too."""
    found = False
    for owner in [cls, *cls.ancestors()]:
        home = module.file_of(owner.node)
        for method in owner.methods.values():
            for target in home.attribute_stores_in_method(method):
                if target.attr.value == name and _is_instance(target.value, method):
                    found = True
                    yield method, _assigned(target, home)
    if not found or _unseen_base_may_set(name, cls):
        yield next(iter(cls.methods.values())), None


def never_set(name: str, cls: ClassModel, module: ModuleModel) -> bool:
    """Whether nothing gives instances of `cls` the attribute `name`: no method of the class or its
    bases stores it, nor sets it under a computed name that may be it, the class bodies do not
    define it, no base reslint cannot read may set it, and nn.Module has no such attribute. Then
    `getattr(self, name, default)` is the default (ResNet3d's `lateral_inplanes`, which only its
    two-pathway subclasses set)."""
    if name in (names_in("torch.nn.Module") or ()) or _unseen_base_may_set(name, cls):
        return False
    for owner in [cls, *cls.ancestors()]:
        if name in owner.constant_nodes or name in owner.methods:
            return False
        home = module.file_of(owner.node)
        computed = dynamic_name_shapes(home).get(id(owner.node), [])
        if computed is None or reads_fit(name, computed):
            return False
        for method in owner.methods.values():
            for target in home.attribute_stores_in_method(method):
                if target.attr.value == name and _is_instance(target.value, method):
                    return False
    return True


def _unseen_base_may_set(name: str, cls: ClassModel) -> bool:
    """Whether a base reslint cannot read may set `name`: any base of another library, except
    torch's and the framework bases whose attributes are known (mmengine's BaseModule)."""
    for qualified in cls.unseen_bases():
        known = module_base_attributes(qualified) if qualified else None
        if known is None and not (qualified or "").startswith("torch.") or name in (known or ()):
            return True
    return cls.hierarchy_cut


def _assigned(target: cst.CSTNode, home: ModuleModel) -> tuple[cst.BaseExpression, int] | None:
    """The value a plain or tuple assignment gives `target`, with its position in the tuple (-1 for
    a plain target); None for any other binding (a parameter, a loop, an augmented assignment)."""
    parents = home.names.parents
    parent = parents.get(id(target))
    index = -1
    if isinstance(parent, cst.Element):
        container = parents.get(id(parent))
        if not isinstance(container, (cst.Tuple, cst.List)):
            return None
        index = next(i for i, element in enumerate(container.elements) if element is parent)
        if any(isinstance(e, cst.StarredElement) for e in container.elements):
            return None
        parent = parents.get(id(container))
    if not isinstance(parent, cst.AssignTarget):
        return None
    statement = parents.get(id(parent))
    return (statement.value, index) if isinstance(statement, cst.Assign) else None


def reads_fit(name: str, shapes: list[re.Pattern]) -> bool:
    """Whether some computed name of these shapes can be `name`."""
    return any(shape.fullmatch(name) for shape in shapes)
