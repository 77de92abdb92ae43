"""The cache of the methods `@dataclass` writes (reslint.dataclass_code)."""

from __future__ import annotations

import dataclasses
import marshal
import os
from pathlib import Path

import pytest

from reslint import dataclass_code
from reslint.dataclass_code import compiled_once


def point_class() -> type:
    return dataclasses.make_dataclass(
        "Point", [("x", int), ("y", int, dataclasses.field(default=0))], frozen=True
    )


def cache_file(directory: Path) -> Path:
    (found,) = directory.glob("dataclass-methods-*.marshal")
    return found


def test_the_methods_are_compiled_once_and_then_read_from_the_cache(tmp_path, monkeypatch):
    with compiled_once(str(tmp_path)):
        first = point_class()
    assert "exec" not in vars(dataclasses)  # the hook is gone on the way out
    cached = marshal.loads(cache_file(tmp_path).read_bytes())
    # keyed by the source dataclasses wrote: __init__, __repr__, __eq__, __hash__ and the frozen pair
    assert sum("def __" in key for key in cached) == 6

    def no_compiling(*args: object, **kwargs: object) -> None:
        raise AssertionError("compiled although the cache holds the method")

    monkeypatch.setattr(dataclass_code, "compile", no_compiling, raising=False)
    with compiled_once(str(tmp_path)):
        second = point_class()
    assert second(1, 2) == second(1, 2) and hash(second(1)) == hash(second(1, 0))
    assert repr(second(3)) == repr(first(3)) == "Point(x=3, y=0)"
    with pytest.raises(dataclasses.FrozenInstanceError):
        second(1).x = 2  # type: ignore[misc]


def test_the_cached_code_is_the_code_dataclasses_compiles(tmp_path):
    plain = point_class()
    for _ in range(2):  # compiled afresh, then read back
        with compiled_once(str(tmp_path)):
            cached = point_class()
        for method in ("__init__", "__repr__", "__eq__", "__hash__", "__setattr__"):
            assert getattr(cached, method).__code__ == getattr(plain, method).__code__


def test_a_file_others_may_write_is_not_run(tmp_path):
    with compiled_once(str(tmp_path)):
        point_class()
    path = cache_file(tmp_path)
    planted = {
        key: compile("raise RuntimeError('planted')", "<string>", "exec")
        for key in marshal.loads(path.read_bytes())
    }
    path.write_bytes(marshal.dumps(planted))
    os.chmod(path, 0o666)
    with compiled_once(str(tmp_path)):
        assert point_class()(1).y == 0  # compiled afresh, not the planted code


@pytest.mark.parametrize("content", [b"", b"not marshal data", marshal.dumps(["a", "list"])])
def test_an_unreadable_cache_is_compiled_afresh_and_replaced(tmp_path, content):
    path = tmp_path / dataclass_code._file_name()
    path.write_bytes(content)
    os.chmod(path, 0o600)
    with compiled_once(str(tmp_path)):
        assert point_class()(5).x == 5
    assert isinstance(marshal.loads(path.read_bytes()), dict)


def test_an_unwritable_cache_folder_is_not_an_error(tmp_path):
    blocked = tmp_path / "a file, not a folder"
    blocked.write_text("")
    with compiled_once(str(blocked / "reslint")):
        assert point_class()(1, 1).y == 1


def test_the_command_fills_the_cache_and_reports_the_same(run_reslint, tmp_path):
    target = "fixtures/bugs/RN301_norm_after_addition.py"
    env = {"XDG_CACHE_HOME": str(tmp_path)}
    first = run_reslint("--no-cache", "--no-color", target, env=env)
    assert cache_file(tmp_path / "reslint").stat().st_size > 0
    second = run_reslint("--no-cache", "--no-color", target, env=env)
    assert (second.returncode, second.stdout, second.stderr) == (
        first.returncode,
        first.stdout,
        first.stderr,
    )
    assert first.returncode == 1
