"""Sums that add a tensor the sum before them already holds: `out += residual` twice in one path.

Forward records each addition with the alternatives of both sides (`AddSite`). When one side of a
sum is, on every path, exactly an earlier sum (nothing applied to it since) and the other side is,
on every path, the very tensor that earlier sum already added (same origin, same steps), that tensor
is counted twice: `out = f(x) + x` then `out = out + x` is `f(x) + 2x`."""

from __future__ import annotations

from typing import Any, NamedTuple

from reslint.model.values import AddSite, Flow


class RepeatedAddend(NamedTuple):
    site: AddSite  # the second addition
    earlier: AddSite  # the sum that already holds the addend


def repeated_addends(adds: list[AddSite]) -> list[RepeatedAddend]:
    found = []
    for site in adds:
        for total, addend in ((site.left, site.right), (site.right, site.left)):
            earlier = _plain_earlier_sum(total)
            if earlier is not None and _all_added_by(addend, earlier):
                found.append(RepeatedAddend(site, earlier))
                break
    return found


def _plain_earlier_sum(options: tuple[Any, ...]) -> AddSite | None:
    """The one earlier sum every option is, untouched since it was made."""
    if not options or not all(
        isinstance(option, Flow) and isinstance(option.origin, AddSite) and not option.steps
        for option in options
    ):
        return None
    origins = {id(option.origin): option.origin for option in options}
    return next(iter(origins.values())) if len(origins) == 1 else None


def _all_added_by(options: tuple[Any, ...], earlier: AddSite) -> bool:
    """Whether every option is one of the tensors `earlier` summed."""
    summed = [flow for flow in (*earlier.left, *earlier.right) if isinstance(flow, Flow)]
    return bool(options) and all(
        isinstance(option, Flow) and any(_same_tensor(option, flow) for flow in summed)
        for option in options
    )


def _same_tensor(a: Flow, b: Flow) -> bool:
    same_origin = a.origin is b.origin if isinstance(a.origin, AddSite) else a.origin == b.origin
    return (
        same_origin
        and len(a.steps) == len(b.steps)
        and all(x is y for x, y in zip(a.steps, b.steps, strict=True))
    )
