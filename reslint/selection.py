"""Which codes are on: --select / --ignore / --extend-select and their configuration keys, as ruff does.

A selection is a stack of layers (the configuration file, then the command line, then a file's
per-file-ignores). Each layer may name codes or prefixes to select and to ignore; inside a layer the
most specific matching selector wins and, between equally specific ones, ignore wins. A layer with its
own `select` decides afresh for every code it matches or not; a layer without one only changes the
codes its selectors match. Opt-in codes (Rule.opt_in) start off and need a selector that names them
(`ALL` or a prefix of theirs counts).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

_CODE_PREFIX = re.compile(r"[A-Z]+[0-9]*\Z")


@dataclass(frozen=True)
class Layer:
    """One source of select/ignore choices. `select` None means "not given" (keep what came before)."""

    select: tuple[str, ...] | None = None
    extend_select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()

    @classmethod
    def of(
        cls,
        select: Iterable[str] | None = None,
        ignore: Iterable[str] = (),
        extend_select: Iterable[str] = (),
    ) -> Layer:
        return cls(
            None if select is None else normal_selectors(select),
            normal_selectors(extend_select),
            normal_selectors(ignore),
        )

    def decide(self, code: str, enabled: bool) -> bool:
        chosen = (self.select or ()) + self.extend_select
        best_select = _longest_match(chosen, code)
        best_ignore = _longest_match(self.ignore, code)
        if self.select is not None:
            return best_select > best_ignore
        if best_select > best_ignore:
            return True
        return enabled and best_ignore < 0


@dataclass(frozen=True)
class Selection:
    layers: tuple[Layer, ...] = ()

    def then(self, layer: Layer) -> Selection:
        return Selection(self.layers + (layer,))

    def enables(self, code: str, opt_in: bool = False) -> bool:
        enabled = not opt_in
        for layer in self.layers:
            enabled = layer.decide(code, enabled)
        return enabled

    def selectors(self) -> list[str]:
        """Every selector named anywhere (to check that each names a known code)."""
        return [
            selector
            for layer in self.layers
            for selector in (layer.select or ()) + layer.extend_select + layer.ignore
        ]


def normal_selectors(selectors: Iterable[str]) -> tuple[str, ...]:
    """Upper case, comma-separated values split, `ALL` as the empty prefix (it matches every code)."""
    return tuple(
        "" if part == "ALL" else part
        for selector in selectors
        for part in (piece.strip().upper() for piece in selector.split(","))
        if part
    )


def unknown_selectors(selectors: Iterable[str], codes: Sequence[str]) -> list[str]:
    """The selectors that are not a code or a prefix of one (for a clear usage error)."""
    return [
        selector
        for selector in selectors
        if selector
        and (
            not _CODE_PREFIX.match(selector) or not any(code.startswith(selector) for code in codes)
        )
    ]


def _longest_match(selectors: tuple[str, ...], code: str) -> int:
    return max((len(prefix) for prefix in selectors if code.startswith(prefix)), default=-1)
