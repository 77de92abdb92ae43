"""Find the smallest input on which the user's model and the reference disagree, with hypothesis.

Deterministic (derandomize=True) and without an example database, so nothing is written into the
user's repository; hypothesis' shrinking makes the reported input minimal (smallest batch, then height,
then width). The oracle is passed in, so this module needs no torch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

Shape = tuple[int, int, int, int]


@dataclass(frozen=True)
class Domain:
    """Inputs N x C x H x W that are tried: C fixed (the model's input channels), the rest in ranges."""

    channels: int
    batch: tuple[int, int] = (1, 2)
    height: tuple[int, int] = (1, 256)
    width: tuple[int, int] = (1, 256)

    def to_dict(self) -> dict[str, object]:
        return {
            "batch": list(self.batch),
            "channels": self.channels,
            "height": list(self.height),
            "width": list(self.width),
        }


@dataclass
class SearchResult:
    failing: Shape | None  # the minimal input that shows a difference, or None
    tried: int  # distinct inputs evaluated


def find_minimal_difference(
    domain: Domain, differs: Callable[[Shape], bool], max_examples: int
) -> SearchResult:
    """Search the domain for an input where `differs` is true; shrink it to a minimal one."""
    from hypothesis import HealthCheck, Phase, find, settings
    from hypothesis import strategies as st
    from hypothesis.errors import NoSuchExample

    verdicts: dict[Shape, bool] = {}

    def cached(shape: Shape) -> bool:
        if shape not in verdicts:
            verdicts[shape] = differs(shape)
        return verdicts[shape]

    strategy = st.builds(
        lambda n, h, w: (n, domain.channels, h, w),
        st.integers(*domain.batch),
        st.integers(*domain.height),
        st.integers(*domain.width),
    )
    config = settings(
        max_examples=max_examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    try:
        failing = find(strategy, cached, settings=config)
    except NoSuchExample:
        return SearchResult(None, len(verdicts))
    return SearchResult(tuple(failing), len(verdicts))  # type: ignore[arg-type]


def boundary_search(works: Callable[[int], bool], good: int, bad: int) -> int:
    """The size next to `good` where the model still works, walking towards `bad` (bisection).

    Assumes one boundary between the two; returns the last working size on the way to `bad`."""
    while abs(bad - good) > 1:
        middle = (good + bad) // 2
        if works(middle):
            good = middle
        else:
            bad = middle
    return good
