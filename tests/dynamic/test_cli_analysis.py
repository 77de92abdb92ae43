"""`--analysis` reaches the dynamic pass: symbolic proves a range, sampled never traces."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
TARGET = f"{REPO / 'fixtures' / 'models' / 'cifar_resnet.py'}:resnet20"


@pytest.mark.parametrize("analysis", ["symbolic", "sampled"])
def test_analysis_flag_chooses_how_input_sizes_are_explored(analysis: str) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "reslint",
            "--compare-to",
            "resnet20",
            TARGET,
            "--analysis",
            analysis,
            "--format",
            "json",
            "--timeout",
            "600",
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    report = json.loads(result.stdout)
    assert (result.returncode, report["verdict"], report["analysis"]) == (0, "matches", analysis)
    if analysis == "symbolic":
        assert report["valid_input_range"]["method"] == "symbolic"
        assert report["valid_input_range"]["output_agrees"] is True
