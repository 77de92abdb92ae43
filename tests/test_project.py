"""The real command on a real-looking project: a git repository with a conda environment, a virtual
environment, vendored code, a .gitignore'd folder and a pyproject.toml, as `reslint .` meets them."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

BUG = "import torch.nn as nn\n\nlayer = nn.conv2d(3, 64, 3)\n"  # RN105 on line 3
BUG_LINE = 3


def write(root: Path, relative: str, text: str = BUG) -> Path:
    path = root / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """models/ holds the project's code; everything else holds buggy files that must not be linted."""
    root = tmp_path / "project"
    root.mkdir()
    subprocess.run(["git", "init", "-q", str(root)], check=True)
    write(root, "models/resnet.py")
    write(root, "models/blocks/basic.py", "x = 1\n")
    write(root, "train.py", "import models\n")
    write(root, "envs/torch/conda-meta/history", "==> 2024-01-01 <==\n")
    write(root, "envs/torch/lib/python3.11/site-packages/torchvision/models/resnet.py")
    write(root, "py311/pyvenv.cfg", "home = /usr/bin\n")
    write(root, "py311/lib/python3.11/site-packages/pkg/mod.py")
    write(root, ".venv/lib/mod.py")
    write(root, "third_party/timm/resnet.py")
    write(root, "wandb/run-1/files/code/models/resnet.py")
    write(root, "outputs/copy.py")
    write(root, ".gitignore", "wandb/\n/outputs\n")
    write(
        root,
        "pyproject.toml",
        '[project]\nname = "demo"\n\n[tool.reslint]\nextend-exclude = ["third_party/"]\n',
    )
    return root


def lint(run_reslint, project: Path, *args: str) -> tuple[int, list[tuple[str, int, str]], str]:
    """Exit code, (path, line, code) of each finding, stderr, for `reslint --format json ARGS` in `project`."""
    result = run_reslint("--format", "json", *args, cwd=project)
    findings = json.loads(result.stdout) if result.stdout.strip() else []
    return (
        result.returncode,
        [(Path(f["path"]).as_posix(), f["line"], f["code"]) for f in findings],
        result.stderr,
    )


def test_a_project_root_lints_only_the_projects_files(run_reslint, project):
    code, findings, _ = lint(run_reslint, project, ".")
    assert (code, findings) == (1, [("models/resnet.py", BUG_LINE, "RN105")])


def test_paths_are_shown_as_given(run_reslint, project):
    _, findings, _ = lint(run_reslint, project / "models", ".")
    assert findings == [("resnet.py", BUG_LINE, "RN105")]


def test_a_file_named_explicitly_is_linted_even_if_excluded_but_not_with_force_exclude(
    run_reslint, project
):
    for ignored in ("wandb/run-1/files/code/models/resnet.py", "third_party/timm/resnet.py"):
        assert lint(run_reslint, project, ignored)[:2] == (1, [(ignored, BUG_LINE, "RN105")])
        code, findings, _ = lint(run_reslint, project, "--force-exclude", ignored)
        assert (code, findings) == (0, [])


def test_force_exclude_skips_files_inside_an_environment(run_reslint, project):
    inside = "envs/torch/lib/python3.11/site-packages/torchvision/models/resnet.py"
    assert lint(run_reslint, project, "--force-exclude", inside, "models/resnet.py")[1] == [
        ("models/resnet.py", BUG_LINE, "RN105")
    ]


def test_a_folder_named_explicitly_is_searched_even_if_excluded(run_reslint, project):
    _, findings, _ = lint(run_reslint, project, "wandb")
    assert findings == [("wandb/run-1/files/code/models/resnet.py", BUG_LINE, "RN105")]


def test_gitignore_can_be_disregarded(run_reslint, project):
    _, findings, _ = lint(run_reslint, project, "--no-respect-gitignore", ".")
    assert {path for path, _, _ in findings} == {
        "models/resnet.py",
        "outputs/copy.py",
        "wandb/run-1/files/code/models/resnet.py",
    }


def test_nested_gitignore_files_and_negation(run_reslint, project):
    write(project, "models/.gitignore", "*.py\n!keep.py\n")
    write(project, "models/keep.py")
    _, findings, _ = lint(run_reslint, project, ".")
    assert findings == [("models/keep.py", BUG_LINE, "RN105")]


def test_exclude_replaces_the_defaults(run_reslint, project):
    write(project, "build/generated.py")
    assert lint(run_reslint, project, ".")[1] == [("models/resnet.py", BUG_LINE, "RN105")]
    _, findings, _ = lint(run_reslint, project, "--exclude", "models/", ".")
    # .venv/ (no pyvenv.cfg in it) was a default exclude; the config's extend-exclude still applies,
    # and folders that hold an environment are never searched.
    assert {path for path, _, _ in findings} == {"build/generated.py", ".venv/lib/mod.py"}


def test_symbolic_links_are_not_followed(run_reslint, project, tmp_path):
    outside = write(tmp_path, "elsewhere/pkg/model.py")
    os.symlink(outside.parent, project / "models" / "linked_folder")
    os.symlink(outside, project / "models" / "linked_file.py")
    os.symlink(project / "models" / "resnet.py", project / "models" / "alias.py")
    _, findings, _ = lint(run_reslint, project, ".")
    assert findings == [("models/resnet.py", BUG_LINE, "RN105")]  # the alias is found as itself


def test_a_fifo_found_in_a_folder_is_skipped_and_one_named_is_a_finding(run_reslint, project):
    os.mkfifo(project / "models" / "pipe.py")
    assert lint(run_reslint, project, ".")[:2] == (1, [("models/resnet.py", BUG_LINE, "RN105")])
    code, findings, _ = lint(run_reslint, project, "models/pipe.py", "models/resnet.py")
    assert (code, findings) == (
        1,
        [("models/pipe.py", 1, "RN002"), ("models/resnet.py", BUG_LINE, "RN105")],
    )


@pytest.mark.parametrize(
    "relative", [".gitignore", ".git/info/exclude", "models/.gitignore", "models/pyproject.toml"]
)
@pytest.mark.parametrize("stand_in", ["fifo", "/dev/zero"])
def test_an_ignore_or_config_file_that_is_a_fifo_or_a_device_is_passed_over(
    run_reslint, project, relative, stand_in
):
    """A repository can hold a symlink to /dev/zero where reslint looks for patterns or settings (and a
    FIFO can sit anywhere): reading it would never end, or wait for a writer forever."""
    path = project / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    os.mkfifo(path) if stand_in == "fifo" else path.symlink_to(stand_in)
    code, findings, err = lint(run_reslint, project, ".")
    assert (code, err) == (1, "")
    assert ("models/resnet.py", BUG_LINE, "RN105") in findings


@pytest.mark.parametrize(("stand_in", "kind"), [("fifo", "named pipe"), ("/dev/zero", "device")])
def test_a_config_named_on_the_command_line_that_is_a_fifo_or_a_device_is_an_error(
    run_reslint, project, stand_in, kind
):
    path = project / "settings.toml"
    os.mkfifo(path) if stand_in == "fifo" else path.symlink_to(stand_in)
    code, findings, err = lint(run_reslint, project, "--config", "settings.toml", ".")
    assert (code, findings) == (2, [])
    assert err.startswith("reslint: error: ") and "settings.toml: cannot read: it is a" in err
    assert kind in err and "not a regular file" in err


# ----------------------------------------------------------------------------------------------------------
# Configuration


def configure(project: Path, body: str, name: str = "pyproject.toml") -> None:
    table = '[project]\nname = "demo"\n\n[tool.reslint]\n' if name == "pyproject.toml" else ""
    write(project, name, table + 'extend-exclude = ["third_party/"]\n' + body)


def test_select_and_ignore_in_the_config_and_flags_override_them(run_reslint, project):
    write(
        project,
        "models/head.py",
        "import torch.nn as nn\n\nclass Head(nn.Module):\n    def forward(self, x):\n        print(x.shape)\n        return x\n",
    )
    configure(project, 'ignore = ["RN105"]\n')
    assert lint(run_reslint, project, ".")[1] == [("models/head.py", 5, "RN109")]
    assert lint(run_reslint, project, "--select", "RN105", ".")[1] == [
        ("models/resnet.py", BUG_LINE, "RN105")
    ]
    assert lint(run_reslint, project, "--ignore", "RN109", ".")[:2] == (0, [])


def test_per_file_ignores(run_reslint, project):
    write(project, "tests/test_model.py")
    configure(
        project, '[tool.reslint.per-file-ignores]\n"tests/*" = ["RN1"]\n"resnet.py" = ["RN105"]\n'
    )
    code, findings, _ = lint(run_reslint, project, ".")
    assert (code, findings) == (0, [])


def test_the_nearest_config_walking_up_from_the_files_applies(run_reslint, project):
    configure(project, 'ignore = ["RN105"]\n', name="reslint.toml")
    write(project, "models/sub/model.py")
    write(project, "models/sub/reslint.toml", 'select = []\nextend-select = ["RN105"]\n')
    assert lint(run_reslint, project, ".")[1] == [("models/sub/model.py", BUG_LINE, "RN105")]
    # From inside a subfolder: the config of the project root is found walking up.
    assert lint(run_reslint, project / "models", "resnet.py")[:2] == (0, [])


def test_reslint_toml_wins_over_pyproject_in_the_same_folder(run_reslint, project):
    configure(project, 'select = ["RN2"]\n', name="reslint.toml")
    assert lint(run_reslint, project, ".")[:2] == (0, [])


def test_config_flag_names_the_file(run_reslint, project, tmp_path):
    config = write(tmp_path, "strict.toml", 'ignore = ["RN1"]\n')
    assert lint(run_reslint, project, "--config", str(config), ".")[:2] == (0, [])


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('selct = ["RN1"]\n', "unknown key `selct`"),
        ('select = "RN1"\n', "`select` must be a list of strings"),
        ('select = ["RN9"]\n', "unknown rule code or prefix: RN9"),
        ("respect-gitignore = 1\n", "`respect-gitignore` must be true or false"),
        ('per-file-ignores = ["x"]\n', "`per-file-ignores` must be a table"),
        ('exclude = ["!"]\n', "bad pattern '!'"),
        ("select = [\n", "not valid TOML"),
    ],
)
def test_a_bad_config_is_a_clear_error_exit_2(run_reslint, project, body, message):
    configure(project, body)
    result = run_reslint(".", cwd=project)
    assert result.returncode == 2
    assert message in result.stderr and "pyproject.toml" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_a_pyproject_without_a_reslint_table_is_passed_over(run_reslint, project):
    write(project, "models/pyproject.toml", '[project]\nname = "inner"\n')
    write(project, "pyproject.toml", '[tool.reslint]\nignore = ["RN105"]\n')
    assert lint(run_reslint, project, "models")[:2] == (0, [])


@pytest.mark.parametrize(
    ("text", "configures"),
    [
        ('[project]\ndependencies = ["reslint>=0.1"]\n', False),
        ("[tool.ruff]\n# reslint runs before ruff\n", False),
        ('[tool.reslint]\nselect = ["RN1"]\n', True),
        ('[ tool . reslint . per-file-ignores ]\n"a.py" = ["RN1"]\n', True),
        ('tool.reslint.select = ["RN1"]\n', True),
        ('[tool]\nreslint = { select = ["RN1"] }\n', True),
    ],
)
def test_only_a_pyproject_that_may_configure_reslint_is_parsed(
    tmp_path, monkeypatch, text, configures
):
    from reslint import settings

    path = tmp_path / "pyproject.toml"
    path.write_text(text, encoding="utf-8")
    parsed: list[str] = []
    read_toml = settings._read_toml
    monkeypatch.setattr(settings, "_read_toml", lambda path: parsed.append(path) or read_toml(path))
    assert settings._has_reslint_table(str(path)) is configures
    assert bool(parsed) is configures  # one naming reslint as a dependency is not even parsed


def test_a_missing_path_exits_2_and_never_says_passed(run_reslint, project):
    result = run_reslint("models/resnet.py", "nonexistent.py", cwd=project)
    assert result.returncode == 2
    assert "no such file or directory: nonexistent.py" in result.stderr
    assert "RN105" in result.stdout and "passed" not in result.stdout
    only_missing = run_reslint("nonexistent.py", cwd=project)
    assert only_missing.returncode == 2 and "passed" not in only_missing.stdout


def test_unused_noqa_is_selected_in_the_config_and_file_level_noqa_silences_a_file(
    run_reslint, project
):
    write(project, "models/old.py", BUG.replace("3)\n", "3)  # noqa: RN105, RN203\n"))
    write(project, "models/resnet.py", "# reslint: noqa\n" + BUG)
    configure(project, 'extend-select = ["RN005"]\n')
    code, findings, _ = lint(run_reslint, project, ".")
    assert (code, findings) == (1, [("models/old.py", BUG_LINE, "RN005")])
