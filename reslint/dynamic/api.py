"""`reslint.compare(model, "resnet50")` from a notebook or a script: the dynamic pass on a model already in
memory, in this process (no worker: the caller already trusts the code that built the model).

The model itself is never changed: the comparison runs on a weightless copy (and a deep copy when a forward
needs real weights). The result has the JSON fields (`--format json`) as attributes and renders itself
with rich, in a terminal and in Jupyter.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from torch import nn

from reslint.dynamic import tracing
from reslint.dynamic.building import Built, input_channels
from reslint.dynamic.compare import Request, reference_of, run_phases
from reslint.dynamic.locate import SourceLocator
from reslint.dynamic.target import CouldNotRun, Target, source_file, source_line


class Comparison:
    """One comparison's result: `verdict`, `parameters`, `findings`, `layers`, `equivalence`... as in
    the JSON output; `to_dict()` gives that object."""

    def __init__(self, result: dict[str, Any]) -> None:
        self._result = result

    def __getattr__(self, name: str) -> Any:
        try:
            return self._result[name]
        except KeyError:
            raise AttributeError(name) from None

    def __dir__(self) -> list[str]:
        return sorted({*super().__dir__(), *self._result})

    def to_dict(self) -> dict[str, Any]:
        return dict(self._result)

    def __repr__(self) -> str:
        return f"<Comparison {self._result.get('target')}: {self._result.get('verdict')} vs {self._result.get('arch')}>"

    def text(self, color: bool = False, table: str = "diff", width: int | None = 100) -> str:
        """The text report, as `reslint --compare-to` prints it."""
        from reslint.dynamic import render

        console = _recording_console(color, width)
        render.write_text(self._result, console, plain=not color, table=table, width=width)
        return console.export_text(styles=color)

    def __rich__(self) -> Any:
        from rich.text import Text

        return Text.from_ansi(self.text(color=True))

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        from reslint.dynamic import render

        console = _recording_console(True, 120)
        render.write_text(self._result, console, plain=False, table="diff", width=120)
        return {
            "text/plain": self.text(),
            "text/html": console.export_html(inline_styles=True),
        }


def _recording_console(color: bool, width: int | None) -> Any:
    import io

    from rich.console import Console

    return Console(
        file=io.StringIO(),
        record=True,
        width=width or 200,
        color_system="standard" if color else None,
        highlight=False,
        markup=False,
        emoji=False,
        soft_wrap=True,
    )


def compare(
    model: nn.Module,
    arch: str,
    *,
    output: str | None = None,
    analysis: str = "auto",
    device: str = "auto",
    max_examples: int | None = None,
    progress: Callable[..., None] | None = None,
) -> Comparison:
    """Compare `model` (an nn.Module instance) with the reference `arch` ("resnet50", "resnet20"...)."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"reslint.compare takes an nn.Module, not {type(model).__name__}")
    report = progress or (lambda *args, **kwargs: None)
    request = Request(
        arch,
        f"{type(model).__name__} (in memory)",
        analysis=analysis,
        device=device,
        max_examples=max_examples,
        output=output,
    )
    try:
        result = run_phases(request, reference_of(arch), _built(model), report)
    except CouldNotRun as stop:
        from reslint.dynamic.cli import error_result
        from reslint.dynamic.codes import finding

        where = (stop.path or "<model>", stop.line)
        result = error_result(
            arch,
            request.target,
            finding(stop.code, stop.message, stop.hint, where).to_dict(),
        )
    return Comparison(result)


def _built(model: nn.Module) -> Built:
    cls = type(model)
    path = source_file(cls) or "<model>"
    target = Target(lambda: model, path, source_line(cls), f"{cls.__name__} (in memory)")
    twin = tracing.meta_copy(model, buffers=True).eval()

    def with_weights() -> nn.Module:
        return copy.deepcopy(model).eval()

    return Built(
        target,
        twin,
        True,
        tracing.count_parameters(model),
        input_channels(model) or 3,
        SourceLocator(twin, target),
        with_weights,
    )
