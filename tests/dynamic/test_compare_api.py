"""`reslint.compare(model, arch)`: an nn.Module in memory, compared in this process; the result has the
JSON fields as attributes and renders in a terminal and in Jupyter; the model is left as it was."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from conftest import NO_TORCH

torch = pytest.importorskip("torch", reason=NO_TORCH)

import reslint  # noqa: E402

MODELS = Path(__file__).resolve().parents[2] / "fixtures" / "models"
sys.path.insert(0, str(MODELS))

from bug_resnet18_semantics import relu_before_add  # noqa: E402
from cifar_resnet import resnet20  # noqa: E402


@pytest.fixture(scope="module")
def matching() -> tuple[torch.nn.Module, dict, object]:
    torch.set_num_threads(1)
    model = resnet20().train()
    before = {key: value.clone() for key, value in model.state_dict().items()}
    return model, before, reslint.compare(model, "resnet20")


def test_importing_reslint_imports_no_torch() -> None:
    code = "import sys, reslint; print('torch' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip() == "False", done.stderr


def test_the_result_has_the_json_fields_as_attributes(matching) -> None:
    _, _, result = matching
    assert result.verdict == "matches" and result.arch == "resnet20"
    assert result.parameters == {"model": 269_722, "reference": 269_722}
    assert result.equivalence["status"] == "matches"
    assert result.to_dict()["verdict"] == "matches" and "layers" in dir(result)
    with pytest.raises(AttributeError):
        result.no_such_field  # noqa: B018


def test_the_model_is_left_as_it_was(matching) -> None:
    model, before, _ = matching
    assert model.training  # not switched to eval
    assert all(torch.equal(before[key], value) for key, value in model.state_dict().items())
    assert all(not param.is_meta for param in model.parameters())


def test_it_renders_in_jupyter_and_with_rich(matching) -> None:
    from rich.console import Console

    _, _, result = matching
    bundle = result._repr_mimebundle_()
    assert "matches resnet20" in bundle["text/plain"]
    assert (
        bundle["text/html"].lstrip().startswith("<!DOCTYPE html>")
        and "resnet20" in bundle["text/html"]
    )
    console = Console(record=True, width=100, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(result)
    assert "matches resnet20" in console.export_text()


def test_a_semantic_bug_is_found_in_memory_too() -> None:
    result = reslint.compare(relu_before_add(), "resnet18")
    assert result.verdict == "differs"
    finding = next(f for f in result.findings if f["code"] == "RD109")
    assert "activation before the addition" in finding["message"]
    assert finding["path"].endswith("bug_resnet18_semantics.py")


def test_what_is_not_a_model_is_a_clear_error() -> None:
    with pytest.raises(TypeError, match="nn.Module"):
        reslint.compare("resnet20.py", "resnet20")  # type: ignore[arg-type]
    assert reslint.compare(resnet20(), "resnet21").verdict == "error"
