"""Run a model on an input shape and record what each module did (worker side; imports torch).

Execution modes, from cheapest to most faithful:
- "meta": parameters and activations on the meta device; no memory, cost independent of input size.
- "lite": CPU, every parameter a zero-stride view of one zero (no weight memory, real kernels).
- "real": the model built normally on the CPU (the user's own initialisation), for models whose forward
  needs real data.
"""

from __future__ import annotations

import contextlib
import copy
import importlib
import os
import sys
import types
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from reslint.dynamic.calls import LayerCall, Shape, Trace
from reslint.dynamic.protocol import is_out_of_memory
from reslint.dynamic.stages import ModuleInfo

MODES = ("meta", "lite", "real")  # cheapest first


@dataclass(frozen=True)
class Outcome:
    """How one forward pass ended."""

    shape: Shape | None  # output shape, None when it raised or returned no tensor
    error: str | None = None
    error_type: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


# --- meta-device speed-up ----------------------------------------------------------------------
# On the meta device, batch_norm runs torch's Python decomposition (90% of a ResNet-50 meta forward).
# Its output always has its input's shape, so check what the kernel checks and skip the arithmetic.
_original_batch_norm = F.batch_norm


_shape_only_everywhere = False  # set while tracing with fake tensors (symbolic sizes)


def _shape_only_batch_norm(
    input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5
):  # noqa: ANN001 - F.batch_norm's own signature
    if input.device.type != "meta" and not _shape_only_everywhere:
        return _original_batch_norm(
            input, running_mean, running_var, weight, bias, training, momentum, eps
        )
    if input.dim() < 2:
        raise ValueError(
            f"batch_norm expects an input with at least 2 dimensions, got {input.dim()}"
        )
    channels = input.shape[1]
    for label, tensor in (
        ("running_mean", running_mean),
        ("running_var", running_var),
        ("weight", weight),
        ("bias", bias),
    ):
        if tensor is not None and tensor.numel() != channels:
            raise RuntimeError(f"{label} should contain {channels} elements not {tensor.numel()}")
    return torch.empty_like(input)


@contextlib.contextmanager
def fast_meta_batch_norm(everywhere: bool = False) -> Iterator[None]:
    global _shape_only_everywhere
    F.batch_norm, _shape_only_everywhere = _shape_only_batch_norm, everywhere
    try:
        yield
    finally:
        F.batch_norm, _shape_only_everywhere = _original_batch_norm, False


# --- building on meta -----------------------------------------------------------------------------
# Random initialisation on the meta device draws nothing, yet its first call (normal_ in torchvision's
# kaiming_normal_ loop) imports torch._dynamo, a second or more. Skip it: meta values do not exist.
_INIT_FUNCTIONS = (
    "uniform_",
    "normal_",
    "trunc_normal_",
    "constant_",
    "ones_",
    "zeros_",
    "eye_",
    "dirac_",
    "xavier_uniform_",
    "xavier_normal_",
    "kaiming_uniform_",
    "kaiming_normal_",
    "orthogonal_",
    "sparse_",
)
_TENSOR_FILLS = ("normal_", "uniform_", "fill_", "zero_", "copy_", "clamp_", "mul_", "add_", "div_")


def _skip_on_meta(function: Any) -> Any:
    def wrapper(tensor: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(tensor, torch.Tensor) and tensor.is_meta:
            return tensor
        return function(tensor, *args, **kwargs)

    return wrapper


@contextlib.contextmanager
def no_meta_initialisation() -> Iterator[None]:
    saved = [
        (nn.init, name, getattr(nn.init, name))
        for name in _INIT_FUNCTIONS
        if hasattr(nn.init, name)
    ]
    saved += [(torch.Tensor, name, getattr(torch.Tensor, name)) for name in _TENSOR_FILLS]
    for owner, name, function in saved:
        setattr(owner, name, _skip_on_meta(function))
    try:
        yield
    finally:
        for owner, name, function in saved:
            setattr(owner, name, function)


# --- model facts -----------------------------------------------------------------------------
def count_parameters(model: nn.Module) -> int:
    """Parameters as model.parameters() yields them: a tensor shared by several modules counts once."""
    return sum(p.numel() for p in model.parameters())


def module_table(model: nn.Module) -> dict[str, ModuleInfo]:
    """Every module once, under its first name; a module kept under two names (a Sequential of another
    module's children, say) lists its children by their first names too."""
    names = {id(module): name for name, module in model.named_modules()}
    table = {}
    for name, module in model.named_modules():
        children = tuple(names[id(child)] for child in module.children() if id(child) in names)
        table[name] = ModuleInfo(name, type(module).__name__, children)
    return table


def meta_copy(model: nn.Module, buffers: bool = False) -> nn.Module:
    """A copy of the model whose parameters (and buffers, with `buffers`) are on the meta device: no
    memory, and the original is never touched. Other buffers are copied as they are."""
    tensors = list(model.parameters()) + (list(model.buffers()) if buffers else [])
    # torch.empty, not empty_like: the meta empty_like's stride logic imports sympy (2 s)
    memo: dict[int, Any] = {
        id(t): torch.empty(t.shape, dtype=t.dtype, device="meta") for t in tensors
    }
    for param in model.parameters():
        memo[id(param)] = nn.Parameter(memo[id(param)], requires_grad=False)
    return copy.deepcopy(model, memo)


def state_dict_layout(model: nn.Module) -> dict[str, list[int]]:
    return {key: list(value.shape) for key, value in model.state_dict(keep_vars=True).items()}


def first_of_type(
    model: nn.Module, kinds: tuple[type, ...], last: bool = False
) -> nn.Module | None:
    found = [m for m in model.modules() if isinstance(m, kinds)]
    if not found:
        return None
    return found[-1] if last else found[0]


# --- execution modes ---------------------------------------------------------------------------
def to_lite(model: nn.Module) -> nn.Module:
    """Replace every parameter and large buffer by a zero-stride view of a single zero, in place.

    Tensors shared between modules stay shared (the originals are kept alive while replacing, so an
    id() cannot be reused by a new tensor and mistaken for an old one)."""
    replaced: dict[int, tuple[torch.Tensor, torch.Tensor]] = {}

    def lite(tensor: torch.Tensor, is_param: bool) -> torch.Tensor:
        if id(tensor) not in replaced:
            if is_param:
                new: torch.Tensor = nn.Parameter(
                    torch.zeros((), dtype=tensor.dtype).expand(tensor.shape), requires_grad=False
                )
            elif (
                tensor.dim() <= 1
            ):  # BatchNorm statistics and counters: tiny, and written in training
                new = torch.zeros(tensor.shape, dtype=tensor.dtype)
            else:
                new = torch.zeros((), dtype=tensor.dtype).expand(tensor.shape)
            replaced[id(tensor)] = (tensor, new)
        return replaced[id(tensor)][1]

    for module in model.modules():
        for key, param in list(module._parameters.items()):
            if param is not None:
                module._parameters[key] = lite(param, True)  # type: ignore[assignment]
        for key, buffer in list(module._buffers.items()):
            if buffer is not None:
                module._buffers[key] = lite(buffer, False)
    return model


def device_of(mode: str) -> str:
    return "meta" if mode == "meta" else "cpu"


@contextlib.contextmanager
def deferred_dynamo() -> Iterator[None]:
    """Let meta kernels run without importing torch._dynamo (about 1.2 s of CPU).

    torch's Python meta kernels are wrapped in torch._disable_dynamo, whose first call imports
    torch._dynamo only to mark the kernel "do not trace"; reslint never traces with dynamo. While this is
    active, that import finds a stand-in whose disable() leaves the kernel as it is; anything else asked
    of it (a model calling torch.compile, say) loads the real torch._dynamo."""
    if "torch._dynamo" in sys.modules:
        yield
        return
    stand_in = types.ModuleType("torch._dynamo")

    def disable(fn: Any = None, recursive: bool = True, **_: Any) -> Any:
        return fn if fn is not None else (lambda function: function)

    def real(name: str) -> Any:
        _drop(stand_in)
        return getattr(importlib.import_module("torch._dynamo"), name)

    stand_in.disable = disable  # type: ignore[attr-defined]
    stand_in.__getattr__ = real  # type: ignore[attr-defined]
    sys.modules["torch._dynamo"] = stand_in
    try:
        yield
    finally:
        _drop(stand_in)


def _drop(stand_in: types.ModuleType) -> None:
    if sys.modules.get("torch._dynamo") is stand_in:
        del sys.modules["torch._dynamo"]
    if torch.__dict__.get("_dynamo") is stand_in:
        del torch.__dict__["_dynamo"]


@contextlib.contextmanager
def mode_context(mode: str) -> Iterator[None]:
    """Tensors the model makes inside forward land on the model's device."""
    with torch.no_grad(), fast_meta_batch_norm():
        if mode == "meta":
            with torch.device("meta"), deferred_dynamo():
                yield
        else:
            yield


OutputPicker = (
    str | None
)  # a dotted path into a tuple/list/dict output ("1", "logits"); None: the first tensor


def output_tensors(value: Any, path: str = "") -> list[tuple[str, torch.Tensor]]:
    """Every tensor in a (nested) tuple, list or dict output, with its dotted path, in order."""
    if isinstance(value, torch.Tensor):
        return [(path, value)]
    if isinstance(value, (list, tuple)):
        items = [(str(index), item) for index, item in enumerate(value)]
    elif isinstance(value, dict):
        items = [(str(key), item) for key, item in value.items()]
    else:
        return []
    found = []
    for key, item in items:
        found += output_tensors(item, f"{path}.{key}" if path else key)
    return found


def pick_output(value: Any, picker: OutputPicker = None) -> torch.Tensor | None:
    """The tensor `picker` names in the output (the first one when None or when it names none)."""
    tensors = output_tensors(value)
    chosen = [tensor for path, tensor in tensors if path == picker] or [t for _, t in tensors]
    return chosen[0] if chosen else None


def _shape(value: Any, picker: OutputPicker = None) -> Shape | None:
    tensor = pick_output(value, picker)
    return tuple(int(size) for size in tensor.shape) if tensor is not None else None


def output_kind(value: Any) -> str:
    """ "tensor", "tuple", "list", "dict" or the class name of anything else a forward returns."""
    if isinstance(value, torch.Tensor):
        return "tensor"
    return type(value).__name__


def describe_error(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    first = next((line.strip() for line in text if line.strip()), "")
    return f"{type(error).__name__}: {first}" if first else type(error).__name__


_LIBRARY_DIRS = tuple(
    os.path.dirname(module.__file__) + os.sep
    for module in (torch, sys.modules["reslint"])
    if module.__file__
)


def user_frame(error: BaseException) -> tuple[str, int] | None:
    """(file, line) of the innermost traceback frame outside torch and reslint: where the model failed."""
    found = None
    tb = error.__traceback__
    while tb is not None:
        filename = os.path.abspath(tb.tb_frame.f_code.co_filename)
        if not filename.startswith(_LIBRARY_DIRS) and not filename.startswith("<"):
            found = (filename, tb.tb_lineno)
        tb = tb.tb_next
    return found


def make_input(shape: Shape, mode: str) -> torch.Tensor:
    return torch.zeros(shape, device=device_of(mode))


def run(model: nn.Module, shape: Shape, mode: str, output: OutputPicker = None) -> Outcome:
    """One forward pass without hooks; its outcome is the shape of the `output` tensor."""
    try:
        with mode_context(mode):
            out = model(make_input(shape, mode))
    except (MemoryError, KeyboardInterrupt):
        raise
    except Exception as error:  # the user's forward may raise anything; that is what we report
        if is_out_of_memory(error):
            raise MemoryError(describe_error(error)) from error
        return Outcome(None, describe_error(error), type(error).__name__)
    return Outcome(_shape(out, output))


class _Recorder:
    """Forward pre/post hooks on every module: leaf calls in order, the stack when something raises."""

    def __init__(self, model: nn.Module) -> None:
        self.names = {id(module): name for name, module in model.named_modules()}
        self.leaf = {id(m): not any(True for _ in m.children()) for m in model.modules()}
        self.trace_calls: list[LayerCall] = []
        self.blocks: list[LayerCall] = []
        self.stack: list[str] = []
        self.inputs: list[Shape | None] = []
        self.seen_params: set[int] = set()
        self.handles = []
        for module in model.modules():
            self.handles.append(module.register_forward_pre_hook(self._enter))
            self.handles.append(module.register_forward_hook(self._leave))

    def close(self) -> None:
        for handle in self.handles:
            handle.remove()

    def _enter(self, module: nn.Module, args: Any) -> None:
        self.stack.append(self.names.get(id(module), "?"))
        self.inputs.append(_shape(args))

    def _leave(self, module: nn.Module, _args: Any, output: Any) -> None:
        name = self.stack.pop() if self.stack else self.names.get(id(module), "?")
        input_shape = self.inputs.pop() if self.inputs else None
        self.record(module, name, _shape(output), input_shape, raised=False)

    def record_failure(self, model: nn.Module) -> None:
        """The innermost module still open when forward raised: a leaf gets a row of its own."""
        if not self.stack:
            return
        name = self.stack[-1]
        module = model.get_submodule(name) if name else model
        if self.leaf.get(id(module), False):
            self.record(module, name, None, self.inputs[-1] if self.inputs else None, raised=True)

    def record(
        self,
        module: nn.Module,
        name: str,
        shape: Shape | None,
        input_shape: Shape | None,
        raised: bool,
    ) -> None:
        leaf = self.leaf.get(id(module), True)
        own = list(module.parameters(recurse=not leaf))
        fresh = [p for p in own if id(p) not in self.seen_params] if leaf else own
        if leaf:
            self.seen_params.update(id(p) for p in fresh)
        bias = getattr(module, "bias", None)
        bias_params = (
            bias.numel()
            if leaf
            and isinstance(bias, torch.Tensor)
            and id(bias) in {id(p) for p in fresh}
            and isinstance(module, (nn.modules.conv._ConvNd, nn.Linear))
            else 0
        )
        call = LayerCall(
            name=name,
            type=type(module).__name__,
            shape=shape,
            params=sum(p.numel() for p in fresh),
            detail=_extra_repr(module),
            leaf=leaf,
            bias_params=bias_params,
            input_shape=input_shape,
            raised=raised,
        )
        (self.trace_calls if leaf else self.blocks).append(call)


def _extra_repr(module: nn.Module) -> str:
    try:
        return module.extra_repr()
    except Exception:  # a user's extra_repr may be broken; it is only decoration
        return ""


def trace(model: nn.Module, shape: Shape, mode: str, output: OutputPicker = None) -> Trace:
    """One forward pass recording every module call (leaf calls for the table, blocks for locating)."""
    recorder = _Recorder(model)
    result = Trace(input_shape=shape)
    try:
        with mode_context(mode):
            out = model(make_input(shape, mode))
        result.output_kind = output_kind(out)
        result.outputs = [(path, _shape(tensor)) for path, tensor in output_tensors(out)]  # type: ignore[misc]
        result.output_shape = _shape(out, output)
    except (MemoryError, KeyboardInterrupt):
        raise
    except Exception as error:
        if is_out_of_memory(error):
            raise MemoryError(describe_error(error)) from error
        result.error = describe_error(error)
        result.error_site = user_frame(error)
        result.failed_in = recorder.stack[-1] if recorder.stack else None
        if recorder.trace_calls:
            result.after = recorder.trace_calls[-1].name
        recorder.record_failure(model)
    finally:
        recorder.close()
    result.calls = recorder.trace_calls
    result.blocks = recorder.blocks
    return result
