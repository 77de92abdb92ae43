"""reslint.knowledge against the installed torch: the generated names and signatures are what torch has,
the curated literal choices are what torch accepts, and the package never imports torch itself."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from reslint.knowledge import generate
from reslint.knowledge.choices import IGNORES_CASE, LITERAL_CHOICES, accepts
from reslint.knowledge.frameworks import builder_for, is_registry_build
from reslint.knowledge.layers import (
    CHANNEL_PRESERVING,
    LAYER_KINDS,
    TENSOR_METHODS,
    TORCH_FUNCTIONS,
    TORCH_LAYERS,
    LayerKind,
)
from reslint.knowledge.names import NAMES, is_listed_completely, names_in
from reslint.knowledge.signatures import SIGNATURES, Signature, signature
from reslint.knowledge.spelling import did_you_mean

TORCH_MISSING = (
    "torch is not installed (install the 'dynamic' extra to check reslint.knowledge against it)"
)
needs_torch = pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason=TORCH_MISSING)

# ----- generated tables ------------------------------------------------------------------------


@needs_torch
def test_names_match_installed_torch() -> None:
    installed = generate.collect_names()["NAMESPACES"]
    assert set(NAMES) == set(installed), (
        "namespaces differ: run `python -m reslint.knowledge.generate`"
    )
    for namespace, names in installed.items():
        committed = names_in(namespace)
        assert committed == names, (
            f"{namespace} is stale: missing {sorted(names - committed)[:20]}, "
            f"gone {sorted(committed - names)[:20]}; run `python -m reslint.knowledge.generate`"
        )


@needs_torch
def test_signatures_match_installed_torch() -> None:
    installed = generate.collect_signatures()
    stale = {
        name
        for name in installed.keys() | SIGNATURES.keys()
        if installed.get(name) != SIGNATURES.get(name)
    }
    assert not stale, (
        f"stale signatures {sorted(stale)[:20]}: run `python -m reslint.knowledge.generate`"
    )


@needs_torch
def test_generated_blocks_are_what_the_generator_writes() -> None:
    for path, block in generate.generated_blocks().items():
        assert block in path.read_text(encoding="utf-8"), f"{path.name}: run the generator"


def test_importing_the_knowledge_does_not_import_torch() -> None:
    modules = [
        f"reslint.knowledge.{path.stem}"
        for path in Path(generate.__file__).parent.glob("*.py")
        if path.stem not in ("__init__", "generate")
    ]
    probe = f"import sys, {', '.join(modules)}; print('torch' in sys.modules)"
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_names_hold_public_and_private_torch_names() -> None:
    assert {
        "Conv2d",
        "BatchNorm2d",
        "Sequential",
        "functional",
        "init",
        "utils",
        "modules",
    } <= names_in("torch.nn")
    assert {"kaiming_normal_", "_calculate_fan_in_and_fan_out"} <= names_in("torch.nn.init")
    assert {"relu", "adaptive_avg_pool2d", "_verify_batch_size"} <= names_in("torch.nn.functional")
    assert {"_BatchNorm", "_NormBase"} <= names_in("torch.nn.modules.batchnorm")
    assert {"_ConvNd"} <= names_in("torch.nn.modules.conv")
    assert {"load_state_dict", "state_dict", "training", "_modules"} <= names_in("torch.nn.Module")
    assert {"view", "relu_", "shape"} <= names_in("torch.Tensor")
    assert "load_state_dict_from_url" in names_in("torch.hub")
    assert names_in("torch.nowhere") is None


def test_a_module_with_getattr_is_not_listed_completely() -> None:
    # torch answers `torch.has_cuda` and its lazy submodules through a module-level __getattr__.
    assert not is_listed_completely("torch")
    assert is_listed_completely("torch.nn")
    assert not is_listed_completely("torch.nowhere")


# ----- did_you_mean ----------------------------------------------------------------------------

NN = names_in("torch.nn")
FUNCTIONAL = names_in("torch.nn.functional")


@pytest.mark.parametrize(
    ("name", "candidates", "expected"),
    [
        ("conv2d", NN, "Conv2d"),
        ("Batchnorm2d", NN, "BatchNorm2d"),
        ("BatchNorm2D", NN, "BatchNorm2d"),
        ("relu", NN, "ReLU"),
        ("Relu", FUNCTIONAL, "relu"),
        ("Conv2d", FUNCTIONAL, "conv2d"),
        ("batchnorm", FUNCTIONAL, "batch_norm"),
        ("Sequencial", NN, "Sequential"),
        ("Identiy", NN, "Identity"),
        ("AdaptiveAvgPool", NN, "AdaptiveAvgPool2d"),
        ("kaiming_norm_", names_in("torch.nn.init"), "kaiming_normal_"),
        ("fan out", ("fan_in", "fan_out"), "fan_out"),
        ("zero", ("zeros", "reflect", "replicate", "circular"), "zeros"),
        ("indentity", ["identity"], "identity"),
    ],
)
def test_did_you_mean_finds_the_intended_name(name: str, candidates, expected: str) -> None:
    assert did_you_mean(name, candidates) == expected


def test_did_you_mean_returns_an_existing_name_unchanged() -> None:
    assert did_you_mean("Conv2d", NN) == "Conv2d"


@pytest.mark.parametrize("name", ["xyzzy", "TotallyUnrelatedThing", ""])
def test_did_you_mean_gives_nothing_when_nothing_is_close(name: str) -> None:
    assert did_you_mean(name, NN) is None


def test_did_you_mean_with_no_candidates() -> None:
    assert did_you_mean("Conv2d", []) is None


def test_did_you_mean_without_folding_case_counts() -> None:
    assert did_you_mean("List", ["list", "dict"], fold=False) is None
    assert (
        did_you_mean("NotImplementError", ["NotImplementedError"], fold=False)
        == "NotImplementedError"
    )


# ----- signatures ------------------------------------------------------------------------------


def test_parse_reads_every_kind_of_parameter() -> None:
    parsed = Signature.parse(("a", "/", "b", "c=", "*args", "d", "e=", "**kwargs"))
    assert parsed == Signature(
        positional=("a", "b", "c"),
        positional_only=1,
        keyword_only=("d", "e"),
        required=frozenset({"a", "b", "d"}),
        var_positional=True,
        var_keyword=True,
    )
    assert parsed.keywords == ("b", "c", "d", "e")
    bare_star = Signature.parse(("x", "*", "y="))
    assert bare_star.keyword_only == ("y",) and not bare_star.var_positional


def test_bind_reports_what_python_would() -> None:
    conv = signature("torch.nn.Conv2d")
    assert conv.bind([None, None, None]).problem is None
    assert conv.bind([None, None, None, "stride"]).arguments["stride"] == 3
    assert "missing the required argument `kernel_size`" in conv.bind([None, None]).problem
    assert "12 were given" in conv.bind([None] * 12).problem
    assert (
        "unexpected keyword argument `kernal_size`"
        in conv.bind([None, None, "kernal_size"]).problem
    )
    assert "multiple values for argument `stride`" in conv.bind([None] * 4 + ["stride"]).problem


def _call_shapes(parsed: Signature) -> list[tuple[int, list[str]]]:
    """(positional count, keywords): every count up to one too many, with no keywords, with the
    keyword-only ones, with one unknown keyword, and with the first parameter named again."""
    shapes = []
    for count in range(len(parsed.positional) + 2):
        shapes += [(count, []), (count, list(parsed.keyword_only)), (count, ["not_a_parameter"])]
        if parsed.positional[parsed.positional_only :]:
            shapes.append((count, [parsed.positional[parsed.positional_only]]))
    return shapes


def _python_accepts(target: object, count: int, keywords: list[str]) -> bool:
    """Would Python (and torch) take these arguments? Layers that inherit nn.Module.__init__ are built
    for real (they take no parameters, so building them is cheap); for the rest Signature.bind says."""
    import torch

    try:
        if getattr(target, "__init__", None) is torch.nn.Module.__init__:
            target(*range(count), **dict.fromkeys(keywords))
        else:
            inspect.signature(target).bind(*range(count), **dict.fromkeys(keywords))
    except TypeError:
        return False
    return True


@needs_torch
@pytest.mark.parametrize("qualified", sorted(SIGNATURES))
def test_bind_agrees_with_python_on_every_signature(qualified: str) -> None:
    namespace, _, name = qualified.rpartition(".")
    target = getattr(importlib.import_module(namespace), name)
    parsed = signature(qualified)
    for count, keywords in _call_shapes(parsed):
        binding = parsed.bind([None] * count + keywords)
        accepted = _python_accepts(target, count, keywords)
        assert (binding.problem is None) == accepted, (qualified, count, keywords, binding)


# ----- literal choices -------------------------------------------------------------------------


def _probe(qualified: str) -> Callable[[str, str], object]:
    """How to make torch judge a value of a parameter: call the function, or build the layer and run it
    (some layers check their strings only when called)."""
    import torch

    namespace, _, name = qualified.rpartition(".")
    target = getattr(importlib.import_module(namespace), name)

    def inputs_for(mode: str) -> torch.Tensor:  # linear interpolates 3-d inputs, trilinear 5-d ones
        dims = {"linear": 3, "trilinear": 5}.get(mode, 4)
        return torch.rand((1, 2) + (4,) * (dims - 2))

    def loss_inputs() -> tuple[torch.Tensor, torch.Tensor]:
        if name in ("CrossEntropyLoss", "NLLLoss", "cross_entropy", "nll_loss"):
            return torch.randn(2, 3), torch.tensor([0, 2])
        return torch.rand(2, 3), torch.rand(2, 3)

    if name.startswith("kaiming"):
        return lambda p, v: target(torch.empty(4, 4), **{p: v})
    if name == "calculate_gain":
        return lambda p, v: target(**{p: v})
    if name.startswith("LazyConv"):
        return lambda p, v: target(2, 3, **{p: v})
    if "Conv" in name:
        return lambda p, v: target(2, 2, 3, **{p: v})
    if name.endswith("Loss"):
        return lambda p, v: target(**{p: v})(*loss_inputs())
    if name == "Upsample":
        return lambda p, v: target(scale_factor=2, **{p: v})(inputs_for(v))
    if name == "interpolate":
        return lambda p, v: target(inputs_for(v), scale_factor=2, **{p: v})
    if name == "grid_sample":
        return lambda p, v: target(torch.rand(1, 2, 4, 4), torch.rand(1, 3, 3, 2), **{p: v})
    if name == "pad":
        return lambda p, v: target(torch.rand(1, 2, 4, 4), (1, 1, 1, 1), **{p: v})
    if name == "GELU":
        return lambda p, v: target(**{p: v})(torch.rand(2, 2))
    if name == "gelu":
        return lambda p, v: target(torch.rand(2, 2), **{p: v})
    if name == "RNN":
        return lambda p, v: target(2, 2, **{p: v})
    if namespace == "torch.nn.functional":  # the functional losses
        return lambda p, v: target(*loss_inputs(), **{p: v})
    raise LookupError(f"no probe for {qualified}: add one to this test")


def _misspellings(qualified: str, parameter: str, value: str) -> list[str]:
    """A dropped letter, an extra one, a space for the underscore, and other case where case counts."""
    candidates = {value[:-1], value + "s", value.replace("_", " "), value.title(), value.upper()}
    return sorted(c for c in candidates if not accepts(qualified, parameter, c))


CHOICE_CASES = [
    (qualified, parameter, value)
    for qualified, parameters in LITERAL_CHOICES.items()
    for parameter, values in parameters.items()
    for value in values
]


@needs_torch
@pytest.mark.parametrize(("qualified", "parameter", "value"), CHOICE_CASES)
def test_torch_accepts_each_listed_value_and_rejects_its_misspellings(
    qualified: str, parameter: str, value: str
) -> None:
    probe = _probe(qualified)
    probe(parameter, value)  # raises if torch rejects a value the table lists
    for wrong in _misspellings(qualified, parameter, value):
        with pytest.raises((ValueError, RuntimeError, NotImplementedError)):
            probe(parameter, wrong)
    if (qualified, parameter) in IGNORES_CASE:
        probe(parameter, value.upper())


def test_choices_name_real_parameters() -> None:
    for qualified, parameters in LITERAL_CHOICES.items():
        known = signature(qualified)
        # Functions written in C (F.gelu) have no generated signature; nn.RNN takes **kwargs.
        if known is not None and not known.var_keyword:
            assert set(parameters) <= set(known.keywords), qualified


# ----- layer kinds -----------------------------------------------------------------------------


def test_layer_kinds_compare_and_hash_as_their_strings() -> None:
    assert LayerKind.CONV == "conv" and "conv" in {LayerKind.CONV} and LayerKind.CONV in {"conv"}
    assert f"{LayerKind.GLOBALPOOL}" == "globalpool" and str(LayerKind.ACT) == "act"
    assert "batchnorm" in CHANNEL_PRESERVING and "conv" not in CHANNEL_PRESERVING


def test_layer_tables_name_real_torch_things() -> None:
    assert set(LAYER_KINDS) <= names_in("torch.nn")
    assert TORCH_LAYERS["Conv2d"] == (LayerKind.CONV, signature("torch.nn.Conv2d").positional)
    assert TORCH_LAYERS["Linear"][1][:2] == ("in_features", "out_features")
    for qualified in TORCH_FUNCTIONS:
        namespace, _, name = qualified.rpartition(".")
        assert name in names_in(namespace), qualified
    assert set(TENSOR_METHODS) <= names_in("torch.Tensor")


# ----- framework builders ----------------------------------------------------------------------


def test_a_relative_import_names_a_builder_only_when_its_name_has_one_meaning() -> None:
    mmcv = builder_for("mmcv.cnn.build_norm_layer")
    mmpretrain = builder_for("mmpretrain.models.utils.build_norm_layer")
    assert mmcv is not None and mmcv.returns == "named"
    assert mmpretrain is not None and mmpretrain.returns == "layers"
    # `from ..utils import build_norm_layer`: mmcv's pair or mmpretrain's layer, nobody can tell.
    assert builder_for("..utils.build_norm_layer") is None
    assert builder_for("...common.conv3x3_block") == builder_for("pytorchcv.common.conv3x3_block")


def test_registry_builds_are_openmmlab_registries_only() -> None:
    assert is_registry_build("mmseg.registry.MODELS.build")
    assert is_registry_build("mmengine.registry.MODELS.build")
    assert not is_registry_build("mmseg.registry.MODELS.get")
    assert not is_registry_build("builder.build")
    assert not is_registry_build("mypkg.models.MODELS.build")
