"""Execution modes and recording: meta without torch._dynamo, weightless CPU parameters, failing layers."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from conftest import NO_TORCH

torch = pytest.importorskip("torch", reason=NO_TORCH)
nn = torch.nn

from reslint.dynamic import tracing  # noqa: E402
from reslint.dynamic.zoo import build_reference  # noqa: E402


def run_fresh(code: str) -> str:
    """Run in a new interpreter: whether torch._dynamo gets imported depends on the whole process."""
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_meta_forwards_do_not_import_dynamo_but_a_model_that_needs_it_gets_it() -> None:
    out = run_fresh("""
        import sys, torch
        from reslint.dynamic import tracing
        from reslint.dynamic.zoo import build_reference
        with torch.device("meta"), tracing.no_meta_initialisation():
            model = build_reference("resnet18").eval()
            torch.nn.init.kaiming_normal_(model.conv1.weight)  # what imported torch._dynamo before
        print(tracing.run(model, (2, 3, 64, 48), "meta").shape, "torch._dynamo" in sys.modules)

        class Compiles(torch.nn.Module):
            def forward(self, x):
                torch._dynamo.config.verbose  # anything but disable() loads the real module
                return x + 1

        print(tracing.run(Compiles(), (1, 3, 4, 4), "meta").shape, "torch._dynamo" in sys.modules)
    """)
    assert out.splitlines() == ["(2, 1000) False", "(1, 3, 4, 4) True"]


def test_initialisers_are_restored_after_building_on_meta() -> None:
    before = (nn.init.kaiming_normal_, torch.Tensor.normal_)
    with torch.device("meta"), tracing.no_meta_initialisation():
        nn.Conv2d(3, 8, 3).weight.normal_()
    assert (nn.init.kaiming_normal_, torch.Tensor.normal_) == before
    weight = torch.empty(4, 4)
    with tracing.no_meta_initialisation():
        nn.init.constant_(weight, 3.0)  # real tensors are still initialised
    assert torch.all(weight == 3.0)


def test_lite_parameters_cost_no_memory_and_keep_sharing() -> None:
    with torch.device("meta"):
        model = nn.Sequential(nn.Linear(512, 512), nn.ReLU(), nn.Linear(512, 512))
    model[2].weight = model[0].weight  # tied weights count once
    before = tracing.count_parameters(model)
    tracing.to_lite(model)
    assert tracing.count_parameters(model) == before == 512 * 512 + 2 * 512
    assert model[0].weight is model[2].weight and model[0].weight.stride() == (0, 0)
    assert tracing.run(model, (3, 512), "lite").shape == (3, 512)


def test_meta_batch_norm_checks_channels_like_the_kernel() -> None:
    with torch.device("meta"):
        model = nn.Sequential(nn.Conv2d(3, 64, 1), nn.BatchNorm2d(256))
    outcome = tracing.run(model, (1, 3, 8, 8), "meta")
    assert not outcome.ok and "running_mean should contain 64 elements not 256" in outcome.error


def test_trace_records_every_leaf_and_the_layer_that_raised() -> None:
    with torch.device("meta"):
        model = build_reference("resnet18").eval()
        model.fc = nn.Linear(2048, 1000)  # a classifier for a bottleneck net on a basic-block net
    trace = tracing.trace(model, (2, 3, 224, 224), "meta")
    assert not trace.ok and trace.failed_in == "fc" and trace.error.startswith("RuntimeError")
    assert trace.calls[0].name == "conv1" and trace.calls[0].shape == (2, 64, 112, 112)
    assert trace.calls[0].params == 3 * 64 * 49
    last = trace.calls[-1]
    assert last.name == "fc" and last.raised and last.input_shape == (2, 512) and last.shape is None
    assert "layer4.1" in {block.name for block in trace.blocks}
