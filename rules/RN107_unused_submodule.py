"""RN107 unused-submodule."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from reslint.model import ModuleModel
from reslint.model.classes import ClassModel
from reslint.model.naming import BOOKKEEPING
from reslint.model.values import Layer, Param, options
from reslint.rule import Rule, Violation
from reslint.rules_support import function_of

# Layer kinds without weights: unused, they change the computation, not the parameter count.
PARAMETER_FREE = {
    "act",
    "pool",
    "avgpool",
    "globalpool",
    "dropout",
    "identity",
    "flatten",
    "upsample",
}

# Containers: built empty, they hold nothing at all.
CONTAINERS = {"sequential", "modulelist", "moduledict"}

# Iterating over children reaches every submodule without naming it.
DYNAMIC_ACCESS = {"children", "named_children", "modules", "named_modules", "_modules", "__dict__"}


class UnusedSubmodule(Rule):
    """## What it does
    Checks for layers assigned to `self` in `__init__` that are never used anywhere else.

    ## Why is this bad?
    The layer still adds parameters (and optimizer state) but never touches the data, so the
    network is not the one you think: a projection built for the shortcut but never applied, or a
    max-pool built but never called, changes every shape after it. Unused parameters also break
    `DistributedDataParallel` unless `find_unused_parameters=True`.

    ## Example
    ```python
    self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
    ...
    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        x = self.layer1(x)
    ```

    Use instead:
    ```python
    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer1(x)
    ```
    """

    code = "RN107"
    name = "unused-submodule"
    severity = Rule.severity
    # `downsample(x)` for `self.downsample(x)`: the layer is unused because of that missing `self.`.
    defers_to = ("RN102",)

    def check(self, module: ModuleModel) -> Iterator[Violation]:
        elsewhere = module.attribute_reads[1]
        # Each class's own uses, worked out once: a class is related to every class of its
        # hierarchy. Keyed by the number of its instances too, as building one class's instance
        # may build another's.
        uses: dict[tuple[int, int], set[str]] = {}

        def own_uses(cls: ClassModel) -> set[str]:
            key = (id(cls), len(cls.instances()))
            if key not in uses:
                uses[key] = _names_used_in(cls, module)
            return uses[key]

        # A base's unused layer is reported once, for the class whose code builds it, not again for
        # each subclass that only calls `super().__init__()`.
        reported: set[int] = set()
        for cls in module.module_classes:
            instance = cls.generic
            if (
                instance is None
                or cls.method("forward") is None
                or cls.is_container
                or _accesses_dynamically(cls, module)
                or _reached_by_unknown_names(cls)
            ):
                continue  # nn.Sequential subclasses run their children in order
            # `self.X` read by this class, its bases or its subclasses (a base may build what a
            # subclass's forward uses), or `X` read on any other object of the file.
            related = [cls, *cls.ancestors(), *module.subclasses(cls)]
            # Strings name modules too (`getattr(self, "layer1")`, timm's `module="act1"`): those
            # written in a related class or outside any class.
            used = elsewhere | module.names.strings_by_class.get(None, set())
            for other in related:
                used |= own_uses(other)
            patterns = {
                p for other in related for built in other.instances() for p in built.read_by_pattern
            }
            for assignment in _assignments(cls, module):
                name = assignment.name
                if (
                    name in used
                    or any(pattern.fits(name) for pattern in patterns)
                    or id(assignment.target) in reported
                    or not _is_built_layer(assignment.value)
                ):
                    continue
                reported.add(id(assignment.target))
                yield Violation(
                    assignment.target,
                    f"`self.{name}` is built in `{_builder(assignment.target, cls, module)}` but never "
                    "used: " + _cost(assignment.value),
                    f"call `self.{name}` in forward, or delete it",
                    defers_to=tuple(("RN102", read) for read in _bare_reads(cls, name, module)),
                )


def _names_used_in(cls: ClassModel, module: ModuleModel) -> set[str]:
    """The names a class's own code uses: its strings, what its instances read by name, and the
    `self.X` its methods read; for a class of another linted file (a base), also what that file
    reads on other objects."""
    home = module.file_of(cls.node)
    used = set(home.names.strings_by_class.get(id(cls.node), set()))
    if home is not module:
        used |= home.attribute_reads[1] | home.names.strings_by_class.get(None, set())
    for built in cls.instances():
        if built.forward is not None or built.read_by_name:
            used |= built.read_by_name
    for method in cls.methods.values():
        for name, reads in module.self_reads(method).items():
            if not all(_tested_for_none(read, home) for read in reads):
                used.add(name)
    return used


def _bare_reads(cls: ClassModel, name: str, module: ModuleModel) -> list[cst.Name]:
    """`downsample` read without `self.` in the class's methods."""
    home = module.file_of(cls.node)
    return [
        read
        for method in cls.methods.values()
        for read in home.names.functions[id(method)].reads
        if read.value == name
    ]


def _tested_for_none(read: cst.Attribute, home: ModuleModel) -> bool:
    """`self.downsample is not None`: a layer only compared with None never computes anything."""
    parent = home.names.parents.get(id(read))
    return (
        isinstance(parent, cst.Comparison)
        and parent.left is read
        and len(parent.comparisons) == 1
        and isinstance(parent.comparisons[0].operator, cst.Is | cst.IsNot)
        and isinstance(parent.comparisons[0].comparator, cst.Name)
        and parent.comparisons[0].comparator.value == "None"
    )


def _assignments(cls: ClassModel, module: ModuleModel) -> list:
    """Every `self.X = ...` the class's instances ran: the generic one first, then those the file's
    networks and factories build (`self.downsample = downsample` holds a layer only where a stage
    passes one)."""
    module.instances()  # builds and caches the instances the file constructs
    return [assignment for built in cls.instances() for assignment in built.assignments]


def _builder(target: cst.CSTNode, cls: ClassModel, module: ModuleModel) -> str:
    """`Encoder.__init__`: the method whose code assigns the layer, named by its own class (a
    subclass that only calls `super().__init__()` builds nothing itself)."""
    method = function_of(target, module)
    owner = module.class_of(method) if method is not None else None
    if method is None or owner is None:
        return f"{cls.name}.__init__"
    return f"{owner.name}.{module.enclosing_method(method).name.value}"


def _cost(value) -> str:
    layer = next(o for o in options(value) if isinstance(o, Layer))
    if layer.kind in CONTAINERS and not layer.children:
        return "it is empty, so it is dead code (it adds neither parameters nor computation)"
    if layer.kind in PARAMETER_FREE:
        return "it is never applied: dead code, or a step the network was meant to have and skips"
    return "it adds parameters but no computation"


def _is_built_layer(value) -> bool:
    return any(
        isinstance(o, Layer) and o.kind not in ("object", "unknown") for o in options(value)
    ) and not any(isinstance(o, Param) for o in options(value))


def _reached_by_unknown_names(cls) -> bool:
    """Whether running the class (forward included) calls `getattr(self, name)` with a name reslint
    cannot work out."""
    return any(
        instance.forward is not None and instance.dynamic_access or instance.dynamic_access
        for instance in cls.instances()
    )


def _accesses_dynamically(cls, module: ModuleModel) -> bool:
    """Whether a method that may compute with the submodules iterates them (`self.children()`);
    initialising or freezing them that way (`for m in self.modules(): nn.init...`) does not count."""
    computing = [f for name, f in cls.methods.items() if not BOOKKEEPING.search(name)]
    for function in computing:
        if any(read.value in DYNAMIC_ACCESS for read in module.names.functions[id(function)].reads):
            return True
    return any(
        attribute.attr.value in DYNAMIC_ACCESS
        for function in computing
        for attribute in module.attributes_in_method(function)
    )


UnusedSubmodule.INVALID = [
    """
import torch.nn as nn
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
    def forward(self, x):
        return self.conv1(x)
"""
]
UnusedSubmodule.VALID = [
    """
import torch.nn as nn
class Net(nn.Module):
    def __init__(self, include_top=True):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        if include_top:
            self.fc = nn.Linear(64, 10)
    def forward(self, x):
        x = self.conv1(x)
        if self.include_top:
            x = self.fc(x)
        return x
""",
    """
import torch.nn as nn
class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.layer1 = nn.Conv2d(3, 64, 3)
    def forward(self, x):
        for i in range(1):
            x = getattr(self, f"layer{i + 1}")(x)
        return x
""",
]
