"""The cache of the methods `@dataclass` writes and of compiled regular expressions (reslint.compile_cache)."""

from __future__ import annotations

import _sre
import dataclasses
import marshal
import os
import re
from pathlib import Path

import pytest

from reslint import compile_cache
from reslint.compile_cache import compiled_once


def point_class() -> type:
    return dataclasses.make_dataclass(
        "Point", [("x", int), ("y", int, dataclasses.field(default=0))], frozen=True
    )


def cache_file(directory: Path) -> Path:
    (found,) = directory.glob("compiled-*.marshal")
    return found


def test_the_methods_are_compiled_once_and_then_read_from_the_cache(tmp_path, monkeypatch):
    with compiled_once(str(tmp_path)):
        first = point_class()
    assert "exec" not in vars(dataclasses)  # the hook is gone on the way out
    cached = marshal.loads(cache_file(tmp_path).read_bytes())["methods"]
    # keyed by the source dataclasses wrote: __init__, __repr__, __eq__, __hash__ and the frozen pair
    assert sum("def __" in key for key in cached) == 6

    def no_compiling(*args: object, **kwargs: object) -> None:
        raise AssertionError("compiled although the cache holds the method")

    monkeypatch.setattr(compile_cache, "compile", no_compiling, raising=False)
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
    known = marshal.loads(path.read_bytes())
    planted = {
        key: compile("raise RuntimeError('planted')", "<string>", "exec")
        for key in known["methods"]
    }
    path.write_bytes(marshal.dumps({"methods": planted, "patterns": known["patterns"]}))
    os.chmod(path, 0o666)
    with compiled_once(str(tmp_path)):
        assert point_class()(1).y == 0  # compiled afresh, not the planted code


@pytest.mark.parametrize("content", [b"", b"not marshal data", marshal.dumps(["a", "list"])])
def test_an_unreadable_cache_is_compiled_afresh_and_replaced(tmp_path, content):
    path = tmp_path / compile_cache._file_name()
    path.write_bytes(content)
    os.chmod(path, 0o600)
    with compiled_once(str(tmp_path)):
        assert point_class()(5).x == 5
    assert marshal.loads(path.read_bytes())["methods"]


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


# Patterns no other code of the test run compiles, so that `re`'s own per-process cache misses them.
PATTERNS = [
    (r"(?P<stage>layer|stage)(?P<index>\d+)\.(?:conv|bn)[12]_probe", 0),
    (r"^\s*#\s*probe\s*:\s*(?P<codes>[A-Z]+\d+(?:,\s*[A-Z]+\d+)*)$", re.I | re.M),
    (r"probe(?=[a-z])|(?<!x)[^\W\d]{2,}probe", re.ASCII),
]


def compile_fresh(pattern: str, flags: int) -> re.Pattern[str]:
    re.purge()  # past re's own cache: every call reaches the compiler
    return re.compile(pattern, flags)


def test_a_cached_pattern_is_the_pattern_re_compiles(tmp_path, monkeypatch):
    plain = [compile_fresh(pattern, flags) for pattern, flags in PATTERNS]
    with compiled_once(str(tmp_path)):
        first = [compile_fresh(pattern, flags) for pattern, flags in PATTERNS]
    assert len(marshal.loads(cache_file(tmp_path).read_bytes())["patterns"]) >= len(PATTERNS)

    def no_parsing(*args: object, **kwargs: object) -> None:
        raise AssertionError("parsed although the cache holds the pattern")

    monkeypatch.setattr(re._parser, "parse", no_parsing)  # type: ignore[attr-defined]
    with compiled_once(str(tmp_path)):
        second = [compile_fresh(pattern, flags) for pattern, flags in PATTERNS]
    # Patterns compare equal when their flags, source and engine program are the same.
    assert plain == first == second
    assert second[0].groupindex == {"stage": 1, "index": 2}
    assert second[1].match("# probe: RN101, RN202").group("codes") == "RN101, RN202"
    assert re._compiler.compile.__module__ == "re._compiler"  # type: ignore[attr-defined]  # unhooked


def test_a_planted_pattern_program_is_not_run_from_a_file_others_may_write(tmp_path):
    pattern, flags = PATTERNS[0]
    with compiled_once(str(tmp_path)):
        compile_fresh(pattern, flags)
    path = cache_file(tmp_path)
    known = marshal.loads(path.read_bytes())
    with compiled_once(str(tmp_path / "planting")):
        compile_fresh(r"planted", 0)
    planted_program = marshal.loads(cache_file(tmp_path / "planting").read_bytes())["patterns"][
        ("planted", 0, _sre.MAGIC)
    ]
    known["patterns"] = {key: planted_program for key in known["patterns"]}
    path.write_bytes(marshal.dumps(known))
    os.chmod(path, 0o666)
    with compiled_once(str(tmp_path)):
        # compiled afresh: the planted program would match "planted" only
        assert compile_fresh(pattern, flags).match("layer2.conv1_probe")


def test_the_cache_of_methods_alone_that_older_versions_kept_is_removed(tmp_path):
    old = tmp_path / "dataclass-methods-cpython-311-a70d0d0a-O0.marshal"
    old.write_bytes(marshal.dumps({}))
    with compiled_once(str(tmp_path)):
        point_class()
    assert not old.exists() and cache_file(tmp_path).exists()


@pytest.mark.parametrize("entry", [(0, [1, 2, 3], 0, {}, ()), "not an entry", 7])
def test_a_pattern_entry_the_engine_refuses_is_compiled_afresh(tmp_path, entry):
    pattern, flags = PATTERNS[1]
    with compiled_once(str(tmp_path)):
        compile_fresh(pattern, flags)
    path = cache_file(tmp_path)
    known = marshal.loads(path.read_bytes())
    known["patterns"] = {key: entry for key in known["patterns"]}
    path.write_bytes(marshal.dumps(known))
    with compiled_once(str(tmp_path)):
        assert compile_fresh(pattern, flags).match("# probe: RN1").group("codes") == "RN1"
