"""The build phase: resolve the target and build the user's model, on the meta device when it allows.

Everything that goes wrong becomes a `CouldNotRun` carrying its finding (RD001-RD004, RD007, RD009)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from reslint.dynamic import protocol, tracing
from reslint.dynamic.locate import SourceLocator, user_line
from reslint.dynamic.target import (
    CouldNotRun,
    Target,
    describe_signature,
    missing_arguments,
    parse_target,
    resolve,
)

Progress = Callable[..., None]


@dataclass
class Built:
    """The user's model as built, and what is known about it before any forward pass."""

    target: Target
    model: nn.Module
    on_meta: bool  # built on the meta device (no weights); False: built normally on the CPU
    params: int
    channels: int  # input channels, from the first conv (3 when there is none)
    locate: SourceLocator
    rebuild: Callable[[], nn.Module] | None  # the model with real CPU weights, when built on meta


def build(target_text: str, cwd: str, init: dict[str, Any], progress: Progress) -> Built:
    progress("importing the target")
    target = resolve(parse_target(target_text), cwd)
    progress("found the model", path=target.path, line=target.line)
    model, on_meta = build_user(target, init, progress)
    rebuild = (lambda: _rebuild(target, init)) if on_meta else None
    channels = input_channels(model) or 3
    params = tracing.count_parameters(model)
    return Built(target, model, on_meta, params, channels, SourceLocator(model, target), rebuild)


def build_user(target: Target, init: dict[str, Any], progress: Progress) -> tuple[nn.Module, bool]:
    """The user's model, on meta when its constructor allows (True), else on the CPU (False)."""
    missing = missing_arguments(target.factory, init)
    if missing:
        raise CouldNotRun(
            "RD003",
            f"{target.label} needs constructor arguments: {', '.join(missing)} "
            f"({describe_signature(target.factory)})",
            f"pass them as JSON with --init, e.g. --init '{_example_init(missing, init)}'",
            target.path,
            target.line,
        )
    progress("building the model (__init__)")
    try:
        model = _call_factory(target, init, on_meta=True)
        on_meta = True
    except (KeyboardInterrupt, MemoryError) as error:
        if isinstance(error, MemoryError):
            raise construction_failure(error, target, init) from None
        raise
    except Exception:  # e.g. data-dependent code in __init__: retry with real tensors
        model = _build_real(target, init)
        on_meta = False
    if not isinstance(model, nn.Module):
        raise CouldNotRun(
            "RD009",
            f"{target.label} returned {type(model).__name__}, not an nn.Module",
            "return the model from the factory",
            target.path,
            target.line,
        )
    return model.eval(), on_meta


def _call_factory(target: Target, init: dict[str, Any], on_meta: bool) -> Any:
    if on_meta:
        with torch.device("meta"), tracing.no_meta_initialisation():
            return target.factory(**init)
    return target.factory(**init)


def _build_real(target: Target, init: dict[str, Any]) -> Any:
    try:
        return _call_factory(target, init, on_meta=False)
    except KeyboardInterrupt:
        raise
    except BaseException as error:
        raise construction_failure(error, target, init) from None


def _rebuild(target: Target, init: dict[str, Any]) -> nn.Module:
    """The user's model with real CPU tensors (for forwards that need real data)."""
    return _build_real(target, init).eval()


def construction_failure(error: BaseException, target: Target, init: dict[str, Any]) -> CouldNotRun:
    if protocol.is_out_of_memory(error):
        return CouldNotRun(
            "RD007",
            f"building {target.label} exhausted the memory cap: {tracing.describe_error(error)}",
            "make the model smaller, or raise the cap with RESLINT_MEMORY_LIMIT",
            target.path,
            target.line,
        )
    missing = _missing_from_type_error(error)
    if missing:
        return CouldNotRun(
            "RD003",
            f"{target.label} needs arguments: {error}",
            f"pass them as JSON with --init, e.g. --init '{_example_init(missing, init)}'",
            target.path,
            target.line,
        )
    return CouldNotRun(
        "RD004",
        f"building {target.label} raised {tracing.describe_error(error)}",
        "the model must build with the given --init arguments",
        target.path,
        user_line(error, target.path) or target.line,
    )


def _missing_from_type_error(error: BaseException) -> list[str]:
    """The argument names of "f() missing 2 required positional arguments: 'depth' and 'width'"."""
    text = str(error)
    if not isinstance(error, TypeError) or "required" not in text or "argument" not in text:
        return []
    return re.findall(r"'(\w+)'", text.partition(":")[2]) or ["..."]


def _example_init(names: list[str], init: dict[str, Any]) -> str:
    """An --init value that fills the missing arguments with a plausible guess for each."""

    def guess(name: str) -> Any:
        if "class" in name:
            return 10
        if "channel" in name or "planes" in name or "width" in name:
            return 64
        if "depth" in name:
            return 50
        return 1

    return json.dumps({**init, **{name: guess(name) for name in names if name != "..."}})


def input_channels(model: nn.Module) -> int | None:
    """The stem conv's input channels: the fewest of any conv (the stem may be defined last)."""
    channels = [m.in_channels for m in model.modules() if isinstance(m, nn.Conv2d)]
    return min(channels) if channels else None
