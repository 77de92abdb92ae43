"""Public names of torch.nn, torch.nn.functional and torch.nn.init, and a spelling suggester.

The static pass must never import torch, so it asks these lists whether `nn.conv2d` exists.
The lists below are generated from torch 2.13.0+cpu and committed; regenerate them after a torch
upgrade with

    python -m reslint.nn_names --regenerate

(the only code path here that imports torch). tests/test_nn_names.py compares them with the
installed torch.
"""

from __future__ import annotations

import argparse
import difflib
import re
import textwrap
from collections.abc import Iterable
from pathlib import Path
from types import ModuleType

# BEGIN GENERATED (python -m reslint.nn_names --regenerate)
# fmt: off
TORCH_VERSION = "2.13.0+cpu"
NN_NAMES: frozenset[str] = frozenset(
    {
        "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d", "AdaptiveLogSoftmaxWithLoss",
        "AdaptiveMaxPool1d", "AdaptiveMaxPool2d", "AdaptiveMaxPool3d", "AlphaDropout", "AvgPool1d", "AvgPool2d",
        "AvgPool3d", "BCELoss", "BCEWithLogitsLoss", "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "Bilinear",
        "Buffer", "CELU", "CTCLoss", "ChannelShuffle", "CircularPad1d", "CircularPad2d", "CircularPad3d",
        "ConstantPad1d", "ConstantPad2d", "ConstantPad3d", "Container", "Conv1d", "Conv2d", "Conv3d",
        "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d", "CosineEmbeddingLoss", "CosineSimilarity",
        "CrossEntropyLoss", "CrossMapLRN2d", "DataParallel", "Dropout", "Dropout1d", "Dropout2d", "Dropout3d",
        "ELU", "Embedding", "EmbeddingBag", "FeatureAlphaDropout", "Flatten", "Fold", "FractionalMaxPool2d",
        "FractionalMaxPool3d", "GELU", "GLU", "GRU", "GRUCell", "GaussianNLLLoss", "GroupNorm", "Hardshrink",
        "Hardsigmoid", "Hardswish", "Hardtanh", "HingeEmbeddingLoss", "HuberLoss", "Identity", "InstanceNorm1d",
        "InstanceNorm2d", "InstanceNorm3d", "KLDivLoss", "L1Loss", "LPPool1d", "LPPool2d", "LPPool3d", "LSTM",
        "LSTMCell", "LayerNorm", "LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d", "LazyConv1d",
        "LazyConv2d", "LazyConv3d", "LazyConvTranspose1d", "LazyConvTranspose2d", "LazyConvTranspose3d",
        "LazyInstanceNorm1d", "LazyInstanceNorm2d", "LazyInstanceNorm3d", "LazyLinear", "LeakyReLU", "Linear",
        "LinearCrossEntropyLoss", "LinearCrossEntropyOptions", "LocalResponseNorm", "LogSigmoid", "LogSoftmax",
        "MSELoss", "MarginRankingLoss", "MaxPool1d", "MaxPool2d", "MaxPool3d", "MaxUnpool1d", "MaxUnpool2d",
        "MaxUnpool3d", "Mish", "Module", "ModuleDict", "ModuleList", "MultiLabelMarginLoss",
        "MultiLabelSoftMarginLoss", "MultiMarginLoss", "MultiheadAttention", "NLLLoss", "NLLLoss2d", "PReLU",
        "PairwiseDistance", "Parameter", "ParameterDict", "ParameterList", "PixelShuffle", "PixelUnshuffle",
        "PoissonNLLLoss", "RMSNorm", "RNN", "RNNBase", "RNNCell", "RNNCellBase", "RReLU", "ReLU", "ReLU6",
        "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d", "ReplicationPad2d",
        "ReplicationPad3d", "SELU", "Sequential", "SiLU", "Sigmoid", "SmoothL1Loss", "SoftMarginLoss",
        "Softmax", "Softmax2d", "Softmin", "Softplus", "Softshrink", "Softsign", "SyncBatchNorm", "Tanh",
        "Tanhshrink", "Threshold", "Transformer", "TransformerDecoder", "TransformerDecoderLayer",
        "TransformerEncoder", "TransformerEncoderLayer", "TripletMarginLoss", "TripletMarginWithDistanceLoss",
        "Unflatten", "Unfold", "UninitializedBuffer", "UninitializedParameter", "Upsample",
        "UpsamplingBilinear2d", "UpsamplingNearest2d", "ZeroPad1d", "ZeroPad2d", "ZeroPad3d", "attention",
        "backends", "common_types", "common_types.py", "cpp.py", "factory_kwargs", "functional",
        "functional.py", "grad", "grad.py", "init", "init.py", "intrinsic", "modules", "parallel", "parameter",
        "parameter.py", "qat", "quantizable", "quantized", "utils"
    }
)
FUNCTIONAL_NAMES: frozenset[str] = frozenset(
    {
        "BroadcastingList1", "BroadcastingList2", "BroadcastingList3", "Callable", "DType",
        "GRID_SAMPLE_INTERPOLATION_MODES", "GRID_SAMPLE_PADDING_MODES", "Optional", "ScalingType",
        "SwizzleType", "TYPE_CHECKING", "Tensor", "adaptive_avg_pool1d", "adaptive_avg_pool2d",
        "adaptive_avg_pool3d", "adaptive_max_pool1d", "adaptive_max_pool1d_with_indices", "adaptive_max_pool2d",
        "adaptive_max_pool2d_with_indices", "adaptive_max_pool3d", "adaptive_max_pool3d_with_indices",
        "affine_grid", "alpha_dropout", "assert_int_or_pair", "avg_pool1d", "avg_pool2d", "avg_pool3d",
        "batch_norm", "bilinear", "binary_cross_entropy", "binary_cross_entropy_with_logits",
        "boolean_dispatch", "celu", "celu_", "channel_shuffle", "conv1d", "conv2d", "conv3d", "conv_tbc",
        "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "cosine_embedding_loss",
        "cosine_similarity", "cross_entropy", "ctc_loss", "dataclasses", "dropout", "dropout1d", "dropout2d",
        "dropout3d", "elu", "elu_", "embedding", "embedding_bag", "feature_alpha_dropout", "fold",
        "fractional_max_pool2d", "fractional_max_pool2d_with_indices", "fractional_max_pool3d",
        "fractional_max_pool3d_with_indices", "gaussian_nll_loss", "gelu", "glu", "grad", "grid_sample",
        "group_norm", "grouped_mm", "gumbel_softmax", "handle_torch_function", "hardshrink", "hardsigmoid",
        "hardswish", "hardtanh", "hardtanh_", "has_torch_function", "has_torch_function_unary",
        "has_torch_function_variadic", "hinge_embedding_loss", "huber_loss", "importlib", "instance_norm",
        "interpolate", "kl_div", "l1_loss", "layer_norm", "leaky_relu", "leaky_relu_", "linear",
        "linear_cross_entropy", "local_response_norm", "log_softmax", "logsigmoid", "lp_pool1d", "lp_pool2d",
        "lp_pool3d", "margin_ranking_loss", "math", "max_pool1d", "max_pool1d_with_indices", "max_pool2d",
        "max_pool2d_with_indices", "max_pool3d", "max_pool3d_with_indices", "max_unpool1d", "max_unpool2d",
        "max_unpool3d", "mish", "mse_loss", "multi_head_attention_forward", "multi_margin_loss",
        "multilabel_margin_loss", "multilabel_soft_margin_loss", "native_channel_shuffle", "nll_loss",
        "normalize", "np", "one_hot", "pad", "pairwise_distance", "pdist", "pixel_shuffle", "pixel_unshuffle",
        "poisson_nll_loss", "prelu", "relu", "relu6", "relu_", "reproducibility_notes", "rms_norm", "rrelu",
        "rrelu_", "scaled_dot_product_attention", "scaled_grouped_mm", "scaled_mm", "selu", "selu_", "sigmoid",
        "silu", "smooth_l1_loss", "soft_margin_loss", "softmax", "softmin", "softplus", "softshrink",
        "softsign", "sparse_support_notes", "tanh", "tanhshrink", "tf32_notes", "threshold", "threshold_",
        "torch", "triplet_margin_loss", "triplet_margin_with_distance_loss", "unfold", "upsample",
        "upsample_bilinear", "upsample_nearest", "warnings"
    }
)
INIT_NAMES: frozenset[str] = frozenset(
    {
        "Callable", "Literal", "ParamSpec", "Tensor", "TypeVar", "calculate_gain", "constant", "constant_",
        "dirac", "dirac_", "eye", "eye_", "kaiming_normal", "kaiming_normal_", "kaiming_uniform",
        "kaiming_uniform_", "math", "normal", "normal_", "ones_", "orthogonal", "orthogonal_", "sparse",
        "sparse_", "torch", "trunc_normal_", "uniform", "uniform_", "warnings", "xavier_normal",
        "xavier_normal_", "xavier_uniform", "xavier_uniform_", "zeros_"
    }
)
# fmt: on
# END GENERATED

_GENERATED = re.compile(r"# BEGIN GENERATED.*?# END GENERATED\n", re.DOTALL)
_CLOSE_ENOUGH = 0.8


def suggest(name: str, candidates: Iterable[str]) -> str | None:
    """The candidate the user most likely meant by `name`, or None when nothing is close.

    Case and underscores are ignored first (conv2d -> Conv2d, Relu -> relu, batchnorm -> batch_norm),
    then difflib picks a close spelling (Sequencial -> Sequential). A name that exists is returned as is.
    """
    pool = sorted(set(candidates))
    if name in pool:
        return name
    if not pool:
        return None
    for fold in (str.casefold, _fold_underscores):
        same = [candidate for candidate in pool if fold(candidate) == fold(name)]
        if same:
            return max(
                same, key=lambda candidate: difflib.SequenceMatcher(None, name, candidate).ratio()
            )
    # Equal scores (AdaptiveAvgPool -> 1d/2d/3d): prefer the 2d layer, which is what image models use.
    score, _, best = max(
        (_similarity(name, candidate), "2d" in candidate.casefold(), candidate)
        for candidate in pool
    )
    return best if score >= _CLOSE_ENOUGH else None


def _similarity(name: str, candidate: str) -> float:
    return difflib.SequenceMatcher(None, name.casefold(), candidate.casefold()).ratio()


def _fold_underscores(text: str) -> str:
    return text.replace("_", "").casefold()


def public_names(module: ModuleType) -> frozenset[str]:
    """Every attribute a user can write after `module.` without a leading underscore, submodules included."""
    names = {name for name in dir(module) if not name.startswith("_")}
    for path in getattr(module, "__path__", ()):
        names.update(child.name for child in Path(path).iterdir() if _is_public_submodule(child))
    return frozenset(names)


def _is_public_submodule(child: Path) -> bool:
    if child.name.startswith("_"):
        return False
    if child.is_dir():
        return (child / "__init__.py").exists()
    return child.suffix == ".py"


def collect_from_torch() -> dict[str, object]:
    """The lists as the installed torch has them. Imports torch: only for --regenerate and the test."""
    import torch
    import torch.nn
    import torch.nn.functional
    import torch.nn.init

    return {
        "TORCH_VERSION": torch.__version__,
        "NN_NAMES": public_names(torch.nn),
        "FUNCTIONAL_NAMES": public_names(torch.nn.functional),
        "INIT_NAMES": public_names(torch.nn.init),
    }


def render_generated(values: dict[str, object]) -> str:
    lines = [
        "# BEGIN GENERATED (python -m reslint.nn_names --regenerate)",
        "# fmt: off",
        f'TORCH_VERSION = "{values["TORCH_VERSION"]}"',
    ]
    for constant in ("NN_NAMES", "FUNCTIONAL_NAMES", "INIT_NAMES"):
        names = sorted(values[constant])  # type: ignore[call-overload]
        quoted = ", ".join(f'"{name}"' for name in names)
        body = textwrap.fill(quoted, width=112, initial_indent=" " * 8, subsequent_indent=" " * 8)
        lines += [f"{constant}: frozenset[str] = frozenset(", "    {", body, "    }", ")"]
    return "\n".join(lines) + "\n# fmt: on\n# END GENERATED\n"


def regenerate(path: Path = Path(__file__)) -> str:
    """Rewrite the generated block (and the version in the docstring) of `path`; return the torch version."""
    values = collect_from_torch()
    version = str(values["TORCH_VERSION"])
    source = path.read_text(encoding="utf-8")
    # count=1: only the module docstring, which comes first (this line would match too).
    header = f"generated from torch {version} and committed"
    source = re.sub(r"generated from torch \S+ and committed", header, source, count=1)
    path.write_text(
        _GENERATED.sub(lambda _: render_generated(values), source, count=1), encoding="utf-8"
    )
    return version


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m reslint.nn_names", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--regenerate",
        action="store_true",
        help="rewrite the lists in this file from the installed torch",
    )
    args = parser.parse_args(argv)
    if not args.regenerate:
        parser.print_help()
        return 0
    version = regenerate()
    print(f"rewrote {Path(__file__)} from torch {version}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
