"""Turn an aligned comparison into rows and findings, in the user's own layer names. Pure Python."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

from reslint.dynamic.align import Pair, kind_of
from reslint.dynamic.calls import LayerCall, Shape, Trace
from reslint.dynamic.codes import severity_of
from reslint.findings import Finding

Locator = Callable[[str], tuple[str, int]]  # module name -> (file, line) where the user builds it


def show_shape(shape: Sequence[object] | None, batch: int | None = None) -> str:
    if shape is None:
        return "-"
    dims = [str(d) for d in shape]
    if batch is not None and dims and shape[0] == batch:
        dims[0] = "N"
    return "[" + ", ".join(dims) + "]"


def show_input(shape: Sequence[int]) -> str:
    return "x".join(str(d) for d in shape)


def finding(code: str, message: str, hint: str, where: tuple[str, int]) -> Finding:
    path, line = where
    return Finding(path, line, 1, line, 1, code, severity_of(code), message, hint)


# --- rows ----------------------------------------------------------------------------------------
@dataclass
class Row:
    stage: str
    user: LayerCall | None
    reference: LayerCall | None
    differs: bool
    differences: list[str] = field(default_factory=list)  # "type", "shape", "params", "missing", "extra"

    def to_dict(self) -> dict[str, object]:
        return {
            "stage": self.stage,
            "model": _side(self.user),
            "reference": _side(self.reference),
            "differs": self.differs,
            "differences": self.differences,
        }


def _side(call: LayerCall | None) -> dict[str, object] | None:
    if call is None:
        return None
    return {"name": call.name, "type": call.type, "shape": list(call.shape) if call.shape else None,
            "params": call.params}


def _changes_shape(calls: Sequence[LayerCall], index: int, input_shape: Shape) -> bool:
    before = calls[index - 1].shape if index else input_shape
    return calls[index].shape != before


def build_rows(
    pairs: Sequence[Pair], user: Trace, ref: Trace, user_stage: Callable[[str], str], ref_stage: Callable[[str], str]
) -> list[Row]:
    rows = []
    for pair in pairs:
        u = user.calls[pair.user] if pair.user is not None else None
        r = ref.calls[pair.ref] if pair.ref is not None else None
        stage = ref_stage(r.name) if r is not None else user_stage(u.name)  # type: ignore[union-attr]
        if u is not None and r is not None:
            differences = [f for f in ("type", "shape", "params") if getattr(u, f) != getattr(r, f)]
            if differences == ["type"] and kind_of(u.type) == kind_of(r.type) and u.params == r.params:
                differences = []  # e.g. nn.ReLU vs nn.ReLU6-free variants of the same role, same shape/params
            rows.append(Row(stage, u, r, bool(differences), differences))
        elif u is not None:
            real = bool(u.params) or _changes_shape(user.calls, pair.user, user.input_shape)  # type: ignore[arg-type]
            rows.append(Row(stage, u, None, real, ["extra"] if real else []))
        else:
            real = bool(r.params) or _changes_shape(ref.calls, pair.ref, ref.input_shape)  # type: ignore[union-attr,arg-type]
            rows.append(Row(stage, None, r, real, ["missing"] if real else []))
    return rows


# --- findings --------------------------------------------------------------------------------------
def _block_of(name: str, blocks: Sequence[LayerCall]) -> LayerCall | None:
    best = None
    for block in blocks:
        if block.name and name.startswith(block.name + ".") and block.name.count(".") >= 1:
            if best is None or len(block.name) > len(best.name):
                best = block
    return best


def _outermost_block(name: str, blocks: Sequence[LayerCall], stage: str | None) -> LayerCall | None:
    """The residual block containing `name`: the module right below its stage (layer1.0 for layer1.0.conv3)."""
    if stage and name.startswith(stage + "."):
        block_name = stage + "." + name[len(stage) + 1 :].split(".")[0]
        for block in blocks:
            if block.name == block_name:
                return block
    return _block_of(name, blocks)


def _channel_cause(row: Row, user: Trace) -> str:
    u, r = row.user, row.reference
    if u is None or r is None or not u.shape or not r.shape or len(u.shape) < 2 or len(r.shape) < 2:
        return ""
    cu, cr = u.shape[1], r.shape[1]
    if cu != cr and cu and cr % cu == 0 and kind_of(u.type) == "conv":
        return f"{u.name} does not expand by {cr // cu}"
    if cu != cr:
        return f"{u.name} gives {cu} channels, reference {r.name} gives {cr}"
    if u.shape[2:] != r.shape[2:]:
        return f"{u.name} gives a {show_spatial(u.shape)} map, reference {r.name} gives {show_spatial(r.shape)}"
    return ""


def show_spatial(shape: Sequence[int]) -> str:
    return "x".join(str(d) for d in shape[2:])


def first_divergence(rows: Sequence[Row]) -> Row | None:
    return next((row for row in rows if row.differs), None)


def shape_finding(
    rows: Sequence[Row], user: Trace, ref: Trace, user_stages: dict[str, str], locate: Locator
) -> Finding | None:
    """RD101 at the first row where shapes part ways, phrased at the block level when possible."""
    row = next((r for r in rows if r.differs and ("shape" in r.differences or "missing" in r.differences
                                                   or "extra" in r.differences)), None)
    if row is None:
        return None
    batch = user.input_shape[0]
    if row.user is None:
        assert row.reference is not None
        r = row.reference
        previous = _previous_user_call(rows, row)
        after = f" after {previous.name}" if previous else ""
        return finding(
            "RD101",
            f"{r.name} ({r.type}) of the reference has no counterpart{after}: the reference's {r.name} outputs "
            f"{show_shape(r.shape, batch)}",
            f"call {r.type}({r.detail}) where the reference does" if r.type else "",
            locate(previous.name if previous else ""),
        )
    u = row.user
    cause = _channel_cause(row, user)
    user_stage_name = user_stages.get(row.stage)
    block = _outermost_block(u.name, user.blocks, user_stage_name)
    ref_block = _outermost_block(row.reference.name, ref.blocks, row.stage) if row.reference else None
    if block is not None and ref_block is not None and block.shape != ref_block.shape and block.shape is not None:
        message = (f"{block.name} outputs {show_shape(block.shape, batch)}, reference "
                   f"{show_shape(ref_block.shape, batch)}")
    elif row.reference is not None:
        message = (f"{u.name} outputs {show_shape(u.shape, batch)}, reference {row.reference.name} outputs "
                   f"{show_shape(row.reference.shape, batch)}")
    else:
        message = f"{u.name} ({u.type}) has no counterpart in the reference and outputs {show_shape(u.shape, batch)}"
    if cause:
        message += f": {cause}"
    hint = f"compare {u.name} ({u.type}({u.detail})) with the reference's {row.reference.type}({row.reference.detail})" \
        if row.reference is not None else f"remove {u.name} or check where forward calls it"
    return finding("RD101", message, hint, locate(u.name))


def _previous_user_call(rows: Sequence[Row], row: Row) -> LayerCall | None:
    previous = None
    for candidate in rows:
        if candidate is row:
            return previous
        if candidate.user is not None:
            previous = candidate.user
    return previous


@dataclass
class StageParams:
    stage: str  # reference stage name (stem, layer1.., head) or "not called"
    model_name: str | None  # the user's module for this stage (None for stem/head)
    model: int
    reference: int
    model_biases: int = 0
    reference_biases: int = 0
    model_convs: int = 0
    model_biased_convs: int = 0

    @property
    def delta(self) -> int:
        return self.model - self.reference

    def to_dict(self) -> dict[str, object]:
        return {"stage": self.stage, "model_name": self.model_name, "model": self.model,
                "reference": self.reference, "difference": self.delta}


def _signed(number: int) -> str:
    return f"{number:+,}"


def parameter_findings(stages: Sequence[StageParams], rows: Sequence[Row], locate: Locator,
                       stage_anchor: Callable[[str], str]) -> list[Finding]:
    """RD102: contiguous stages whose difference is exactly conv/linear biases become one finding."""
    found: list[Finding] = []
    differing = [s for s in stages if s.delta and s.stage != "not called"]
    biased = [s for s in differing if s.delta == s.model_biases - s.reference_biases and s.model_biases]
    if biased:
        names = [s.stage for s in biased]
        span = names[0] if len(names) == 1 else f"{names[0]}–{names[-1]}"
        total = sum(s.delta for s in biased)
        convs = sum(s.model_convs for s in biased)
        with_bias = sum(s.model_biased_convs for s in biased)
        who = "every block conv has bias=True" if convs and with_bias == convs else \
            f"{with_bias} of {convs} convs have bias=True"
        found.append(finding("RD102", f"param count differs by {_signed(total)} in {span}: {who}",
                             "build convs followed by BatchNorm with bias=False: the norm's shift makes the bias "
                             "redundant", locate(stage_anchor(biased[0].stage))))
    for stage in differing:
        if stage in biased:
            continue
        row = next((r for r in rows if r.stage == stage.stage and r.user and r.reference
                    and r.user.params != r.reference.params), None)
        if row is None:
            row = next((r for r in rows if r.stage == stage.stage and "params" in r.differences or
                        (r.stage == stage.stage and r.differs and (r.user or r.reference) and
                         ((r.user and r.user.params) or (r.reference and r.reference.params)))), None)
        where = ""
        anchor = stage_anchor(stage.stage)
        if row is not None and row.user is not None and row.reference is not None:
            where = (f": first at {row.user.name}, {row.user.params:,} vs {row.reference.params:,} in the "
                     f"reference's {row.reference.name}")
            anchor = row.user.name
        elif row is not None and row.user is not None:
            where = f": {row.user.name} ({row.user.params:,}) has no counterpart in the reference"
            anchor = row.user.name
        elif row is not None and row.reference is not None:
            where = f": the reference's {row.reference.name} ({row.reference.params:,}) has no counterpart"
        found.append(finding(
            "RD102",
            f"param count differs by {_signed(stage.delta)} in {stage.stage} "
            f"(model {stage.model:,}, reference {stage.reference:,}){where}",
            "compare the channel arithmetic of this stage's blocks with the reference",
            locate(anchor),
        ))
    return found


def uncalled_findings(uncalled: Sequence[tuple[str, str, int]], ref_called: set[str], locate: Locator) -> list[Finding]:
    """RD106 for (name, type, params) of modules built but never called in forward."""
    found = []
    for name, type_name, params in uncalled:
        extra = f" ({params:,} parameters)" if params else ""
        also = "; the reference calls it" if name in ref_called else ""
        found.append(finding("RD106", f"{name} ({type_name}){extra} is built but never called in forward{also}",
                             f"call self.{name.split('.')[-1]} in forward, or remove it", locate(name)))
    return found
