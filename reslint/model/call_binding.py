"""Whether a call of the file's own function binds its arguments, as Python would.

A call that cannot bind raises TypeError, and RN111 reports it. When it gives a parameter two values
(`make_layers(block, 2, out_channels=64)` against `def make_layers(self, n, out_channels, stride)`),
the interpreter cannot tell which one the author meant and must not build a stage from either.
"""

from __future__ import annotations

from typing import TypeGuard

import libcst as cst

from reslint.knowledge.signatures import Signature


def is_super_call(node: cst.CSTNode | None) -> TypeGuard[cst.Call]:
    """`super()` or `super(Block, self)`."""
    return (
        isinstance(node, cst.Call)
        and isinstance(node.func, cst.Name)
        and node.func.value == "super"
    )


def function_signature(function: cst.FunctionDef, bound: bool = False) -> Signature:
    """A function of the file in the notation of the generated signatures; `bound`: as a method
    called on an instance (its first parameter, `self`, is given)."""
    params = function.params
    positional = [*params.posonly_params, *params.params][1 if bound else 0 :]
    only = max(len(params.posonly_params) - (1 if bound else 0), 0)
    parts: list[str] = [_part(p) for p in positional[:only]]
    if parts:
        parts.append("/")
    parts += [_part(p) for p in positional[only:]]
    star = params.star_arg
    if isinstance(star, cst.Param):
        parts.append(f"*{star.name.value}")
    elif params.kwonly_params:
        parts.append("*")
    parts += [_part(p) for p in params.kwonly_params]
    if params.star_kwarg is not None:
        parts.append(f"**{params.star_kwarg.name.value}")
    return Signature.parse(parts)


def _part(param: cst.Param) -> str:
    return param.name.value + ("=" if param.default is not None else "")


def argument_keywords(call: cst.Call) -> list[str | None]:
    """Each argument's keyword, None for a positional one: what Signature.bind takes."""
    return [arg.keyword.value if arg.keyword else None for arg in call.args]


def gives_a_parameter_twice(function: cst.FunctionDef, call: cst.Call, bound: bool) -> bool:
    """`call` passes one parameter of `function` both by position and by keyword (TypeError):
    which of the two values the author meant is unknown, so nothing may be built from either.
    False when reslint cannot tell (a `*args`/`**kwargs` at the call site could hold anything; a
    decorator may change the signature)."""
    if function.decorators or any(arg.star for arg in call.args):
        return False
    binding = function_signature(function, bound).bind(argument_keywords(call))
    return binding.repeated is not None


def last_name(node: cst.BaseExpression) -> str:
    """`store_attr` for `store_attr` and `fastcore.basics.store_attr`; "" for anything else."""
    if isinstance(node, cst.Attribute):
        return node.attr.value
    return node.value if isinstance(node, cst.Name) else ""


def called_name(call: cst.Call) -> str:
    """The last name of what a call calls (`store_attr(...)`, `fastcore.basics.store_attr(...)`)."""
    return last_name(call.func)


def self_name(function: cst.FunctionDef) -> str:
    """The name a method calls its instance by: its first parameter's."""
    params = list(function.params.posonly_params) + list(function.params.params)
    return params[0].name.value if params else "self"
