"""Isolation: the user's model runs in a child process; whatever it does becomes a finding, never a
traceback or a hang, and the parent never imports torch or the user's code."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

pytest.importorskip("torch", reason="the dynamic pass needs torch (pip install 'reslint[dynamic]')")

from reslint.dynamic.cli import compare_result, exit_code  # noqa: E402

HEADER = "import os, sys, time\nimport torch\nimport torch.nn as nn\n"
TINY = """
class Tiny(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, padding=1, bias=False)
        self.fc = nn.Linear(16, num_classes)

    def forward(self, x):
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(self.conv1(x), 1), 1))
"""


def model_file(tmp_path: Path, body: str, name: str = "model.py") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + textwrap.dedent(body))
    return path


def compare(
    path: Path, name: str, init: dict | None = None, timeout: float = 120.0, **options
) -> dict:
    return compare_result("resnet20", f"{path}:{name}", init or {}, timeout, **options)


def only_finding(result: dict) -> dict:
    assert result["verdict"] == "error" and exit_code(result) == 2, result
    assert len(result["findings"]) == 1, result["findings"]
    return result["findings"][0]


def test_constructor_arguments_are_named(tmp_path: Path) -> None:
    path = model_file(
        tmp_path,
        """
        class Net(nn.Module):
            def __init__(self, depth, width, num_classes=10):
                super().__init__()
    """,
    )
    finding = only_finding(compare(path, "Net"))
    assert finding["code"] == "RD003" and finding["line"] == 5
    assert "depth, width" in finding["message"] and "--init" in finding["hint"]
    assert "num_classes" not in finding["message"].split("(")[0]


def test_a_model_raising_in_init_is_reported_at_the_raising_line(tmp_path: Path) -> None:
    path = model_file(
        tmp_path,
        """
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3)
                raise KeyError("no such config")
    """,
    )
    finding = only_finding(compare(path, "Net"))
    assert finding["code"] == "RD004" and finding["line"] == 9
    assert "KeyError" in finding["message"] and "no such config" in finding["message"]


def test_import_errors_name_the_line(tmp_path: Path) -> None:
    path = model_file(tmp_path, "from missing_blocks_module import Block\n")
    finding = only_finding(compare(path, "Net"))
    assert (
        finding["code"] == "RD002"
        and finding["line"] == 4
        and "missing_blocks_module" in finding["message"]
    )
    broken = model_file(tmp_path, "def f(:\n    pass\n", "broken.py")
    assert only_finding(compare(broken, "f"))["code"] == "RD002"


def test_bad_targets(tmp_path: Path) -> None:
    path = model_file(tmp_path, TINY + "\nCONSTANT = 3\n\nclass NotAModel:\n    pass\n")
    missing = only_finding(compare(path, "Nope"))
    assert missing["code"] == "RD001" and "Tiny" in missing["hint"]
    assert only_finding(compare(path, "CONSTANT"))["code"] == "RD009"
    assert only_finding(compare(path, "NotAModel"))["code"] == "RD009"
    assert only_finding(compare(tmp_path / "absent.py", "Net"))["code"] == "RD001"
    assert only_finding(compare_result("resnet21", f"{path}:Tiny", {}, 60))["code"] == "RD001"


def test_a_hanging_model_and_everything_it_started_are_killed(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    path = model_file(
        tmp_path,
        TINY
        + f"""
class Hangs(Tiny):
    def forward(self, x):
        import subprocess
        child = subprocess.Popen(["sleep", "300"])
        open({str(pid_file)!r}, "w").write(str(child.pid))
        while True:
            time.sleep(1)
""",
    )
    finding = only_finding(compare(path, "Hangs", timeout=20))
    assert (
        finding["code"] == "RD006"
        and "20 s" in finding["message"]
        and "forward" in finding["message"]
    )
    assert Path(finding["path"]).resolve() == path.resolve() and finding["line"] > 1
    pid = int(pid_file.read_text())
    for _ in range(50):  # the group was SIGKILLed; give the kernel a moment to reap
        if not _alive(pid):
            break
        time.sleep(0.1)
    assert not _alive(pid), "the model's own child process outlived the comparison"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/status")
    return not (status.exists() and "zombie" in status.read_text())


def test_a_memory_hog_hits_the_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESLINT_MEMORY_LIMIT", "1G")
    path = model_file(
        tmp_path,
        TINY
        + """
class Hog(Tiny):
    def forward(self, x):
        hoard = [torch.ones(2**27) for _ in range(64)]  # 32 GiB in 512 MiB pieces
        return super().forward(x)
""",
    )
    finding = only_finding(compare(path, "Hog"))
    assert finding["code"] == "RD007" and "memory" in finding["message"]


def test_prints_stay_out_of_the_json_and_torch_out_of_the_parent(tmp_path: Path) -> None:
    path = model_file(
        tmp_path,
        TINY
        + """
print("importing the model")

class Chatty(Tiny):
    def forward(self, x):
        print("shape", x.shape)
        os.write(1, b"raw bytes on fd 1\\n")
        return super().forward(x)
""",
    )
    script = (
        "import sys, json\n"
        "from reslint.dynamic.cli import run_compare\n"
        f"code = run_compare('resnet20', {str(path) + ':Chatty'!r}, {{}}, 120, 'json', True)\n"
        "sys.stderr.write(json.dumps({'torch': 'torch' in sys.modules, 'model': 'model' in sys.modules,"
        " 'code': code}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300, cwd=tmp_path
    )
    report = json.loads(done.stdout)  # exactly one JSON object on stdout
    assert report["verdict"] in ("matches", "differs")
    facts = json.loads(done.stderr.strip().splitlines()[-1])
    assert facts == {"torch": False, "model": False, "code": 1}
    assert not (tmp_path / ".hypothesis").exists()


def test_importing_the_cli_entry_points_imports_no_torch() -> None:
    code = "import sys, reslint.dynamic.cli; print('torch' in sys.modules, 'hypothesis' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.split() == ["False", "False"]


def test_a_python_error_in_forward_cannot_be_compared(tmp_path: Path) -> None:
    path = model_file(
        tmp_path,
        TINY
        + """
class Forgetful(Tiny):
    def forward(self, x):
        if downsample is not None:
            x = x
        return super().forward(x)
""",
    )
    finding = only_finding(compare(path, "Forgetful"))
    assert (
        finding["code"] == "RD005"
        and "NameError" in finding["message"]
        and "downsample" in finding["message"]
    )


def test_forward_that_needs_real_data_falls_back_from_meta(tmp_path: Path) -> None:
    """ResNet-18 is compared on the meta device; .item() cannot run there, so the model is rebuilt on the CPU."""
    samples = Path(__file__).parent / "samples"
    path = model_file(
        tmp_path,
        f"""
sys.path.insert(0, {str(samples)!r})
from tv_style import ResNet, BasicBlock

class DataDependent(ResNet):
    def __init__(self):
        super().__init__(BasicBlock, [2, 2, 2, 2])

    def forward(self, x):
        if x.abs().sum().item() >= 0:  # data-dependent: impossible on meta tensors
            return super().forward(x)
        return x
""",
    )
    result = compare_result("resnet18", f"{path}:DataDependent", {}, 300.0)
    assert result["verdict"] == "matches" and result["mode"] == "real", result["findings"]
