"""Project: the files linted together, so that `from .blocks import Bottleneck` finds the other file's model.

One abstract interpreter serves every file of a project (a call may cross from one file into another),
and each file's model is built once, on first use.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import cache
from typing import TYPE_CHECKING, Any

import libcst as cst

from reslint.fast_parse import parse_module
from reslint.knowledge.frameworks import described_in_its_package
from reslint.knowledge.stubs import stub_path
from reslint.model.values import UNKNOWN, ModuleRef
from reslint.project_files import ProjectFiles, normal_path

if TYPE_CHECKING:
    from reslint.model.classes import ClassModel
    from reslint.model.imports import ImportSource
    from reslint.model.interpreter import Interpreter
    from reslint.model.module import ModuleModel
    from reslint.model.names import FunctionNames

# Builds the model of one linted file, or None when it cannot (unreadable, no parse).
Loader = Callable[[str], "ModuleModel | None"]


class Project:
    def __init__(self, paths: Iterable[str] = (), loader: Loader | None = None) -> None:
        from reslint.model.interpreter import Interpreter

        self.interpreter: Interpreter = Interpreter(self)
        self._loader = loader
        self._models: dict[str, ModuleModel | None] = {}
        self._owners: dict[int, ModuleModel] = {}
        self.files = ProjectFiles(paths)

    # ----- models ----------------------------------------------------------------------------

    def add(self, model: ModuleModel) -> None:
        """Register a model built elsewhere (the file being linted right now)."""
        key = normal_path(model.path)
        self._models[key] = model
        self.files.add(model.path)
        for function_id in model.names.functions:
            self._owners[function_id] = model

    def release(self) -> None:
        """Drop every model of the project at once, when its files are done. A model's objects refer
        to one another (a class to its file, an instance to its class and back), so without this
        each file's syntax tree and model wait for the cyclic collector, which has to walk them all
        to find them dead; emptied, they are freed by reference counting as soon as the last
        finding is out. Measured in session 22 on bench_static's folder: about 7% of the CPU, and
        96 -> 60 MB at the peak."""
        for model in self._models.values():
            if model is not None:
                model.release()
        self._models.clear()
        self._owners.clear()
        vars(self.interpreter).clear()  # its caches hold every file's nodes and instances

    def forget(self, model: ModuleModel) -> None:
        """Drop a model that was only part of its file (a segment, reslint.segments): the file's
        importers load the whole file when they next ask."""
        key = normal_path(model.path)
        if self._models.get(key) is model:
            del self._models[key]
        for function_id in model.names.functions:
            if self._owners.get(function_id) is model:
                del self._owners[function_id]

    def model(self, path: str) -> ModuleModel | None:
        key = normal_path(path)
        if key not in self._models:
            self._models[key] = None  # a file that (indirectly) imports itself while being built
            built = self._loader(path) if self._loader is not None else None
            if built is not None:
                self.add(built)
        return self._models[key]

    def owner(self, function: cst.FunctionDef) -> ModuleModel:
        return self._owners[id(function)]

    def function_names(self, function_id: int) -> FunctionNames | None:
        """The names of a function of any file of the project, by id of its FunctionDef."""
        owner = self._owners.get(function_id)
        return owner.names.functions.get(function_id) if owner is not None else None

    def subclasses_elsewhere(self, cls: ClassModel, home: ModuleModel) -> list[ClassModel]:
        """The classes of the other linted files that derive from `cls` (`class Classifier(Backbone)`
        beside backbone.py): each other file's model is built, once, as linting it would."""
        return [
            other
            for path in self.files.paths
            if (model := self.model(path)) is not None and model is not home
            for other in model.class_defs
            if cls in other.ancestors()
        ]

    def file_of(self, node: cst.CSTNode) -> ModuleModel | None:
        """The model of the linted file `node` is part of, if any."""
        return next((m for m in self._models.values() if m is not None and m.owns(node)), None)

    def in_other_file(self, model: ModuleModel, node: cst.CSTNode) -> bool:
        """Whether `node` belongs to another file of the project than `model`'s."""
        return not model.owns(node) and self.file_of(node) is not None

    # ----- imports ---------------------------------------------------------------------------

    def resolve_import(self, importer: ModuleModel, source: ImportSource) -> Any:
        """What an imported name stands for when it comes from another linted file, else None."""
        if source.name is None:
            target = self._find(importer.path, source.level, source.module)
            return ModuleRef(target) if target is not None else None
        module = importer.imports.absolute_module(source)
        target = self._find(importer.path, source.level, source.module)
        parameters = _parameter_names(target.definition(source.name)) if target else None
        if module and described_in_its_package(f"{module}.{source.name}", parameters):
            return None  # the framework table's facts (reslint.knowledge.frameworks)
        if target is not None and target is not importer:
            value = target.global_value(source.name)
            if value is not UNKNOWN:
                return value
        submodule = ".".join(part for part in (source.module, source.name) if part)
        target = self._find(importer.path, source.level, submodule)
        if target is not None:
            return ModuleRef(target)
        return self._from_stub(importer, source.name, importer.imports.absolute_module(source))

    def from_star_imports(self, importer: ModuleModel, name: str) -> Any:
        """A name the file never binds, from the stub of a module it star-imports (fastai's
        `from ...torch_basics import *` brings `ResBlock`); UNKNOWN when no stub provides it."""
        for module in importer.imports.star_modules:
            value = self._from_stub(importer, name, module.lstrip("."))
            if value is not None:
                return value
        return UNKNOWN

    def _from_stub(self, importer: ModuleModel, name: str, module: str | None) -> Any:
        """A framework base class no linted file provides, from its stub (reslint.knowledge.stubs)."""
        path = stub_path(module, name) if module else None
        if path is None or path == normal_path(importer.path):
            return None
        if path not in self._models:
            self._load_stub(path)
        stub = self._models[path]
        value = stub.global_value(name) if stub is not None else UNKNOWN
        return value if value is not UNKNOWN else None

    def _load_stub(self, path: str) -> None:
        from reslint.model.module import build_module_model

        self._models[path] = None  # a stub importing itself while being built
        text, tree = _stub_source(path)
        build_module_model(tree, text, path, self)

    def _find(self, importer: str, level: int, dotted: str | None) -> ModuleModel | None:
        path = self.files.find(importer, level, dotted)
        return self.model(path) if path is not None else None


@cache
def _stub_source(path: str) -> tuple[str, cst.Module]:
    """A stub's text and tree, read and parsed once a process: each group of files (each Project)
    builds its own model of it, over the same tree (libcst trees are immutable, and models key their
    facts by node within the model)."""
    with open(path, encoding="utf-8") as file:
        text = file.read()
    return text, parse_module(text)


def _parameter_names(definition: Any) -> frozenset[str] | None:
    """The parameters a function or class (its `__init__`) is defined with; None for another
    definition (an import, an assignment) or one that takes any keyword (`**kwargs` passed on)."""
    from reslint.model.classes import ClassModel

    init = definition.method("__init__") if isinstance(definition, ClassModel) else None
    function = init if init is not None else definition
    if not isinstance(function, cst.FunctionDef) or isinstance(
        function.params.star_kwarg, cst.Param
    ):
        return None
    params = function.params
    return frozenset(
        p.name.value for p in (*params.posonly_params, *params.params, *params.kwonly_params)
    )
