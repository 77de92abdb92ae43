"""The equivalence phase: given the same weights, does the user's model compute the reference's function?

The reference gets random weights (views into one shared random pool, so memory stays small) and
BatchNorm statistics measured on the test input then perturbed, so no norm is the identity. Every weight
and statistic is then handed to the user's model through the alignment, layer by layer (never by name),
both run in eval mode in float64 on the same input, and every residual block's output is compared. For
the first block that differs, a second run records the layers inside it and the likely cause is named.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from reslint.dynamic import tracing
from reslint.dynamic.building import Built
from reslint.dynamic.calls import LayerCall, Shape
from reslint.dynamic.catalogue import Reference
from reslint.dynamic.causes import (
    RELATIVE_TOLERANCE,
    Block,
    Seen,
    likely_cause,
    relative_difference,
    same,
)
from reslint.dynamic.diagnose import Row, show_input
from reslint.dynamic.locate import forward_site
from reslint.dynamic.matching import Matched, enclosing_module
from reslint.dynamic.running import Traced
from reslint.dynamic.subject import REAL_MAX_PARAMS
from reslint.dynamic.zoo import build_reference

SEED = 20151210  # the ResNet paper's arXiv date: any fixed seed makes runs repeatable
# Equivalence needs values, not the design size: 1x3x64x64 is ~12x cheaper than 224 and still leaves
# layer4 a 2x2 map (BatchNorm statistics need more than one value per channel).
SMALL_IMAGENET_INPUT = 64
POOL_SLACK = 65_536  # room for distinct offsets of the largest matrices
Progress = Callable[..., None]


@dataclass
class Equivalence:
    status: (
        str  # "matches", "differs", "unmapped" (weights cannot be mapped one to one) or "failed"
    )
    reason: str = ""  # for unmapped/failed: why
    input: Shape | None = None
    block: str | None = None  # the reference's first differing block ("layer1.0", "stem", "head")
    model_block: str | None = None  # the user's module computing it
    cause: str = ""  # the likely cause, in the user's names
    difference: float | None = None  # largest relative difference of the first differing output
    where: tuple[str, int] | None = None  # the user's forward of that block
    recipe: str = ""  # what the reference's block computes

    def to_dict(self) -> dict[str, object]:
        return {
            "status": self.status,
            "reason": self.reason,
            "input": list(self.input) if self.input else None,
            "block": self.block,
            "model_block": self.model_block,
            "cause": self.cause,
            "difference": self.difference,
        }


class Unmapped(Exception):
    """The reference's weights cannot be handed to the user's model one to one; the message says why."""


@contextmanager
def float64() -> Iterator[None]:
    """Tensors the models make inside forward (zeros for a padded shortcut, say) in float64 too."""
    saved = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        with torch.no_grad():
            yield
    finally:
        torch.set_default_dtype(saved)


# --- the reference, with random weights --------------------------------------------------------------
def random_reference(ref_info: Reference, num_classes: int, channels: int, x: Tensor) -> nn.Module:
    """The reference in float64 with random weights and BatchNorm statistics measured on `x`, then
    perturbed (so no norm is an identity and activations keep a sane scale through the depth)."""
    with torch.device("meta"), tracing.no_meta_initialisation():
        model = build_reference(ref_info.name, num_classes=num_classes, in_channels=channels)
    generator = torch.Generator().manual_seed(SEED)
    weights = [(m, n, p) for m in model.modules() for n, p in m.named_parameters(recurse=False)]
    largest = max(p.numel() for _, _, p in weights)
    # Every matrix is a view into one pool at its own offset: distinct values, one allocation of about
    # the largest matrix (ResNet-50: 19 MB instead of 204 MB for every weight in float64).
    pool = torch.randn(largest + POOL_SLACK, generator=generator, dtype=torch.float64)
    for index, (module, name, param) in enumerate(weights):
        if param.dim() > 1:
            offset = (index * 7919) % (pool.numel() - param.numel() + 1)
            value = pool[offset : offset + param.numel()].view(param.shape)
        elif isinstance(module, nn.modules.batchnorm._NormBase) and name == "weight":
            value = 0.5 + torch.rand(param.shape, generator=generator, dtype=torch.float64)
        else:
            value = 0.5 * torch.randn(param.shape, generator=generator, dtype=torch.float64)
        module._parameters[name] = nn.Parameter(value, requires_grad=False)
    norms = [m for m in model.modules() if isinstance(m, nn.modules.batchnorm._NormBase)]
    for norm in norms:  # on the CPU now, and one training batch sets the statistics to its own
        norm.running_mean = torch.zeros(norm.num_features, dtype=torch.float64)
        norm.running_var = torch.ones(norm.num_features, dtype=torch.float64)
        norm.num_batches_tracked = torch.zeros((), dtype=torch.long)
        norm.momentum = None
    model.train()
    with float64():
        model(x)
    for norm in norms:
        spread = 0.5 + 1.5 * torch.rand(
            norm.running_var.shape, generator=generator, dtype=torch.float64
        )
        shift = 0.1 * torch.randn(norm.running_mean.shape, generator=generator, dtype=torch.float64)
        norm.running_mean += shift * norm.running_var.sqrt()
        norm.running_var *= spread
    return model.eval()


# --- the user's model, with the reference's weights ------------------------------------------------------
def partners(rows: Sequence[Row]) -> list[tuple[LayerCall, LayerCall]]:
    """(user call, reference call) of every aligned pair, moved layers included."""
    found = []
    for row in rows:
        user = row.user or row.partner
        if user is not None and row.reference is not None:
            found.append((user, row.reference))
    return found


def hand_over(
    rows: Sequence[Row], twin: nn.Module, reference: nn.Module, called: set[str]
) -> list[str]:
    """Give each user layer its partner's tensors (shared, not copied); returns the buffers of called
    modules left without a partner. Raises Unmapped when a parameter forward uses has no partner."""
    done: set[int] = set()
    for user_call, ref_call in partners(rows):
        user_module = twin.get_submodule(user_call.name)
        if id(user_module) in done:  # a module called twice takes its tensors once
            continue
        done.add(id(user_module))
        _hand_layer(user_module, reference.get_submodule(ref_call.name), user_call, ref_call)
    orphans = []
    for name, module in twin.named_modules():
        if name not in called:
            continue
        for key, param in module.named_parameters(recurse=False):
            if param.is_meta:
                where = f"{name}.{key}" if name else key
                raise Unmapped(f"{where} {list(param.shape)} has no counterpart in the reference")
        orphans += [
            f"{name}.{key}" if name else key
            for key, buffer in module.named_buffers(recurse=False)
            if id(module) not in done
        ]
    return orphans


def _hand_layer(user: nn.Module, ref: nn.Module, user_call: LayerCall, ref_call: LayerCall) -> None:
    user_params, ref_params = _tensors(user._parameters), _tensors(ref._parameters)
    if [p.shape for p in user_params.values()] != [p.shape for p in ref_params.values()]:
        raise Unmapped(
            f"{user_call.name} ({user_call.type}) holds {_shapes(user_params)} where the reference's "
            f"{ref_call.name} ({ref_call.type}) holds {_shapes(ref_params)}"
        )
    for key, value in zip(user_params, ref_params.values()):
        user._parameters[key] = value
    ref_buffers = _tensors(ref._buffers)
    for key, buffer in _tensors(user._buffers).items():
        same = ref_buffers.get(key)
        if same is None or same.shape != buffer.shape:
            same = next(
                (
                    b
                    for b in ref_buffers.values()
                    if b.shape == buffer.shape and b.dtype == buffer.dtype
                ),
                None,
            )
        if same is None:
            raise Unmapped(
                f"{user_call.name}.{key} {list(buffer.shape)} has no counterpart in the reference's {ref_call.name}"
            )
        user._buffers[key] = same


def _tensors(table: dict[str, Tensor | None]) -> dict[str, Tensor]:
    return {key: value for key, value in table.items() if value is not None}


def _shapes(tensors: dict[str, Tensor]) -> str:
    return ", ".join(f"{key} {list(value.shape)}" for key, value in tensors.items()) or "nothing"


def fill_orphans(twin: nn.Module, orphans: list[str], values: dict[str, Tensor] | None) -> None:
    """Buffers of layers the reference has no partner for keep the user's own values (from a model
    built with weights), in float64."""
    for name in orphans:
        owner, _, key = name.rpartition(".")
        module = twin.get_submodule(owner)
        if values is None or name not in values:
            raise Unmapped(
                f"{name} has no counterpart in the reference, and its value is only known from the "
                "model built with weights"
            )
        value = values[name]
        module._buffers[key] = value.to(torch.float64) if value.is_floating_point() else value


# --- running and comparing -------------------------------------------------------------------------
@contextmanager
def recording(model: nn.Module, names: Sequence[str]) -> Iterator[dict[str, Seen]]:
    """Record the first call of each named module (qualified names of `model`)."""
    seen: dict[str, Seen] = {}
    handles = []
    for name in names:
        module = model.get_submodule(name)

        def before(module: nn.Module, args: Any, name: str = name) -> None:
            if name not in seen:
                seen[name] = Seen(
                    name, type(module).__name__, _copy(tracing.pick_output(args)), None
                )

        def after(module: nn.Module, args: Any, output: Any, name: str = name) -> None:
            if seen[name].output is None:
                seen[name].output = _copy(tracing.pick_output(output))

        handles += [module.register_forward_pre_hook(before), module.register_forward_hook(after)]
    try:
        yield seen
    finally:
        for handle in handles:
            handle.remove()


def _copy(tensor: Tensor | None) -> Tensor | None:
    return tensor.detach().clone() if tensor is not None else None


def user_blocks(rows: Sequence[Row], ref_blocks: Sequence[str]) -> dict[str, str]:
    """The user's module computing each reference block: the innermost module around the partners of the
    block's layers, when none of its layers is the partner of another block's."""
    pairs = partners(rows)
    found = {}
    for block in ref_blocks:
        names = [u.name for u, r in pairs if r.name.startswith(block + ".")]
        module = enclosing_module(names)
        if (
            names
            and module
            and all(
                r.name.startswith(block + ".") for u, r in pairs if u.name.startswith(module + ".")
            )
        ):
            found[block] = module
    return found


def reference_blocks(ref_info: Reference) -> list[str]:
    return [
        f"{stage}.{index}"
        for stage, blocks in zip(ref_info.stages, ref_info.layers)
        for index in range(blocks)
    ]


def check(
    traced: Traced, matched: Matched, ref_info: Reference, built: Built, progress: Progress
) -> Equivalence:
    """Run both models with the same weights and compare; never raises for what the user's model does."""
    size = ref_info.input_size if ref_info.family == "cifar" else SMALL_IMAGENET_INPUT
    shape: Shape = (1, traced.design[1], size, size)
    if not traced.user.outcome(shape).ok:
        shape = traced.design
    progress(f"running both models with the same weights on {show_input(shape)}")
    x = torch.randn(shape, generator=torch.Generator().manual_seed(SEED), dtype=torch.float64)
    try:
        reference = random_reference(ref_info, traced.num_classes, traced.design[1], x)
        twin, values = _user_twin(traced, built)
        orphans = hand_over(matched.rows, twin, reference, matched.called)
        fill_orphans(twin, orphans, values() if orphans and values else None)
        return _compare(twin, reference, x, matched, ref_info, traced.user.output, shape)
    except Unmapped as error:
        return Equivalence("unmapped", str(error), shape)
    except (MemoryError, KeyboardInterrupt):
        raise
    except Exception as error:  # the user's forward in float64 may raise anything; reslint may not
        if tracing.user_frame(error) is None:
            raise
        return Equivalence("failed", tracing.describe_error(error), shape)


def _user_twin(
    traced: Traced, built: Built
) -> tuple[nn.Module, Callable[[], dict[str, Tensor]] | None]:
    """A weightless copy of the user's model, and where the real values of its buffers come from (the
    model itself when it was built with weights, else a fresh build; None when too large to build)."""
    user = traced.user
    if user.mode == "real":
        return tracing.meta_copy(user.model).eval(), lambda: dict(user.model.named_buffers())
    twin = tracing.meta_copy(user.meta_model or user.model).eval()
    if built.rebuild is None or built.params > REAL_MAX_PARAMS:
        return twin, None
    rebuild = built.rebuild
    return twin, lambda: dict(rebuild().named_buffers())


def _compare(
    twin: nn.Module,
    reference: nn.Module,
    x: Tensor,
    matched: Matched,
    ref_info: Reference,
    output: tracing.OutputPicker,
    shape: Shape,
) -> Equivalence:
    blocks = user_blocks(matched.rows, reference_blocks(ref_info))
    with (
        float64(),
        recording(reference, list(blocks)) as ref_seen,
        recording(twin, list(blocks.values())) as user_seen,
    ):
        expected = reference(x)
        got = tracing.pick_output(twin(x), output)
    difference = relative_difference(got, expected)
    if difference <= RELATIVE_TOLERANCE:
        return Equivalence("matches", input=shape, difference=difference)
    previous = "the stem"
    for block, module in blocks.items():
        theirs, ours = ref_seen.get(block), user_seen.get(module)
        if theirs is None or ours is None:
            continue
        if not same(ours.input, theirs.input):
            cause = f"its input already differs: the difference lies in {previous}, before {module}"
            return _differs(shape, block, module, cause, ours, theirs, twin, reference)
        if not same(ours.output, theirs.output):
            cause = _explain(twin, reference, x, matched, block, module)
            return _differs(shape, block, module, cause, ours, theirs, twin, reference)
        previous = f"{module} and the next block"
    return Equivalence(
        "differs",
        input=shape,
        block="head",
        cause="every block's output agrees with the reference's: the layers after the last block differ",
        difference=difference,
    )


def _differs(
    shape: Shape,
    block: str,
    module: str,
    cause: str,
    ours: Seen,
    theirs: Seen,
    twin: nn.Module,
    reference: nn.Module,
) -> Equivalence:
    form = getattr(reference.get_submodule(block), "form", None)
    return Equivalence(
        "differs",
        input=shape,
        block=block,
        model_block=module,
        cause=cause,
        difference=relative_difference(ours.output, theirs.output),
        where=forward_site(twin.get_submodule(module)),
        recipe=form.recipe if form is not None else "",
    )


def _explain(
    twin: nn.Module, reference: nn.Module, x: Tensor, matched: Matched, block: str, module: str
) -> str:
    """A second run recording every layer inside the two blocks, and the likely cause."""
    pairs = partners(matched.rows)
    ref_layers = list(dict.fromkeys(r.name for _, r in pairs if r.name.startswith(block + ".")))
    user_layers = list(
        dict.fromkeys(
            row.user.name
            for row in matched.rows
            if row.user and row.user.name.startswith(module + ".")
        )
    )
    with (
        float64(),
        recording(reference, [block, *ref_layers]) as ref_seen,
        recording(twin, [module, *user_layers]) as user_seen,
    ):
        reference(x)
        twin(x)
    ref_block, user_block = ref_seen.pop(block), user_seen.pop(module)
    theirs = Block(block, ref_block.input, ref_block.output, list(ref_seen.values()))
    ours = Block(module, user_block.input, user_block.output, list(user_seen.values()))
    form = getattr(reference.get_submodule(block), "form", None)
    if form is None:
        return "its output differs from the reference's"
    return likely_cause(ours, theirs, {u.name: r.name for u, r in pairs}, form)
