"""What a file's imported names stand for: torch names (`import torch.nn as nn` -> "torch.nn") and, for the
project's own modules, where they come from (`from .blocks import Bottleneck`)."""

from __future__ import annotations

import os
from dataclasses import dataclass

import libcst as cst

from reslint.knowledge.frameworks import torch_mirror
from reslint.knowledge.names import names_in

# Names that every PyTorch tutorial means the same way; used only when the file never binds them
# (blog snippets often omit their imports).
CONVENTIONAL_ALIASES = {"nn": "torch.nn", "F": "torch.nn.functional", "torch": "torch"}


@dataclass(frozen=True)
class ImportSource:
    """Where an imported local name comes from: `from ..a.b import c` is (2, "a.b", "c");
    `import a.b as m` is (0, "a.b", None), a module."""

    level: int
    module: str | None
    name: str | None


def dotted_name(node: cst.BaseExpression) -> str | None:
    """`a.b.c` -> "a.b.c"; anything that is not a plain dotted name -> None."""
    if type(node) is cst.Name:  # exact types: asked for very many nodes, most of them neither
        return node.value
    if type(node) is cst.Attribute:
        base = dotted_name(node.value)
        return f"{base}.{node.attr.value}" if base else None
    return None


class ImportMap:
    """Maps the names a file binds by import to the qualified names they stand for."""

    def __init__(
        self,
        statements: list[cst.Import | cst.ImportFrom],
        bound_names: set[str],
        path: str = "",
    ) -> None:
        # The folders above the file stand for its package: `from .common import conv3x3_block` in
        # pytorchcv/models/resnet.py is qualified as "...pytorchcv.models.common.conv3x3_block".
        self._package = [
            part for part in os.path.dirname(os.path.abspath(path)).split(os.sep) if part
        ]
        self.aliases: dict[str, str] = {}
        self.sources: dict[str, ImportSource] = {}
        self._bound = bound_names
        # `from fastai.torch_core import *`: the modules a name the file never binds may come from.
        self.star_modules: list[str] = []
        for statement in statements:
            self._add(statement)
        for name, target in CONVENTIONAL_ALIASES.items():
            if name not in self.aliases and name not in bound_names:
                self.aliases[name] = target

    def _add(self, node: cst.Import | cst.ImportFrom) -> None:
        if isinstance(node, cst.Import):
            for alias in node.names:
                full = dotted_name(alias.name)
                if not full:
                    continue
                if alias.asname is not None and isinstance(alias.asname.name, cst.Name):
                    self.aliases[alias.asname.name.value] = full
                    self.sources[alias.asname.name.value] = ImportSource(0, full, None)
                else:
                    head = full.split(".")[0]
                    self.aliases[head] = head
                    self.sources[head] = ImportSource(0, head, None)
            return
        base = dotted_name(node.module) if node.module is not None else None
        level = len(node.relative)
        if isinstance(node.names, cst.ImportStar):
            module = self.absolute_module(ImportSource(level, base, None))
            if module:
                self.star_modules.append(("." if level else "") + module)
            return
        for alias in node.names:
            name = dotted_name(alias.name)
            if not name:
                continue
            local = (
                alias.asname.name.value
                if alias.asname and isinstance(alias.asname.name, cst.Name)
                else name
            )
            source = self.sources[local] = ImportSource(level, base, name)
            qualified = ".".join(part for part in (self.absolute_module(source), name) if part)
            # A leading dot marks a relative import: the file's folder may not be its package (a copy).
            self.aliases[local] = "." + qualified if level else qualified

    def absolute_module(self, source: ImportSource) -> str | None:
        """The dotted module an import names, a relative one under the folders above the file
        (`from .resnet import ...` in mmdet/models/backbones/res2net.py: "mmdet.models.backbones.resnet",
        behind whatever folders hold mmdet)."""
        if not source.level:
            return source.module
        package = self._package[: len(self._package) - source.level + 1]
        return ".".join([*package, *([source.module] if source.module else [])])

    def qualified(self, node: cst.BaseExpression) -> str | None:
        """The torch-qualified name an expression stands for (`nn.Conv2d` -> "torch.nn.Conv2d"), or None."""
        name = dotted_name(node)
        if name is None:
            return None
        head, _, rest = name.partition(".")
        if head not in self.aliases:
            return None
        target = self.aliases[head]
        if rest:
            return _mirrored(target, rest) or f"{target}.{rest}"
        return target

    def star_sources(self, node: cst.BaseExpression) -> list[str]:
        """`Module` in a file that binds no `Module` itself but says `from fastai.torch_core import *`
        (and `from .imports import *`): the qualified name it has for each star import it may come
        from; [] for any other expression."""
        if (
            not isinstance(node, cst.Name)
            or node.value in self._bound
            or node.value in self.aliases
        ):
            return []
        return [f"{module}.{node.value}" for module in self.star_modules]


def _mirrored(module: str, name: str) -> str | None:
    """`init.kaiming_normal_` with `init` transformers' torch.nn.init wrapper: torch's own function.
    Only names torch has there: the wrapper's extra functions stay the framework's."""
    mirror = torch_mirror(module)
    if mirror is None or name not in (names_in(mirror) or ()):
        return None
    return f"{mirror}.{name}"
