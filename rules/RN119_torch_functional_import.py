"""RN119 torch-functional-import."""

from __future__ import annotations

from collections.abc import Iterator

import libcst as cst

from reslint.model import ModuleModel
from reslint.model.imports import dotted_name
from reslint.rule import Rule, Violation

# dir(torch.functional) in torch 2.13.0, dunders left out; tests/test_name_rules.py compares it with the
# installed torch. torch.functional holds tensor utilities (einsum, stft, meshgrid...), not the layers'
# functional forms, which live in torch.nn.functional.
# fmt: off
TORCH_FUNCTIONAL_NAMES = frozenset({
    "Any", "F", "Sequence", "TYPE_CHECKING", "Tensor", "_ListOrSeq", "_VF", "_add_docstr",
    "_check_list_size", "_consecutive_return_counts", "_consecutive_return_inverse",
    "_consecutive_return_inverse_and_counts", "_consecutive_return_inverse_false",
    "_consecutive_return_inverse_true", "_consecutive_return_output", "_lu_impl", "_lu_no_infos",
    "_lu_with_infos", "_meshgrid", "_return_counts", "_return_inverse", "_return_inverse_and_counts",
    "_return_inverse_false", "_return_inverse_true", "_return_output", "_unique_consecutive_impl",
    "_unique_consecutive_torch_function", "_unique_impl", "_unique_impl_out", "_unique_torch_function",
    "_unravel_index", "atleast_1d", "atleast_2d", "atleast_3d", "block_diag", "boolean_dispatch",
    "broadcast_shapes", "broadcast_tensors", "cartesian_prod", "cdist", "chain_matmul", "einsum",
    "handle_torch_function", "has_torch_function", "has_torch_function_unary",
    "has_torch_function_variadic", "istft", "itertools", "lu", "meshgrid", "norm", "operator",
    "overload", "pca_lowrank", "split", "stft", "svd_lowrank", "tensordot", "torch", "unique",
    "unique_consecutive", "unravel_index",
})
# fmt: on


class TorchFunctionalImport(Rule):
    """## What it does
    Checks for `torch.functional` imported under a name (`import torch.functional as F`) that is
    then used for a function only `torch.nn.functional` has (`F.relu`, `F.avg_pool2d`).

    ## Why is this bad?
    `torch.functional` exists (it holds `einsum`, `stft`, `meshgrid`...), so the import succeeds and
    the file looks fine; the first `F.relu(x)` then raises
    `AttributeError: module 'torch.functional' has no attribute 'relu'` in the middle of forward.

    ## Example
    ```python
    import torch.functional as F

    def forward(self, x):
        return F.relu(self.bn1(self.conv1(x)))
    ```

    Use instead:
    ```python
    import torch.nn.functional as F

    def forward(self, x):
        return F.relu(self.bn1(self.conv1(x)))
    ```
    """

    code = "RN119"
    name = "torch-functional-import"

    def check(self, module: ModuleModel) -> Iterator[Violation]:
        aliases = {
            name for name, target in module.imports.aliases.items() if target == "torch.functional"
        }
        if not aliases:
            return
        missing = _missing_uses(module, aliases)
        for statement, local in _imports(module, aliases):
            if local not in missing:
                continue
            use = missing[local]
            yield Violation(
                statement,
                f"`{local}` is `torch.functional`, not `torch.nn.functional`: "
                f"`{module.code(use)}` (line {module.line_of(use)}) raises AttributeError",
                f"write `import torch.nn.functional as {local}`",
            )


def _missing_uses(module: ModuleModel, aliases: set[str]) -> dict[str, cst.Attribute]:
    """The first `F.name` per alias whose name torch.functional does not have."""
    found: dict[str, cst.Attribute] = {}
    for attribute, _ in module.names.attributes:
        base = attribute.value
        if (
            isinstance(base, cst.Name)
            and base.value in aliases
            and base.value not in found
            and attribute.attr.value not in TORCH_FUNCTIONAL_NAMES
        ):
            found[base.value] = attribute
    return found


def _imports(
    module: ModuleModel, aliases: set[str]
) -> Iterator[tuple[cst.Import | cst.ImportFrom, str]]:
    """The imports that bind `torch.functional` to a name, with that name."""
    for statement in module.names.imports:
        if isinstance(statement.names, cst.ImportStar):
            continue
        base = ""
        if isinstance(statement, cst.ImportFrom) and statement.module is not None:
            base = (dotted_name(statement.module) or "") + "."
        for alias in statement.names:
            full = base + (dotted_name(alias.name) or "")
            if full == "torch.functional" and alias.evaluated_alias in aliases:
                yield statement, alias.evaluated_alias


TorchFunctionalImport.INVALID = [
    """
import torch.functional as F
import torch.nn as nn
class Block(nn.Module):
    def forward(self, x):
        return F.relu(self.conv(x))
""",
    """
from torch import functional as F
y = F.avg_pool2d(x, 4)
""",
]
TorchFunctionalImport.VALID = [
    """
import torch.nn.functional as F
from torch import functional as TF
y = F.relu(TF.einsum("ij->ji", x))
""",
    """
import torch.functional as F
y = F.einsum("ij->ji", x)
""",
]
