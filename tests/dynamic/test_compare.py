"""The comparison end to end on small models (CIFAR-sized, so the CPU runs cheaply) and two ImageNet ones."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import NO_TORCH

pytest.importorskip("torch", reason=NO_TORCH)

from reslint.dynamic.cli import compare_result, exit_code  # noqa: E402

SAMPLES = Path(__file__).parent / "samples"
REPO = Path(__file__).resolve().parents[2]

CIFAR_WITH = """
import torch
import torch.nn as nn
import torch.nn.functional as F
from cifar_styles import ResNetCifar


class Checked(ResNetCifar):
    \"\"\"akamaster's resnet20 with adaptive pooling, plus a size check of the kind users write.\"\"\"

    def forward(self, x):
        {check}
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer3(self.layer2(self.layer1(out)))
        {pool}
        return self.linear(torch.flatten(out, 1))
"""


def cifar_variant(
    tmp_path: Path, check: str = "pass", pool: str = "out = F.adaptive_avg_pool2d(out, 1)"
) -> str:
    path = tmp_path / "variant.py"
    path.write_text(CIFAR_WITH.replace("{check}", check).replace("{pool}", pool))
    return f"{path}:Checked"


def run(arch: str, target: str, **init: object) -> dict:
    return compare_result(arch, target, dict(init), 300.0)


def codes(result: dict) -> list[str]:
    return [finding["code"] for finding in result["findings"]]


@pytest.fixture(autouse=True)
def _samples_importable(monkeypatch: pytest.MonkeyPatch) -> None:
    """The variants import cifar_styles; the worker inherits PYTHONPATH (the parent never imports them)."""
    monkeypatch.setenv("PYTHONPATH", str(SAMPLES))


def test_other_names_and_module_list_stages_still_match() -> None:
    result = run("resnet20", f"{SAMPLES}/cifar_styles.py:StagedNet")
    assert result["verdict"] == "matches" and exit_code(result) == 0, result["findings"]
    stages = {s["stage"]: (s["model_name"], s["model"], s["reference"]) for s in result["stages"]}
    assert stages["layer1"] == ("stages.0", 14016, 14016)
    assert stages["layer3"] == ("stages.2", 203520, 203520)
    assert result["parameters"] == {"model": 269722, "reference": 269722}
    assert not any(row["differs"] for row in result["layers"])
    assert not result["state_dict"]["loads"] and "stem.0.weight" in result["state_dict"]["missing"]
    assert codes(result) == ["RD105"]


def test_conv_bias_is_one_finding_over_the_stages() -> None:
    result = run("resnet20", f"{SAMPLES}/cifar_styles.py:resnet20", bias=True)
    assert result["verdict"] == "differs" and exit_code(result) == 1
    messages = [f["message"] for f in result["findings"] if f["code"] == "RD102"]
    assert messages == [
        "param count differs by +672 in layer1–layer3: every block conv has bias=True"
    ]
    assert {s["stage"]: s["difference"] for s in result["stages"]} == {
        "stem": 0,
        "layer1": 96,
        "layer2": 192,
        "layer3": 384,
        "head": 0,
    }


def test_a_deeper_reference_names_the_missing_blocks() -> None:
    result = run("resnet32", f"{SAMPLES}/cifar_styles.py:resnet20")
    assert result["verdict"] == "differs"
    assert result["parameters"] == {"model": 269722, "reference": 464154}
    assert "layer1.3" in json.dumps(result["state_dict"]["unexpected"])


@pytest.mark.parametrize(
    ("check", "minimal"),
    [
        ("if x.shape[-2] > 40: raise RuntimeError('input too tall')", [1, 3, 41, 1]),
        ("if x.shape[-1] > 50: raise RuntimeError('input too wide')", [1, 3, 1, 51]),
        ("if x.shape[-2] % 2 and x.shape[-2] >= 9: raise RuntimeError('odd')", [1, 3, 9, 1]),
        ("if x.shape[0] > 1: raise RuntimeError('one at a time')", [2, 3, 1, 1]),
    ],
)
def test_the_failing_input_is_shrunk_to_the_minimum(
    tmp_path: Path, check: str, minimal: list[int]
) -> None:
    result = run("resnet20", cifar_variant(tmp_path, check))
    assert result["failing_input"] == minimal, result["findings"]
    failing = [f for f in result["findings"] if f["code"] == "RD103"]
    assert failing and failing[0]["message"].startswith(
        f"fails for inputs {'x'.join(map(str, minimal))} (reference works)"
    )
    assert failing[0]["line"] == 12  # the raising line in forward


def test_fixed_pooling_valid_range_is_exact(tmp_path: Path) -> None:
    """avg_pool2d(out, 8) before the classifier: layer3's map ceil(s/4) must be 8..15, i.e. s in 29..60."""
    result = run("resnet20", cifar_variant(tmp_path, pool="out = F.avg_pool2d(out, 8)"))
    assert result["verdict"] == "differs" and result["failing_input"] == [1, 3, 1, 1]
    valid = result["valid_input_range"]
    assert result["analysis"] == "symbolic" and valid["method"] == "symbolic"
    assert valid["height"] == [29, 60] and valid["width"] == [29, 60]
    assert valid["exact"] == {"height": [True, True], "width": [True, True]}
    hint = next(f["hint"] for f in result["findings"] if f["code"] == "RD103")
    assert "29..60" in hint and "adaptive" in hint


def test_sampled_analysis_when_asked(tmp_path: Path) -> None:
    target = cifar_variant(tmp_path, pool="out = F.avg_pool2d(out, 8)")
    result = compare_result("resnet20", target, {}, 300.0, analysis="sampled")
    assert result["analysis"] == "sampled" and result["valid_input_range"]["method"] == "sampled"
    assert result["valid_input_range"]["height"] == [29, 60]


def test_bottleneck_that_never_expands_is_located_in_layer1() -> None:
    result = run("resnet50", f"{SAMPLES}/tv_style.py:resnet50", bug="no_expand")
    assert result["verdict"] == "differs" and result["mode"] == "meta"
    shape = next(f for f in result["findings"] if f["code"] == "RD101")
    expected = (
        "layer1.0 outputs [N, 64, 56, 56], reference [N, 256, 56, 56]: conv3 does not expand by 4"
    )
    assert shape["message"] == expected
    source = (SAMPLES / "tv_style.py").read_text().splitlines()
    assert source[shape["line"] - 1].strip().startswith("self.conv3 =")


def test_correct_imagenet_model_matches_with_pretrained_layout() -> None:
    result = run("resnet18", f"{SAMPLES}/tv_style.py:resnet18")
    assert result["verdict"] == "matches", result["findings"]
    assert result["state_dict"] == {
        "loads": True,
        "missing": [],
        "unexpected": [],
        "mismatched": [],
    }
    assert result["output_shape"] == {"model": [1, 1000], "reference": [1, 1000]}


def test_json_contract_through_the_command_line() -> None:
    target = "tests/dynamic/samples/tv_style.py:resnet18"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "reslint",
            "--compare-to",
            "resnet18",
            target,
            "--format",
            "json",
            "--init",
            '{"bug": "maxpool_unused"}',
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
    )
    assert done.returncode == 1, done.stderr
    report = json.loads(done.stdout)
    assert {
        "verdict",
        "parameters",
        "findings",
        "layers",
        "failing_input",
        "analysis",
        "valid_input_range",
        "state_dict",
        "stages",
        "input_domain",
        "inputs_tried",
    } <= set(report)
    assert report["verdict"] == "differs" and report["failing_input"] is None
    assert report["parameters"] == {"model": 11689512, "reference": 11689512}
    assert set(report["state_dict"]) == {"loads", "missing", "unexpected", "mismatched"}
    finding_keys = {
        "path",
        "line",
        "column",
        "end_line",
        "end_column",
        "code",
        "severity",
        "message",
        "hint",
    }
    assert all(set(f) == finding_keys for f in report["findings"])
    assert {f["code"] for f in report["findings"]} == {"RD101", "RD106"}
    row = next(
        r for r in report["layers"] if r["reference"] and r["reference"]["name"] == "maxpool"
    )
    assert row["model"] is None and row["differs"] and row["stage"] == "stem"
    assert set(row["reference"]) == {"name", "type", "shape", "params", "raised"}


def test_text_output_shows_the_table_subtotals_and_findings() -> None:
    target = "tests/dynamic/samples/cifar_styles.py:resnet20"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "reslint",
            "--compare-to",
            "resnet20",
            target,
            "--init",
            '{"bias": true}',
            "--no-color",
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
    )
    assert done.returncode == 1
    out = done.stdout
    assert "model layer" in out and "reference layer" in out and "layer2 subtotal" in out
    assert "✗" in out and "RD102 [error] param count differs by +672" in out
    assert "\x1b[" not in out and "reslint-progress" not in done.stderr
    assert (
        out.rstrip()
        .splitlines()[-1]
        .startswith("tests/dynamic/samples/cifar_styles.py:resnet20 differs from")
    )


def test_list_references_needs_no_torch() -> None:
    code = (
        "import sys; from reslint.dynamic.cli import list_references; list_references('json');"
        "sys.stderr.write(str('torch' in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    names = [entry["name"] for entry in json.loads(done.stdout)]
    assert names[:3] == ["resnet18", "resnet34", "resnet50"] and "resnet110" in names
    assert done.stderr.strip().endswith("False")
