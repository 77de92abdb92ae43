"""The collector while a file is checked: its first threshold raised, and, for the command (which
starts with the collector off), switched on only while a file is checked, with what the command
imported before its first file frozen out of its sight once."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from reslint import collections_budget
from reslint.collections_budget import YOUNG_THRESHOLD, fewer_collections


@pytest.fixture
def collector(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The collector as a fresh command process finds it: nothing frozen yet."""
    enabled, threshold = gc.isenabled(), gc.get_threshold()
    monkeypatch.setattr(collections_budget, "_start_up_frozen", [])
    yield
    gc.unfreeze()
    gc.set_threshold(*threshold)
    (gc.enable if enabled else gc.disable)()


def test_an_enabled_collector_gets_a_higher_first_threshold_and_nothing_frozen(collector) -> None:
    gc.enable()
    gc.set_threshold(700, 10, 10)
    before = gc.get_freeze_count()
    with fewer_collections():
        assert gc.isenabled()
        assert gc.get_threshold() == (YOUNG_THRESHOLD, 10, 10)
        assert gc.get_freeze_count() <= before
    assert gc.get_threshold() == (700, 10, 10)


def test_a_disabled_collector_runs_only_inside_and_freezes_the_start_up_once(collector) -> None:
    gc.disable()
    gc.unfreeze()
    with fewer_collections():
        assert gc.isenabled()
        frozen = gc.get_freeze_count()
        assert frozen > 0
    assert not gc.isenabled()
    kept = [object() for _ in range(10)]  # a second file: what the first left is not frozen too
    with fewer_collections():
        assert gc.isenabled()
        assert gc.get_freeze_count() <= frozen  # frozen objects may still be freed, none added
    assert not gc.isenabled() and kept
