"""Control-flow facts (reslint.model.flow): falling off the end, possibly unbound reads, unreachable code."""

from __future__ import annotations

import textwrap

import libcst as cst
import pytest

from reslint.model import ModuleModel, build_module_model
from reslint.model.flow import FunctionFlow


def model_and_function(source: str, name: str = "f") -> tuple[ModuleModel, cst.FunctionDef]:
    source = textwrap.dedent(source)
    module = build_module_model(cst.parse_module(source), source, "example.py")
    function = next(
        names.node for names in module.names.functions.values() if names.node.name.value == name
    )
    return module, function


def flow_of(source: str) -> FunctionFlow:
    module, function = model_and_function(source)
    return module.flow(function)


def unbound(source: str) -> list[str]:
    """`name@line` of each possibly unbound read."""
    module, function = model_and_function(source)
    return [
        f"{read.value}@{module.line_of(read)}" for read in module.flow(function).maybe_unbound_reads
    ]


# ----- can a function finish without a value -------------------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        "return x",
        "if x:\n    return 1\nelse:\n    return 2",
        "if x:\n    return 1\nelif y:\n    return 2\nelse:\n    raise ValueError",
        "while True:\n    x = x + 1\n    if x:\n        return x",
        "try:\n    return g()\nexcept E:\n    return None\n",
        "try:\n    g()\nfinally:\n    return 1",
        "with open(x) as h:\n    return h.read()",
        "if x: return 1\nelse: return 2",
        "for i in x:\n    pass\nreturn 1",
    ],
)
def test_functions_that_always_return(body: str) -> None:
    flow = flow_of("def f(x, y=0):\n" + textwrap.indent(body, "    "))
    assert not flow.can_finish_without_value
    assert not flow.falls_off_end


@pytest.mark.parametrize(
    "body",
    [
        "if x:\n    return 1",
        "if x:\n    return 1\nelif y:\n    return 2",
        "for i in x:\n    return i",  # zero iterations fall off the end
        "while x:\n    return 1",
        "while True:\n    if x:\n        break\n    return 1",
        "try:\n    return g()\nexcept E:\n    pass",
        "x = 1",
    ],
)
def test_functions_that_can_fall_off_the_end(body: str) -> None:
    flow = flow_of("def f(x, y=0):\n" + textwrap.indent(body, "    "))
    assert flow.falls_off_end
    assert flow.can_finish_without_value


def test_bare_return_is_a_path_without_value() -> None:
    flow = flow_of("def f(x):\n    if x:\n        return\n    return x\n")
    assert not flow.falls_off_end
    assert len(flow.bare_returns) == 1
    assert flow.can_finish_without_value


def test_generators_and_nested_functions() -> None:
    flow = flow_of("def f(x):\n    yield x\n")
    assert flow.is_generator and not flow.can_finish_without_value
    # A bare return or a yield inside a nested function belongs to that function.
    flow = flow_of("def f(x):\n    def g():\n        yield\n        return\n    return g\n")
    assert not flow.is_generator and not flow.bare_returns and not flow.can_finish_without_value


# ----- is a name surely bound before a read ---------------------------------------------------------


def test_bound_only_in_if_elif_branches_without_else() -> None:
    source = """
    def f(self, depth):
        if depth == 18:
            loops = [2, 2, 2, 2]
        elif depth in (34, 50):
            loops = [3, 4, 6, 3]
        first = loops[0]  # loops?
        return first
    """
    assert unbound(source) == ["loops@7"]


@pytest.mark.parametrize(
    "source",
    [
        # every branch binds, or the missing branch raises
        """
        def f(depth):
            if depth == 18:
                loops = 2
            elif depth == 34:
                loops = 3
            else:
                raise ValueError(depth)
            return loops
        """,
        # bound before the if, rebound in it
        """
        def f(x, down):
            identity = x
            if down is not None:
                identity = down(x)
            return identity
        """,
        # a loop target read in its body and, loops being assumed to run, after it
        """
        def f(blocks, x):
            for block in blocks:
                out = block(x)
            return out, block
        """,
        # a name the loop body binds is read at the top of the next iteration
        """
        def f(items):
            for i, item in enumerate(items):
                if i > 0:
                    total = total + item
                total = item
        """,
        # try/except that binds on both paths; with-as; import; nested def and class
        """
        def f(path):
            try:
                import numpy as np
            except ImportError:
                np = None
            with open(path) as handle:
                text = handle.read()
            def helper():
                return late
            class Local:
                pass
            late = 1
            return np, text, helper, Local
        """,
        # walrus and global names are not followed step by step, so never doubted
        """
        def f(x):
            global counter
            if x:
                counter = 1
            if (m := x) and m:
                pass
            return counter, m
        """,
        # comprehension variables are the comprehension's own
        """
        def f(xs):
            return [v for v in xs if v], {k: w for k, w in xs}
        """,
        # `while True` leaves only through break, after binding
        """
        def f(it):
            while True:
                item = next(it)
                if item:
                    break
            return item
        """,
    ],
)
def test_surely_bound_reads(source: str) -> None:
    flow = flow_of(textwrap.dedent(source))
    assert flow.maybe_unbound_reads == ()


def test_reads_that_may_be_unbound() -> None:
    source = """
    def f(x, mode):
        if mode:
            a = 1
        print(a)  # a?
        try:
            b = g(x)
        except KeyError:
            pass
        print(b)  # b?
        try:
            c = g(x)
        finally:
            print(c)  # c?
        for i in x:
            break
        else:
            d = 1
        print(d)  # d?
        e = 1
        del e
        print(e)  # e?
        try:
            pass
        except Exception as err:
            pass
        print(err)  # err?
        h += 1  # h?
        h = 2
        return [a for _ in x]  # a?
    """
    assert unbound(source) == ["a@5", "b@10", "c@14", "d@19", "e@22", "err@27", "h@28", "a@30"]


def test_reads_of_globals_and_parameters_are_not_the_functions_concern() -> None:
    flow = flow_of("def f(x):\n    return x + CONSTANT + len(x)\n")
    assert flow.maybe_unbound_reads == ()


def test_may_be_unbound_asks_about_one_read() -> None:
    flow = flow_of("def f(x):\n    if x:\n        y = 1\n    return y\n")
    (read,) = flow.maybe_unbound_reads
    assert flow.may_be_unbound(read)
    assert not flow.may_be_unbound(cst.Name("y"))


def test_one_line_suites() -> None:
    flow = flow_of("def f(x):\n    if x: y = 1\n    return y\n")
    assert [read.value for read in flow.maybe_unbound_reads] == ["y"]


# ----- unreachable statements ---------------------------------------------------------------------


def test_unreachable_statements() -> None:
    flow = flow_of(
        """
def f(x):
    for i in x:
        continue
        print(i)
    while True:
        pass
    print(x)
"""
    )
    assert [type(statement).__name__ for statement in flow.unreachable] == [
        "SimpleStatementLine",
        "SimpleStatementLine",
    ]
    assert not flow.falls_off_end


def test_model_caches_flow_per_function() -> None:
    source = "def f(x):\n    return x\n"
    module = build_module_model(cst.parse_module(source), source, "example.py")
    (function,) = module.function_defs
    assert module.flow(function) is module.flow(function)


def branch_overwrites(source: str) -> list[str]:
    """`name@line` of each store thrown away by a branch of the `if` right after it."""
    module, function = model_and_function(source)
    return [
        f"{store.name}@{module.line_of(store.second)}"
        for store in module.liveness(function).overwritten_in_branch
    ]


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        # a chain step (augmented, or reading its own name), then a branch that starts afresh
        (
            "def f(x, r, c):\n    out = g(x)\n    out += r\n    if c:\n        out = h(x)\n    return out",
            ["out@5"],
        ),
        (
            "def f(x, c):\n    out = g(x)\n    out = out * 2 + x\n    if c:\n        pass\n    else:\n        out = h(x)\n    return out",
            ["out@7"],
        ),
        # nested in a loop body
        (
            "def f(x, c):\n    for _ in range(2):\n        x += g(x)\n        if c:\n            x = h(c)\n    return x",
            ["x@5"],
        ),
        # a fresh default overridden on purpose
        ("def f(x, c):\n    out = g(x)\n    if c:\n        out = h(x)\n    return out", []),
        # the branch reads the chain first, or the test does, or the overwrite reads it
        (
            "def f(x, c):\n    out = g(x) + x\n    out += x\n    if c:\n        y = out\n        out = h(x)\n    return out",
            [],
        ),
        (
            "def f(x):\n    out = g(x)\n    out += x\n    if out.sum() > 0:\n        out = h(x)\n    return out",
            [],
        ),
        (
            "def f(x, c):\n    out = g(x)\n    out += x\n    if c:\n        out = h(out)\n    return out",
            [],
        ),
        # an overwrite by a plain value is a reset, not a computation thrown away
        (
            "def f(x, c):\n    out = g(x)\n    out += x\n    if c:\n        out = None\n    return out",
            [],
        ),
    ],
)
def test_stores_overwritten_in_a_branch(source: str, expected: list[str]) -> None:
    assert branch_overwrites(source) == expected
