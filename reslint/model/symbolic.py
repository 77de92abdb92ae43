"""Channel and stride expressions kept symbolic, in the user's own words.

`planes * self.expansion` stays an expression over the symbol `planes`; two expressions are compared by
evaluating them at a few deterministic sample points (a numeric identity test): equal everywhere is
EQUAL, different everywhere is DIFFERENT, anything else is UNKNOWN. Sample 0 binds every symbol that
has a default to it and every other symbol to one shared value, so the default configuration of a block
is among the points, and two differently named sizes (`in_chs`, `out_chs`) never count as different.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from enum import Enum

from reslint.knowledge.naming import names_stride

# Odd, mostly prime values keep accidental equalities (2 * 64 == 128) out of the samples.
_SAMPLE_VALUES = (37, 53, 71, 97, 131, 179, 211, 293)
_SAMPLES = 5
_SHARED_VALUE = 64
MAX_DEPTH = 48  # operations nested in one size expression
# The arithmetic operators sizes are written with, by the name of libcst's operator class.
OPERATOR_SYMBOLS = {
    "Add": "+",
    "Subtract": "-",
    "Multiply": "*",
    "Divide": "/",
    "FloorDivide": "//",
    "Modulo": "%",
    "Power": "**",
}


class Relation(Enum):
    EQUAL = "equal"
    DIFFERENT = "different"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Expr:
    """A number-valued expression. `op` is "const", "var" or an operator; `text` is the source as written."""

    op: str
    args: tuple = ()
    text: str = ""
    # For "var": the values it may take (a parameter's default first), if known.
    domain: tuple = field(default=(), compare=False)
    # How deeply operations nest in it (see MAX_DEPTH).
    depth: int = field(default=1, compare=False, repr=False)

    def named(self, text: str) -> Expr:
        """The same value, shown as the user wrote it at this use (a local name, `self.expansion`)."""
        return Expr(self.op, self.args, text, self.domain, self.depth)

    @property
    def constant(self) -> float | None:
        value = self.evaluate(lambda _name, _domain: None)
        return value

    @property
    def read_from_settings(self) -> bool:
        """A size read off an object whose values this file does not hold (`config.hidden_size`,
        `cfg["channels"]`): any number the settings choose, its default included."""
        name = str(self.args[0]) if self.op == "var" and self.args else ""
        return (
            not self.domain
            and not name.startswith("self.")
            and any(mark in name for mark in (".", "["))
        )

    @property
    def formula(self) -> str:
        """How it is computed (`planes * (base_width / 64)`), where str() gives the name it was used
        by (`width`)."""
        return _render(self)

    @property
    def is_float(self) -> bool:
        """Whether Python computes it as a float: a true division `/` that no `int()`, `round()` or
        `//` turns back into an integer (a constant's own type is not kept: `64.0` reads as 64)."""
        if self.op == "/":
            return True
        if self.op in ("+", "-", "*", "neg", "max", "min", "**"):
            return any(isinstance(arg, Expr) and arg.is_float for arg in self.args)
        return False

    def symbols(self) -> set[str]:
        if self.op == "var":
            return {self.args[0]}
        found: set[str] = set()
        for arg in self.args:
            if isinstance(arg, Expr):
                found |= arg.symbols()
        return found

    def free(self) -> set[str]:
        """Its symbols of no known value: no default, no usual values (a stride's 1 or 2)."""
        if self.op == "var":
            return set() if self.domain else {self.args[0]}
        return {name for arg in self.args if isinstance(arg, Expr) for name in arg.free()}

    def evaluate(self, lookup: Callable[[str, tuple], float | None]) -> float | None:
        if self.op == "const":
            return self.args[0]
        if self.op == "var":
            return lookup(self.args[0], self.domain)
        values = [arg.evaluate(lookup) for arg in self.args]
        if any(value is None for value in values):
            return None
        return _apply(self.op, values)

    def __str__(self) -> str:
        return self.text or _render(self)


def const(value: float, text: str = "") -> Expr:
    return Expr("const", (value,), text or _number_text(value))


def var(name: str, text: str = "", domain: tuple = ()) -> Expr:
    return Expr("var", (name,), text or name, domain)


def combine(op: str, args: list[Expr], text: str = "") -> Expr:
    depth = 1 + max((arg.depth for arg in args), default=0)
    if depth > MAX_DEPTH:
        # A size grown through many loop iterations: kept as an opaque symbol named as written,
        # so that evaluating and comparing it stays cheap (and never recurses without end).
        return var(text or f"<{op} expression>", text)
    expr = Expr(op, tuple(args), text, depth=depth)
    value = expr.constant
    if value is not None:
        return const(value, text or _number_text(value))
    return expr


def either(options: list[Expr], text: str = "") -> Expr:
    """One of several sizes, depending on a condition reslint cannot decide (`width = planes if
    groups == 1 else ...`). It has no value of its own; `relation` compares each option."""
    depth = 1 + max(option.depth for option in options)
    shown = {str(option) for option in options}
    return Expr(
        "either", tuple(options), text or (shown.pop() if len(shown) == 1 else ""), depth=depth
    )


def select(test: Comparison, then: Expr, otherwise: Expr) -> Expr:
    """The size a comparison of sizes picks: `then` where it holds, `otherwise` where it fails."""
    return combine(f"if{COMPARISON_SYMBOLS[test.op]}", [test.left, test.right, then, otherwise])


Lookup = Callable[[str, tuple], float | None]


class Condition:
    """A test over sizes reslint could not decide (`self.radix > 1`, `stride != 1 or c != 4 * p`);
    kept so that rules can ask where it holds. `node` is where the user wrote it."""

    node: object = None

    def holds(self, lookup: Lookup) -> bool | None:
        raise NotImplementedError

    def may_be(self, way: bool, lookup: Lookup) -> bool:
        """Whether the test may come out `way` at these sizes: False only where it surely comes out
        the other way (one reslint cannot evaluate may be either)."""
        return self.holds(lookup) is not (not way)

    def symbols(self) -> set[str]:
        raise NotImplementedError


def reads_a_stride(term: Expr | Condition) -> bool:
    """Whether a size or a test depends on a stride (`stride`, `2 * self.stride`, `stride != 1`)."""
    return any(names_stride(name) for name in term.symbols())


@dataclass(frozen=True, eq=False)
class Comparison(Condition):
    op: str  # a libcst comparison operator name: "GreaterThan", "Equal", ...
    left: Expr
    right: Expr
    node: object = field(default=None, repr=False)

    def holds(self, lookup: Lookup) -> bool | None:
        a, b = self.left.evaluate(lookup), self.right.evaluate(lookup)
        if a is None or b is None:
            return None
        symbol = COMPARISON_SYMBOLS.get(self.op)
        return COMPARE[symbol](a, b) if symbol is not None else None

    def symbols(self) -> set[str]:
        return self.left.symbols() | self.right.symbols()


@dataclass(frozen=True, eq=False)
class Connective(Condition):
    """`not a`, `a and b`, `a or b` over conditions (an operand reslint cannot read is None)."""

    op: str  # "not", "and", "or", or "choice" (one of the parts, by path: known when they agree)
    parts: tuple[Condition | None, ...]
    node: object = field(default=None, repr=False)

    def holds(self, lookup: Lookup) -> bool | None:
        values = [part.holds(lookup) if part is not None else None for part in self.parts]
        if self.op == "not":
            return None if values[0] is None else not values[0]
        if self.op == "and":
            return False if False in values else (None if None in values else True)
        if self.op == "choice":
            return values[0] if len(set(values)) == 1 else None
        return True if True in values else (None if None in values else False)

    def symbols(self) -> set[str]:
        return {name for part in self.parts if part is not None for name in part.symbols()}


def comparisons(condition: Condition | None) -> Iterator[Comparison]:
    """The comparisons a condition is made of (`stride != 1 or c != 4 * p`: both)."""
    if isinstance(condition, Comparison):
        yield condition
    elif isinstance(condition, Connective):
        for part in condition.parts:
            yield from comparisons(part)


def samples(count: int) -> list[Lookup]:
    """Sample points for searching a counterexample (more of them than `relation` uses), plus three
    probes: every stride 2 with all other sizes equal, every stride 1 with sizes all different, and
    that again with every parameter that has a default at it (`dilation=(1, 1)`: its two entries
    equal, as they are when nobody passes one)."""
    probes = [_probe(2, shared=True), _probe(1, False), _probe(1, False, defaults=True)]
    return [_sampler(index) for index in range(count)] + probes


def _probe(stride: int, shared: bool, defaults: bool = False) -> Lookup:
    def size(name: str, domain: tuple) -> float | None:
        if shared:
            return _SHARED_VALUE
        if defaults and len(domain) == 1:
            return domain[0]
        return _SAMPLE_VALUES[(sum(map(ord, name)) * 7) % len(_SAMPLE_VALUES)]

    return with_stride(size, stride)


def with_stride(lookup: Lookup, stride: int) -> Lookup:
    """`lookup` with every symbol that names a stride at `stride`."""
    return lambda name, domain: stride if names_stride(name) else lookup(name, domain)


def _holds_all(assume: Assumptions, lookup: Lookup) -> bool:
    """Every assumed condition surely goes its way at this sample."""
    return all(condition.holds(lookup) is way for condition, way in assume)


# The order comparisons between sizes, by symbol and by the name of libcst's operator class. Equal
# sizes are compared with a tolerance (a size may be a float after division).
COMPARE: dict[str, Callable[[float, float], bool]] = {
    "==": lambda a, b: math.isclose(a, b),
    "!=": lambda a, b: not math.isclose(a, b),
    "<": operator.lt,
    ">": operator.gt,
    "<=": operator.le,
    ">=": operator.ge,
}
COMPARISON_SYMBOLS = {
    "Equal": "==",
    "NotEqual": "!=",
    "LessThan": "<",
    "GreaterThan": ">",
    "LessThanEqual": "<=",
    "GreaterThanEqual": ">=",
}

# A path of forward: the undecided conditions it went through, each with the way it went.
Assumptions = tuple[tuple[Condition, bool], ...]


def relation(left: Expr, right: Expr, assume: Assumptions = ()) -> Relation:
    """Compare two expressions at the sample points (those where the assumed conditions hold; none
    left means nothing is known). A size that is one of several (`either`) relates to another only
    as all its options do."""
    if left.op == "either" or right.op == "either":
        found = {relation(a, b, assume) for a in choices(left) for b in choices(right)}
        return found.pop() if len(found) == 1 else Relation.UNKNOWN
    outcomes = set()
    for a, b in _sampled(left, right, assume):
        if a is None or b is None:
            return Relation.UNKNOWN
        outcomes.add(_same(a, b))
    if not outcomes:
        return Relation.UNKNOWN
    if outcomes == {True}:
        return Relation.EQUAL
    if outcomes == {False} and not _unrelated(left, right, assume) and not _aliased(left, right):
        return Relation.DIFFERENT
    return Relation.UNKNOWN


def _unrelated(left: Expr, right: Expr, assume: Assumptions) -> bool:
    """Two sizes apart by symbols only one of them has, one such an entry of data reslint cannot see
    and has no value for (`cfg["in_channels"]` against `cfg["out_channels"] * 4`, from a per-block plan), that no
    assumed condition ties together: the data may hold any values, equal ones included, whatever the
    samples show, so they are never "different". (Sample 0 already makes `in_chs` and `out_chs`
    equal; a factor would defeat it.)"""
    mine, theirs = left.symbols(), right.symbols()
    if not mine or not theirs:
        return False
    one_sided = mine ^ theirs  # `round(config.in_channels[0] * w)` against `round(32 * w)`
    if not any(_is_entry(name) for name in (left.free() | right.free()) & one_sided):
        return False
    return not any(
        condition.symbols() & mine and condition.symbols() & theirs for condition, _ in assume
    )


_ENTRY = re.compile(r"^(?P<list>.+)\[(?P<index>-?\d+)\]$")


def _aliased(left: Expr, right: Expr) -> bool:
    """One side reads an entry of a list from its end and the other from its start (`widths[-1]`
    and `widths[1]`): in a list of unknown length they may be the same entry. A list kept on the
    module under its parameter's name (`self.widths = widths`) is the same list."""

    def ends(expr: Expr) -> set[tuple[str, bool]]:
        found = set()
        for name in expr.symbols():
            match = _ENTRY.match(name)
            if match:
                found.add((match["list"].removeprefix("self."), match["index"].startswith("-")))
        return found

    mine, theirs = ends(left), ends(right)
    return any((name, not from_end) in theirs for name, from_end in mine)


def _is_entry(name: str) -> bool:
    """A symbol for an entry of an unknown list or dict is named by its subscript (`dims[2]`); one
    for a setting of a configuration object by its attribute (`config.hidden_dim`, not `self.x`)."""
    return "[" in name or ("." in name and not name.startswith("self."))


def choices(expr: Expr) -> tuple[Expr, ...]:
    """The formulas a size may be (`either(32, 16)`, either way of a `select`), or the size itself."""
    if expr.op == "either":
        return expr.args
    if _is_select(expr):
        return (*choices(expr.args[2]), *choices(expr.args[3]))
    return (expr,)


def _is_select(expr: Expr) -> bool:
    return expr.op.startswith("if") and expr.op[2:] in COMPARISON_SYMBOLS.values()


def equal_at_block_strides(left: Expr, right: Expr, assume: Assumptions = ()) -> bool:
    """True when the two are the same wherever the assumed conditions allow them, with every stride
    1 or 2 (the strides a residual block is built with) and the other sizes sampled: a projection
    built `elif in_chs != out_chs`, after an `if stride == 2:`, is only ever used unstrided. False
    when no such point satisfies the assumptions."""
    found = False
    for sample in range(_SAMPLES):
        for stride in (1, 2):
            lookup = with_stride(_sampler(sample), stride)
            if not _holds_all(assume, lookup):
                continue
            a, b = left.evaluate(lookup), right.evaluate(lookup)
            if a is None or b is None or not _same(a, b):
                return False
            found = True
    return found


def differ_when_strided(left: Expr, right: Expr, assume: Assumptions = ()) -> bool:
    """True when the two are fully known and differ where every stride is 2 (the stride a residual
    block downsamples by), if the assumed conditions allow a stride of 2 there: a block whose
    projection is built only `elif in_chs != out_chs`, after an `if stride == 2:` of its own,
    never meets a stride of 2 with it."""
    lookup = _probe(2, shared=True)
    if not _holds_all(assume, lookup):
        return False
    a, b = left.evaluate(lookup), right.evaluate(lookup)
    return a is not None and b is not None and not _same(a, b)


def _sampled(
    left: Expr, right: Expr, assume: Assumptions
) -> Iterator[tuple[float | None, float | None]]:
    """The values of both expressions at each sample point where the assumed conditions hold."""
    for sample in range(_SAMPLES):
        lookup = _sampler(sample)
        if not _holds_all(assume, lookup):
            continue
        yield left.evaluate(lookup), right.evaluate(lookup)


def _same(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def _sampler(sample: int) -> Callable[[str, tuple], float | None]:
    def lookup(name: str, domain: tuple) -> float | None:
        # A one-value domain is a parameter's default: it holds at sample 0 only.
        if domain and sample == 0:
            return domain[0]
        if sample == 0:
            # Every free symbol equal: `in_chs` and `out_chs` are not "different" just by their names.
            return _SHARED_VALUE
        if len(domain) > 1:  # each name walks the domain in its own order
            return domain[(_name_hash(name) >> sample) % len(domain)]
        index = (sum(map(ord, name)) * 7 + sample * 3) % len(_SAMPLE_VALUES)
        return _SAMPLE_VALUES[index]

    return lookup


def _name_hash(name: str) -> int:
    value = 0
    for char in name:
        value = (value * 131 + ord(char)) % 1_000_003
    return value * 2654435761 % (1 << 32)


def _apply(op: str, values: list[float]) -> float | None:
    try:
        if op == "+":
            return values[0] + values[1]
        if op == "-":
            return values[0] - values[1]
        if op == "*":
            return values[0] * values[1]
        if op == "/":
            return values[0] / values[1]
        if op == "//":
            return values[0] // values[1]
        if op == "%":
            return values[0] % values[1]
        if op == "**":
            return values[0] ** values[1] if abs(values[1]) < 64 else None
        if op == "neg":
            return -values[0]
        if op == "int":
            return float(int(values[0]))
        if op == "round":
            return float(round(values[0]))
        if op == "floor":
            return float(math.floor(values[0]))
        if op == "ceil":
            return float(math.ceil(values[0]))
        if op == "max":
            return max(values)
        if op == "min":
            return min(values)
        if op == "divisible":
            return _divisible(*values)
        if op.startswith("if"):  # select: values[2] where values[0] <op> values[1], else values[3]
            return values[2] if COMPARE[op[2:]](values[0], values[1]) else values[3]
    except (ZeroDivisionError, OverflowError, ValueError):
        return None
    return None


def _divisible(value: float, divisor: float, least: float, limit: float) -> float:
    """`make_divisible`: the nearest multiple of `divisor`, at least `least`, raised by one divisor
    when rounding lost more than `1 - limit` of the value."""
    rounded = max(least, int(value + divisor / 2) // divisor * divisor)
    return float(rounded + divisor if rounded < limit * value else rounded)


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


def _render(expr: Expr) -> str:
    if expr.op == "const":
        return _number_text(expr.args[0])
    if expr.op == "var":
        return expr.args[0]
    parts = [str(arg) for arg in expr.args]
    if expr.op == "divisible":
        return f"make_divisible({parts[0]}, {parts[1]})"
    if expr.op in {"int", "round", "max", "min"}:
        return f"{expr.op}({', '.join(parts)})"
    if expr.op in {"floor", "ceil"}:
        return f"math.{expr.op}({parts[0]})"
    if expr.op == "neg":
        return f"-{parts[0]}"
    if expr.op == "either":
        return " or ".join(parts)
    if expr.op.startswith("if"):
        return f"{parts[2]} if {parts[0]} {expr.op[2:]} {parts[1]} else {parts[3]}"
    return f" {expr.op} ".join(parts)


def at_defaults(expr: Expr) -> list[float] | None:
    """The values a size takes at sample 0 (every parameter at its default, free sizes all equal),
    one per alternative; None when one of them cannot be evaluated."""
    values = [option.evaluate(_sampler(0)) for option in choices(expr)]
    return None if any(value is None for value in values) else values  # type: ignore[return-value]
