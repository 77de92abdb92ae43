"""The cache: a re-run on unchanged files lints nothing again, and any change that matters is seen."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import checkout_environment

from reslint import engine, runner
from reslint.cache import Cache
from reslint.settings import Overrides, SettingsResolver

BUG = "import torch.nn as nn\n\nlayer = nn.conv2d(3, 64, 3)\n"


def run(paths, cache: Cache, **overrides):
    return runner.run(paths, SettingsResolver(Overrides(**overrides)), cache=cache)


@pytest.fixture
def linted(monkeypatch) -> list[str]:
    """The paths the engine really lints (reads and checks), in order."""
    calls: list[str] = []
    original = engine.check_file

    def recording(path, checks, group=None):
        calls.append(Path(path).name)
        return original(path, checks, group)

    monkeypatch.setattr(engine, "check_file", recording)
    return calls


def test_a_rerun_on_unchanged_files_comes_from_the_cache(tmp_path, linted):
    (tmp_path / "a.py").write_text(BUG, encoding="utf-8")
    (tmp_path / "b.py").write_text("x = 1\n", encoding="utf-8")
    (tmp_path / "empty.py").write_text("", encoding="utf-8")
    first = run([str(tmp_path)], Cache(str(tmp_path / "cache")))
    again = run([str(tmp_path)], Cache(str(tmp_path / "cache")))
    assert linted == ["a.py", "b.py", "empty.py"]  # the second run linted nothing
    assert again.findings == first.findings and [f.code for f in again.findings] == ["RN105"]
    assert again.empty_files == first.empty_files == [str(tmp_path / "empty.py")]


def test_a_changed_file_is_linted_again_and_only_it(tmp_path, linted):
    (tmp_path / "a.py").write_text(BUG, encoding="utf-8")
    (tmp_path / "b.py").write_text("x = 1\n", encoding="utf-8")
    run([str(tmp_path)], Cache(str(tmp_path / "cache")))
    (tmp_path / "b.py").write_text(BUG, encoding="utf-8")
    result = run([str(tmp_path)], Cache(str(tmp_path / "cache")))
    assert linted == ["a.py", "b.py", "b.py"]
    assert [(Path(f.path).name, f.code) for f in result.findings] == [
        ("a.py", "RN105"),
        ("b.py", "RN105"),
    ]


def test_other_settings_are_another_key(tmp_path, linted):
    (tmp_path / "a.py").write_text(BUG, encoding="utf-8")
    run([str(tmp_path)], Cache(str(tmp_path / "cache")))
    ignored = run([str(tmp_path)], Cache(str(tmp_path / "cache")), ignore=("RN105",))
    assert ignored.findings == [] and linted == ["a.py", "a.py"]


def test_paths_are_shown_as_this_run_names_them(tmp_path, monkeypatch):
    (tmp_path / "a.py").write_text(BUG, encoding="utf-8")
    run([str(tmp_path / "a.py")], Cache(str(tmp_path / "cache")))
    monkeypatch.chdir(tmp_path)
    (finding,) = run(["a.py"], Cache(str(tmp_path / "cache"))).findings
    assert finding.path == "a.py"


def test_internal_errors_are_not_cached(tmp_path, monkeypatch, linted):
    (tmp_path / "a.py").write_text(BUG, encoding="utf-8")

    def broken(text, path, checks):
        raise MemoryError

    monkeypatch.setattr(engine, "_findings", broken)
    assert [f.code for f in run([str(tmp_path)], Cache(str(tmp_path / "cache"))).findings] == [
        "RN004"
    ]
    monkeypatch.undo()
    cache = Cache(str(tmp_path / "cache"))
    assert [f.code for f in run([str(tmp_path)], cache).findings] == ["RN105"]


def test_a_corrupt_cache_is_ignored_and_replaced(tmp_path):
    (tmp_path / "a.py").write_text(BUG, encoding="utf-8")
    cache = Cache(str(tmp_path / "cache"))
    os.makedirs(cache.directory)
    Path(cache.file).write_text("{not json", encoding="utf-8")
    assert [f.code for f in run([str(tmp_path)], Cache(cache.directory)).findings] == ["RN105"]
    assert str(tmp_path / "a.py") in json.loads(Path(cache.file).read_text(encoding="utf-8"))


def test_an_unwritable_cache_folder_is_not_an_error(tmp_path):
    (tmp_path / "a.py").write_text(BUG, encoding="utf-8")
    (tmp_path / "blocked").write_text("a file where the cache folder would go", encoding="utf-8")
    result = run([str(tmp_path / "a.py")], Cache(str(tmp_path / "blocked" / "cache")))
    assert [f.code for f in result.findings] == ["RN105"]


def test_the_command_caches_in_the_project_root_and_no_cache_does_not(run_reslint, tmp_path):
    (tmp_path / "pyproject.toml").write_text("[tool.reslint]\n", encoding="utf-8")
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "a.py").write_text(BUG, encoding="utf-8")
    first = run_reslint("--no-cache", "a.py", cwd=tmp_path / "models")
    assert not (tmp_path / ".reslint_cache").exists()
    second = run_reslint("a.py", cwd=tmp_path / "models")
    third = run_reslint("a.py", cwd=tmp_path / "models")
    assert first.stdout == second.stdout == third.stdout and "RN105" in first.stdout
    assert (tmp_path / ".reslint_cache" / ".gitignore").read_text(encoding="utf-8").endswith("*\n")
    assert [path.name for path in (tmp_path / ".reslint_cache").glob("results-*.json")]


def test_reslint_cache_dir_names_the_folder(run_reslint, tmp_path):
    (tmp_path / "a.py").write_text(BUG, encoding="utf-8")
    run_reslint("a.py", cwd=tmp_path, env={"RESLINT_CACHE_DIR": str(tmp_path / "elsewhere")})
    assert list((tmp_path / "elsewhere").glob("results-*.json"))
    assert not (tmp_path / ".reslint_cache").exists()


def test_a_run_answered_from_the_cache_never_loads_the_engine(run_reslint, tmp_path):
    (tmp_path / "a.py").write_text("x = 1\n", encoding="utf-8")
    assert run_reslint("a.py", cwd=tmp_path).returncode == 0  # fills the cache
    probe = (
        "import sys; from reslint import cli; code = cli.main(['a.py']); "
        "loaded = [m for m in ('libcst', 'reslint.engine', 'reslint.model') if m in sys.modules]; "
        "sys.stderr.write(repr(loaded)); sys.exit(code)"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=tmp_path,
        env=checkout_environment(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert (result.returncode, result.stderr) == (0, "[]")
    assert result.stdout == "All checks passed: 1 file, no findings.\n"


def test_rule_codes_are_read_from_module_names_without_importing_the_rules():
    from reslint.registry import load_rules, rule_codes

    assert rule_codes() == [rule.code for rule in load_rules()]


@pytest.mark.parametrize("stand_in", ["fifo", "/dev/zero"])
def test_a_cache_file_that_is_a_fifo_or_a_device_is_an_empty_cache(tmp_path, stand_in):
    directory = tmp_path / "cache"
    cache_file = Path(Cache(str(directory)).file)
    directory.mkdir()
    os.mkfifo(cache_file) if stand_in == "fifo" else cache_file.symlink_to(stand_in)
    assert Cache(str(directory)).entries == {}


def test_a_fifo_has_no_key_and_is_never_opened(tmp_path):
    from reslint.settings import Settings

    os.mkfifo(tmp_path / "pipe.py")  # opening it for reading would wait for a writer forever
    assert (
        Cache(str(tmp_path / "cache")).key(str(tmp_path / "pipe.py"), Settings(str(tmp_path)))
        is None
    )
