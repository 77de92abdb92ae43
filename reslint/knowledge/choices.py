"""The string values torch accepts for its literal parameters (mode, nonlinearity, padding_mode, ...).

torch does not expose these as data, so this table is written by hand; tests/test_knowledge.py proves
every entry against the installed torch: each listed value is accepted and misspellings are rejected,
by calling the real function or building (and running) the real layer.
"""

from __future__ import annotations

FAN_MODES = ("fan_in", "fan_out")
# torch.nn.init.calculate_gain's nonlinearities, which kaiming_*_ pass it.
NONLINEARITIES = (
    "linear",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_transpose1d",
    "conv_transpose2d",
    "conv_transpose3d",
    "sigmoid",
    "tanh",
    "relu",
    "leaky_relu",
    "selu",
)
PADDING_MODES = ("zeros", "reflect", "replicate", "circular")
PADDING_STRINGS = ("same", "valid")
REDUCTIONS = ("none", "mean", "sum")
INTERPOLATION_MODES = (
    "nearest",
    "linear",
    "bilinear",
    "bicubic",
    "trilinear",
    "area",
    "nearest-exact",
)
PAD_MODES = ("constant", "reflect", "replicate", "circular")
GRID_SAMPLE_MODES = ("bilinear", "nearest", "bicubic")
GRID_SAMPLE_PADDING_MODES = ("zeros", "border", "reflection")
GELU_APPROXIMATIONS = ("none", "tanh")

_CONVS = ("Conv1d", "Conv2d", "Conv3d", "LazyConv1d", "LazyConv2d", "LazyConv3d")
_TRANSPOSED_CONVS = ("ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d")
_LOSSES = {
    "CrossEntropyLoss": "cross_entropy",
    "NLLLoss": "nll_loss",
    "MSELoss": "mse_loss",
    "L1Loss": "l1_loss",
    "SmoothL1Loss": "smooth_l1_loss",
    "HuberLoss": "huber_loss",
    "BCELoss": "binary_cross_entropy",
    "BCEWithLogitsLoss": "binary_cross_entropy_with_logits",
}

# Qualified callable -> parameter -> the values it accepts.
LITERAL_CHOICES: dict[str, dict[str, tuple[str, ...]]] = {
    **{
        f"torch.nn.init.{init}": {"mode": FAN_MODES, "nonlinearity": NONLINEARITIES}
        for init in ("kaiming_normal_", "kaiming_uniform_")
    },
    "torch.nn.init.calculate_gain": {"nonlinearity": NONLINEARITIES},
    **{
        f"torch.nn.{conv}": {"padding_mode": PADDING_MODES, "padding": PADDING_STRINGS}
        for conv in _CONVS
    },
    # Transposed convolutions pad with zeros only.
    **{f"torch.nn.{conv}": {"padding_mode": ("zeros",)} for conv in _TRANSPOSED_CONVS},
    **{f"torch.nn.{loss}": {"reduction": REDUCTIONS} for loss in _LOSSES},
    **{f"torch.nn.functional.{loss}": {"reduction": REDUCTIONS} for loss in _LOSSES.values()},
    "torch.nn.Upsample": {"mode": INTERPOLATION_MODES},
    "torch.nn.functional.interpolate": {"mode": INTERPOLATION_MODES},
    "torch.nn.functional.pad": {"mode": PAD_MODES},
    "torch.nn.functional.grid_sample": {
        "mode": GRID_SAMPLE_MODES,
        "padding_mode": GRID_SAMPLE_PADDING_MODES,
    },
    "torch.nn.GELU": {"approximate": GELU_APPROXIMATIONS},
    "torch.nn.functional.gelu": {"approximate": GELU_APPROXIMATIONS},
    "torch.nn.RNN": {"nonlinearity": ("tanh", "relu")},
}
# Parameters torch lower-cases before it compares (kaiming's mode="FAN_OUT" works).
IGNORES_CASE = frozenset(
    (f"torch.nn.init.{init}", "mode") for init in ("kaiming_normal_", "kaiming_uniform_")
)


def accepts(qualified: str, parameter: str, value: str) -> bool:
    """Does torch accept `value` for this parameter? True when reslint has no list for it."""
    choices = LITERAL_CHOICES.get(qualified, {}).get(parameter)
    if choices is None or value in choices:
        return True
    return (qualified, parameter) in IGNORES_CASE and value.lower() in choices
