"""Turn an aligned comparison into rows and findings, in the user's own layer names. Pure Python."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from reslint.dynamic.align import Pair, kind_of
from reslint.dynamic.calls import LayerCall, Shape, Trace
from reslint.dynamic.codes import finding
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


# --- rows ----------------------------------------------------------------------------------------
@dataclass
class Row:
    stage: str
    user: LayerCall | None
    reference: LayerCall | None
    differs: bool
    differences: list[str] = field(
        default_factory=list
    )  # "type", "shape", "params", "missing", "extra"
    partner: LayerCall | None = None  # for a reference layer the user calls elsewhere ("moved")

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
    return {
        "name": call.name,
        "type": call.type,
        "shape": list(call.shape) if call.shape else None,
        "params": call.params,
        "raised": call.raised,
    }


def _changes_shape(calls: Sequence[LayerCall], index: int, input_shape: Shape) -> bool:
    before = calls[index - 1].shape if index else input_shape
    return calls[index].shape != before


def build_rows(
    pairs: Sequence[Pair],
    user: Trace,
    ref: Trace,
    user_stage: Callable[[int], str],
    ref_stage: Callable[[str], str],
) -> list[Row]:
    """One row per aligned pair. A row differs when output shape or parameters differ, or when one side
    has a layer the other lacks that holds parameters or changes the shape; a different class doing the
    same (nn.ReLU vs F.relu, a LambdaLayer vs PadShortcut) is not a difference."""
    rows = []
    for pair in pairs:
        u = user.calls[pair.user] if pair.user is not None else None
        r = ref.calls[pair.ref] if pair.ref is not None else None
        stage = user_stage(pair.user) if pair.user is not None else ref_stage(r.name)  # type: ignore[union-attr]
        if u is not None and r is not None:
            differences = [f for f in ("shape", "params") if getattr(u, f) != getattr(r, f)]
            rows.append(Row(stage, u, r, bool(differences), differences))
        elif u is not None:
            real = bool(u.params) or _changes_shape(user.calls, pair.user, user.input_shape)  # type: ignore[arg-type]
            rows.append(Row(stage, u, None, real, ["extra"] if real else []))
        else:
            real = bool(r.params) or _changes_shape(ref.calls, pair.ref, ref.input_shape)  # type: ignore[union-attr,arg-type]
            rows.append(Row(stage, None, r, real, ["missing"] if real else []))
    _pair_moved_layers(rows)
    _forgive_functional_equivalents(rows)
    return rows


def _forgive_functional_equivalents(rows: Sequence[Row]) -> None:
    """A parameter-free layer only one side calls as a module (the other uses F.avg_pool2d, F.relu...)
    is no difference when the next row both sides share has the same shape again."""
    for index, row in enumerate(rows):
        call = row.user or row.reference
        if not row.differs or (row.user and row.reference) or call is None or call.params:
            continue
        following = next((r for r in rows[index + 1 :] if r.user and r.reference), None)
        if (
            following is not None
            and following.user.shape == following.reference.shape
            and following.user.input_shape == following.reference.input_shape
        ):  # type: ignore[union-attr]
            row.differs, row.differences = False, ["functional"]


def _pair_moved_layers(rows: Sequence[Row]) -> None:
    """A layer both sides call, but in another order (shortcut before or after the main branch), is not a
    difference: an unmatched user row and an unmatched reference row of one stage with the same type,
    shape and parameters cancel out."""
    extra = [row for row in rows if row.reference is None and row.differs]
    for row in rows:
        if row.user is not None or not row.differs:
            continue
        r = row.reference
        assert r is not None
        twin = next(
            (
                e
                for e in extra
                if e.stage == row.stage
                and e.user is not None
                and e.user.type == r.type
                and e.user.shape == r.shape
                and e.user.params == r.params
            ),
            None,
        )
        if twin is not None:
            extra.remove(twin)
            row.partner = twin.user
            for moved in (row, twin):
                moved.differs, moved.differences = False, ["moved"]


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
        return next((block for block in blocks if block.name == block_name), None)
    return _block_of(name, blocks)


def _relative(name: str, block: LayerCall | None) -> str:
    return (
        name[len(block.name) + 1 :]
        if block is not None and name.startswith(block.name + ".")
        else name
    )


def _channel_cause(row: Row, block: LayerCall | None) -> str:
    u, r = row.user, row.reference
    if u is None or r is None or not u.shape or not r.shape or len(u.shape) < 2 or len(r.shape) < 2:
        return ""
    cu, cr = u.shape[1], r.shape[1]
    name = _relative(u.name, block)
    if cu != cr and cu and cr % cu == 0 and kind_of(u.type) == "conv":
        return f"{name} does not expand by {cr // cu}"
    if cu != cr:
        return f"{name} gives {cu} channels, the reference's {_relative(r.name, block)} gives {cr}"
    if u.shape[2:] != r.shape[2:]:
        u_stride, r_stride = _option(u.detail, "stride"), _option(r.detail, "stride")
        if u_stride and r_stride and u_stride != r_stride:
            if block is None:
                return f"stride={u_stride} where the reference has stride={r_stride}"
            return f"{name} has stride={u_stride} where the reference's has stride={r_stride}"
        if block is None:
            return f"a {show_spatial(u.shape)} map where the reference has {show_spatial(r.shape)}"
        return (
            f"{name} gives a {show_spatial(u.shape)} map, the reference's {_relative(r.name, block)} gives "
            f"{show_spatial(r.shape)}"
        )
    return ""


def _option(detail: str, key: str) -> str | None:
    import re

    found = re.search(rf"\b{key}=(\([^)]*\)|[^,\s]+)", detail)
    return found.group(1) if found else None


def _raised_message(row: Row, batch: int) -> str:
    u, r = row.user, row.reference
    assert u is not None
    message = f"{u.name} {u.type}({u.detail}) receives {show_shape(u.input_shape, batch)} and fails"
    if r is not None:
        message += f"; the reference's {r.name} {r.type}({r.detail}) receives {show_shape(r.input_shape, batch)}"
    return message


def show_spatial(shape: Sequence[int]) -> str:
    return "x".join(str(d) for d in shape[2:])


def first_shape_row(rows: Sequence[Row]) -> Row | None:
    """The first row where shapes part ways (a layer with another output shape, or only on one side)."""
    return next(
        (
            r
            for r in rows
            if r.differs
            and ("shape" in r.differences or "missing" in r.differences or "extra" in r.differences)
        ),
        None,
    )


def shape_finding(
    rows: Sequence[Row],
    user: Trace,
    ref: Trace,
    user_stages: dict[str, str],
    locate: Locator,
    variant_hint: Callable[[Row], str | None] = lambda row: None,
) -> Finding | None:
    """RD101 at the first row where shapes part ways, phrased at the block level when possible; the hint
    names a known variant (deep stem, extra block, option-B shortcut) when `variant_hint` finds one."""
    row = first_shape_row(rows)
    if row is None:
        return None
    finding = _shape_finding(row, rows, user, ref, user_stages, locate)
    hint = variant_hint(row)
    return replace(finding, hint=hint) if hint else finding


def _shape_finding(
    row: Row,
    rows: Sequence[Row],
    user: Trace,
    ref: Trace,
    user_stages: dict[str, str],
    locate: Locator,
) -> Finding:
    batch = user.input_shape[0]
    if row.user is None:
        assert row.reference is not None
        r = row.reference
        previous = _previous_user_call(rows, row)
        after = f" after {previous.name}" if previous else ""
        following = next((x for x in rows[rows.index(row) + 1 :] if x.user and x.reference), None)
        effect = ""
        if following is not None and following.user.shape != following.reference.shape:  # type: ignore[union-attr]
            effect = (
                f": from there on the model's maps are {show_shape(following.user.shape, batch)} where the "  # type: ignore[union-attr]
                f"reference's are {show_shape(following.reference.shape, batch)}"
            )  # type: ignore[union-attr]
        where = locate(r.name)
        if where == getattr(locate, "default", None) and previous is not None:
            where = locate(previous.name)
        return finding(
            "RD101",
            f"the reference calls {r.name} ({r.type}){after}, the model does not{effect}",
            f"call {r.type}({r.detail}) there, as the reference does",
            where,
        )
    u = row.user
    if u.raised:
        hint = (
            f"build {u.name} for the input it receives, as the reference does"
            if row.reference
            else ""
        )
        return finding("RD101", _raised_message(row, batch), hint, locate(u.name))
    user_stage_name = user_stages.get(row.stage)
    block = _outermost_block(u.name, user.blocks, user_stage_name)
    ref_block = (
        _outermost_block(row.reference.name, ref.blocks, row.stage) if row.reference else None
    )
    cause = _channel_cause(row, block)
    if (
        block is not None
        and ref_block is not None
        and block.shape != ref_block.shape
        and block.shape is not None
    ):
        message = (
            f"{block.name} outputs {show_shape(block.shape, batch)}, reference "
            f"{show_shape(ref_block.shape, batch)}"
        )
    elif row.reference is not None:
        message = (
            f"{u.name} outputs {show_shape(u.shape, batch)}, reference {row.reference.name} outputs "
            f"{show_shape(row.reference.shape, batch)}"
        )
    else:
        message = f"{u.name} ({u.type}) has no counterpart in the reference and outputs {show_shape(u.shape, batch)}"
    if cause:
        message += f": {cause}"
    if row.reference is not None:
        ref = row.reference
        hint = (
            f"compare {u.name} ({u.type}({u.detail})) with the reference's {ref.type}({ref.detail})"
        )
    else:
        hint = f"remove {u.name} or check where forward calls it"
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

    @property
    def label(self) -> str:
        """The user's own name for the stage (stages.1), with the reference's when they differ."""
        if self.model_name and self.model_name != self.stage:
            return f"{self.model_name} ({self.stage})"
        return self.stage

    def to_dict(self) -> dict[str, object]:
        return {
            "stage": self.stage,
            "model_name": self.model_name,
            "model": self.model,
            "reference": self.reference,
            "difference": self.delta,
        }


def _signed(number: int) -> str:
    return f"{number:+,}"


def parameter_findings(
    stages: Sequence[StageParams],
    rows: Sequence[Row],
    locate: Locator,
    stage_anchor: Callable[[str], str],
) -> list[Finding]:
    """RD102: stages whose difference is exactly conv/linear biases make one finding; the other differing
    stages make one more, naming each stage's difference and the first layer whose parameters differ."""
    found: list[Finding] = []
    differing = [s for s in stages if s.delta and s.stage != "not called"]
    biased = [
        s for s in differing if s.delta == s.model_biases - s.reference_biases and s.model_biases
    ]
    if biased:
        names = [s.model_name or s.stage for s in biased]
        span = names[0] if len(names) == 1 else f"{names[0]}–{names[-1]}"
        total = sum(s.delta for s in biased)
        convs = sum(s.model_convs for s in biased)
        with_bias = sum(s.model_biased_convs for s in biased)
        who = (
            "every block conv has bias=True"
            if convs and with_bias == convs
            else f"{with_bias} of {convs} block convs have bias=True"
        )
        found.append(
            finding(
                "RD102",
                f"param count differs by {_signed(total)} in {span}: {who}",
                "build convs followed by BatchNorm with bias=False: the norm's shift makes the bias "
                "redundant",
                locate(stage_anchor(biased[0].stage)),
            )
        )
    rest = [s for s in differing if s not in biased]
    if not rest:
        return found
    total = sum(s.delta for s in rest)
    per_stage = ", ".join(f"{s.label} {_signed(s.delta)}" for s in rest)
    stage_names = {s.stage for s in rest}
    row = next(
        (
            r
            for r in rows
            if r.stage in stage_names
            and r.user
            and r.reference
            and r.user.params != r.reference.params
        ),
        None,
    )
    where, anchor = "", stage_anchor(rest[0].stage)
    if row is not None and row.user is not None and row.reference is not None:
        where = (
            f"; first at {row.user.name}: {row.user.params:,} vs {row.reference.params:,} in the "
            f"reference's {row.reference.name}"
        )
        anchor = row.user.name
    found.append(
        finding(
            "RD102",
            f"param count differs by {_signed(total)} ({per_stage}){where}",
            "compare the channel arithmetic of these stages' blocks with the reference",
            locate(anchor),
        )
    )
    return found


def uncalled_findings(
    uncalled: Sequence[Any], ref_called: set[str], locate: Locator
) -> list[Finding]:
    """RD106 for modules (with name, type, params) built but never called in forward."""
    found = []
    for module in uncalled:
        name, type_name, params = module.name, module.type, module.params
        extra = f" ({params:,} parameters)" if params else ""
        also = "; the reference calls it" if name in ref_called else ""
        found.append(
            finding(
                "RD106",
                f"{name} ({type_name}){extra} is built but never called in forward{also}",
                f"call self.{name.split('.')[-1]} in forward, or remove it",
                locate(name),
            )
        )
    return found
