"""The Python API: reslint.check_source and reslint.check_paths return findings and print nothing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

import reslint
from reslint import ConfigError, Finding, Severity

BUG = "import torch.nn as nn\n\nlayer = nn.conv2d(3, 64, 3)\n"


def test_check_source_returns_findings_and_prints_nothing(capsys):
    (finding,) = reslint.check_source(BUG, path="models/net.py")
    assert isinstance(finding, Finding)
    assert (finding.path, finding.line, finding.column, finding.code, finding.severity) == (
        "models/net.py",
        3,
        9,
        "RN105",
        Severity.ERROR,
    )
    assert capsys.readouterr() == ("", "")


def test_fix_source_returns_what_fix_would_write(capsys):
    assert reslint.fix_source(BUG) == BUG.replace("nn.conv2d", "nn.Conv2d")
    assert reslint.fix_source(BUG, ignore=["RN105"]) == BUG
    printing = "import torch.nn as nn\nclass B(nn.Module):\n    def forward(self, x):\n        print(x)\n        return x\n"
    assert reslint.fix_source(printing) == printing  # RN109's fix is unsafe
    assert "print" not in reslint.fix_source(printing, unsafe_fixes=True)
    assert capsys.readouterr() == ("", "")


def test_check_source_takes_select_and_ignore():
    text = BUG + "print 'x'\n"
    assert [f.code for f in reslint.check_source(text)] == ["RN105", "RN001"]
    assert [f.code for f in reslint.check_source(text, select=["RN0"])] == ["RN001"]
    assert [f.code for f in reslint.check_source(text, ignore=["RN1"])] == ["RN001"]


def test_check_source_uses_the_configuration_of_its_path(tmp_path):
    (tmp_path / "reslint.toml").write_text('ignore = ["RN105"]\n', encoding="utf-8")
    assert reslint.check_source(BUG, path=tmp_path / "net.py") == []
    assert reslint.check_source(BUG, path=tmp_path / "net.py", extend_select=["RN105"]) != []


def test_check_paths_searches_folders_as_the_command_does(tmp_path, capsys):
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "net.py").write_text(BUG, encoding="utf-8")
    (tmp_path / "venv").mkdir()
    (tmp_path / "venv" / "lib.py").write_text(BUG, encoding="utf-8")
    findings = reslint.check_paths([tmp_path])
    assert [(Path(f.path).relative_to(tmp_path).as_posix(), f.code) for f in findings] == [
        ("models/net.py", "RN105")
    ]
    assert capsys.readouterr() == ("", "")


def test_check_paths_raises_for_a_missing_path(tmp_path):
    with pytest.raises(FileNotFoundError) as raised:
        reslint.check_paths([tmp_path / "gone.py"])
    assert raised.value.filename == str(tmp_path / "gone.py")


def test_bad_settings_raise_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="unknown rule code or prefix: RN9"):
        reslint.check_source(BUG, select=["RN9"])
    (tmp_path / "reslint.toml").write_text("selct = []\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="unknown key `selct`"):
        reslint.check_paths([tmp_path])


def test_importing_reslint_is_cheap():
    probe = "import sys, reslint; print(sorted({'libcst', 'rich', 'torch', 'pathspec'} & set(sys.modules)))"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_the_package_is_typed():
    assert (Path(reslint.__file__).parent / "py.typed").is_file()
    assert set(reslint.__all__) >= {"check_source", "check_paths", "Finding", "ConfigError"}
    with pytest.raises(AttributeError):
        reslint.no_such_thing  # noqa: B018
