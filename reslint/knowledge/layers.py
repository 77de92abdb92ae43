"""The kinds of layer reslint understands, and which torch layers, functions and tensor methods are which.

A kind is what the rules ask about: "is this a conv", "does it keep the channel count". The parameter
names of each torch layer come from the generated signatures, so they cannot drift from torch.
"""

from __future__ import annotations

from enum import Enum

from reslint.knowledge.signatures import signature


class LayerKind(str, Enum):
    """What a layer, or an operation on a tensor, does as far as the rules care.

    A str, hashing and printing as its value, so `kind == "conv"` and `kind in {"conv", "linear"}`
    hold for LayerKind.CONV.
    """

    CONV = "conv"
    BATCHNORM = "batchnorm"  # BatchNorm*d and SyncBatchNorm: running statistics over the batch
    NORM = "norm"  # every other normalisation
    LINEAR = "linear"
    ACT = "act"
    POOL = "pool"  # max pooling, and adaptive pooling to more than one value per channel
    AVGPOOL = "avgpool"
    GLOBALPOOL = "globalpool"  # pooling to one value per channel
    DROPOUT = "dropout"
    IDENTITY = "identity"
    FLATTEN = "flatten"
    PAD = "pad"
    UPSAMPLE = "upsample"
    SEQUENTIAL = "sequential"
    MODULELIST = "modulelist"
    MODULEDICT = "moduledict"
    ADD = "add"
    MUL = "mul"
    CONCAT = "concat"
    # What the model makes of code that is not one of the torch layers above.
    BLOCK = "block"  # an instance of one of the file's nn.Module classes
    OBJECT = "object"  # an instance of one of the file's other classes
    MODULE = "module"  # another torch.nn module
    SUBSAMPLE = "subsample"  # slicing a tensor: x[:, :, ::2, ::2]
    CALL = "call"  # any other call applied to a tensor
    UNDECIDED = (
        "undecided"  # a framework block's part that may or may not be built (model.builders)
    )
    UNKNOWN = "unknown"

    __hash__ = str.__hash__

    def __str__(self) -> str:
        return self.value

    def __format__(self, spec: str) -> str:
        return self.value.__format__(spec)


# torch.nn layers reslint understands, by kind.
LAYER_KINDS: dict[str, LayerKind] = {
    **dict.fromkeys(("Conv1d", "Conv2d", "Conv3d"), LayerKind.CONV),
    **dict.fromkeys(
        ("BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "SyncBatchNorm"), LayerKind.BATCHNORM
    ),
    **dict.fromkeys(("InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d"), LayerKind.NORM),
    **dict.fromkeys(("GroupNorm", "LayerNorm", "LocalResponseNorm"), LayerKind.NORM),
    "Linear": LayerKind.LINEAR,
    **dict.fromkeys(("AvgPool1d", "AvgPool2d", "AvgPool3d"), LayerKind.AVGPOOL),
    **dict.fromkeys(("MaxPool1d", "MaxPool2d", "MaxPool3d"), LayerKind.POOL),
    **dict.fromkeys(
        (
            "AdaptiveAvgPool1d",
            "AdaptiveAvgPool2d",
            "AdaptiveAvgPool3d",
            "AdaptiveMaxPool2d",
            "AdaptiveMaxPool3d",
        ),
        LayerKind.GLOBALPOOL,
    ),
    "Sequential": LayerKind.SEQUENTIAL,
    "ModuleList": LayerKind.MODULELIST,
    "ModuleDict": LayerKind.MODULEDICT,
    "Identity": LayerKind.IDENTITY,
    **dict.fromkeys(
        ("Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d"), LayerKind.UPSAMPLE
    ),
    "Flatten": LayerKind.FLATTEN,
    **dict.fromkeys(("Dropout", "Dropout1d", "Dropout2d", "AlphaDropout"), LayerKind.DROPOUT),
    **dict.fromkeys(
        (
            "ReLU",
            "ReLU6",
            "LeakyReLU",
            "PReLU",
            "ELU",
            "SELU",
            "CELU",
            "GELU",
            "SiLU",
            "Mish",
            "Sigmoid",
            "Tanh",
            "Hardswish",
            "Hardsigmoid",
            "Hardtanh",
            "Softplus",
            "Softmax",
            "LogSoftmax",
        ),
        LayerKind.ACT,
    ),
}


# Kinds that hold other layers, and the torch.nn classes of those kinds.
CONTAINER_KINDS = frozenset({LayerKind.SEQUENTIAL, LayerKind.MODULELIST, LayerKind.MODULEDICT})
CONTAINER_LAYERS = frozenset(name for name, kind in LAYER_KINDS.items() if kind in CONTAINER_KINDS)

# torch.nn layers that own parameters, with the argument that can turn them off: (keyword, its
# position, its default). None: they always have parameters. tests/test_bindings.py checks the table
# against the installed torch's signatures.
# fmt: off
PARAMETERIZED_LAYERS: dict[str, tuple[str, int, bool] | None] = {
    **{
        name: None
        for name in (
            "Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d",
            "LazyConv1d", "LazyConv2d", "LazyConv3d", "LazyConvTranspose1d", "LazyConvTranspose2d",
            "LazyConvTranspose3d", "Linear", "LazyLinear", "Bilinear", "Embedding", "EmbeddingBag",
            "PReLU", "LSTM", "GRU", "RNN", "LSTMCell", "GRUCell", "RNNCell", "MultiheadAttention",
            "Transformer", "TransformerEncoder", "TransformerDecoder", "TransformerEncoderLayer",
            "TransformerDecoderLayer",
        )
    },
    **{
        name: ("affine", 3, True)
        for name in ("BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "SyncBatchNorm")
    },
    **{
        name: ("affine", 2, True)  # no num_features: the lazy norms learn it from the first input
        for name in (
            "LazyBatchNorm1d", "LazyBatchNorm2d", "LazyBatchNorm3d", "LazyInstanceNorm1d",
            "LazyInstanceNorm2d", "LazyInstanceNorm3d",
        )
    },
    **{
        name: ("affine", 3, False)
        for name in ("InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d")
    },
    "GroupNorm": ("affine", 3, True),
    "LayerNorm": ("elementwise_affine", 2, True),
    "RMSNorm": ("elementwise_affine", 2, True),
}
# fmt: on


def _positional_parameters(layer: str) -> tuple[str, ...]:
    found = signature(f"torch.nn.{layer}")
    if found is None:
        raise LookupError(f"torch.nn.{layer} has no generated signature: regenerate them")
    return found.positional


# Each layer's kind, then its constructor parameters in positional order.
TORCH_LAYERS: dict[str, tuple[LayerKind, tuple[str, ...]]] = {
    name: (kind, _positional_parameters(name)) for name, kind in LAYER_KINDS.items()
}

# torch functions applied to tensors in forward, by kind.
TORCH_FUNCTIONS: dict[str, LayerKind] = {
    **{
        f"torch.nn.functional.{name}": LayerKind.ACT
        for name in (
            "relu",
            "relu6",
            "leaky_relu",
            "elu",
            "selu",
            "gelu",
            "silu",
            "mish",
            "sigmoid",
            "tanh",
            "hardswish",
            "relu_",
            "softplus",
        )
    },
    **{f"torch.{name}": LayerKind.ACT for name in ("relu", "relu_", "sigmoid", "tanh")},
    "torch.nn.functional.batch_norm": LayerKind.BATCHNORM,
    "torch.nn.functional.group_norm": LayerKind.NORM,
    "torch.nn.functional.avg_pool2d": LayerKind.AVGPOOL,
    "torch.nn.functional.max_pool2d": LayerKind.POOL,
    "torch.nn.functional.adaptive_avg_pool2d": LayerKind.GLOBALPOOL,
    "torch.nn.functional.adaptive_max_pool2d": LayerKind.GLOBALPOOL,
    "torch.nn.functional.dropout": LayerKind.DROPOUT,
    "torch.nn.functional.pad": LayerKind.PAD,
    **{
        f"torch.nn.functional.{name}": LayerKind.UPSAMPLE
        for name in (
            "interpolate",
            "upsample",
            "upsample_nearest",
            "upsample_bilinear",
            "pixel_shuffle",
        )
    },
    "torch.flatten": LayerKind.FLATTEN,
    "torch.mean": LayerKind.GLOBALPOOL,
    "torch.cat": LayerKind.CONCAT,
    "torch.add": LayerKind.ADD,
    "torch.nn.functional.linear": LayerKind.LINEAR,
}

# Tensor methods, by kind.
TENSOR_METHODS: dict[str, LayerKind] = {
    **dict.fromkeys(("relu", "relu_", "sigmoid", "tanh"), LayerKind.ACT),
    **dict.fromkeys(("view", "reshape", "flatten", "squeeze"), LayerKind.FLATTEN),
    "mean": LayerKind.GLOBALPOOL,
    **dict.fromkeys(("contiguous", "clone"), LayerKind.IDENTITY),
    **dict.fromkeys(("add", "add_"), LayerKind.ADD),
    **dict.fromkeys(("mul", "mul_"), LayerKind.MUL),
}

# torch.ao.nn.quantized's FloatFunctional (and the QFunctional it is converted to): a module whose
# methods stand for tensor operators, so that quantization can observe them. torchvision's quantizable
# ResNets sum the residual with `self.skip_add_relu.add_relu(out, identity)`. Each method's kinds, in
# the order it applies them.
FUNCTIONAL_MODULES = frozenset({"FloatFunctional", "QFunctional", "FXFloatFunctional"})
FUNCTIONAL_METHODS: dict[str, tuple[LayerKind, ...]] = {
    "add": (LayerKind.ADD,),
    "add_relu": (LayerKind.ADD, LayerKind.ACT),
    "mul": (LayerKind.MUL,),
}

# torch.ao.quantization's stubs: identities until the model is converted (then they quantize).
QUANTIZATION_STUBS = frozenset({"QuantStub", "DeQuantStub"})

# Functions that reparametrise a layer's weight and return the same layer (its channels and stride
# unchanged): `conv = spectral_norm(nn.Conv2d(...))`.
WEIGHT_REPARAMETRISATIONS = frozenset(
    {
        "torch.nn.utils.spectral_norm",
        "torch.nn.utils.weight_norm",
        "torch.nn.utils.parametrizations.spectral_norm",
        "torch.nn.utils.parametrizations.weight_norm",
        "torch.nn.utils.parametrizations.orthogonal",
    }
)

# Kinds whose output has as many channels as their input.
CHANNEL_PRESERVING = frozenset(
    {
        LayerKind.UNDECIDED,
        LayerKind.BATCHNORM,
        LayerKind.NORM,
        LayerKind.ACT,
        LayerKind.POOL,
        LayerKind.AVGPOOL,
        LayerKind.GLOBALPOOL,
        LayerKind.IDENTITY,
        LayerKind.DROPOUT,
        LayerKind.FLATTEN,
        LayerKind.MUL,
        LayerKind.PAD,
        LayerKind.UPSAMPLE,
    }
)

# Kinds that are linear maps of their input whatever their arguments: reshaping, averaging windows,
# the identity and (at inference) dropout. Global pooling is linear when it averages (AvgPool,
# `mean`), not when it takes a maximum; tensor methods of their own kinds are listed by name.
LINEAR_KINDS = frozenset(
    {LayerKind.IDENTITY, LayerKind.DROPOUT, LayerKind.FLATTEN, LayerKind.AVGPOOL}
)
LINEAR_TENSOR_METHODS = frozenset({"sum"})

# Kinds that normalise: each is built for the channels of the layer before it.
NORMS = frozenset({LayerKind.BATCHNORM, LayerKind.NORM})

# Kinds that own learned weights (a norm's affine scale and shift count).
WEIGHTED = frozenset({LayerKind.CONV, LayerKind.LINEAR, *NORMS})

# The constructors of a learned weight that is not a layer (`self.gamma = nn.Parameter(...)`).
PARAMETER_CONSTRUCTORS = frozenset({"Parameter", "UninitializedParameter"})

# torch.nn classes that hold tensors, not computation.
TENSOR_CLASSES = frozenset({"Parameter", "Buffer", "UninitializedParameter", "UninitializedBuffer"})

# Setters of an attribute by name, with the position of the name among the positional arguments.
NAME_SETTERS = {
    "setattr": 1,
    "add_module": 0,
    "register_module": 0,
    "register_buffer": 0,
    "register_parameter": 0,
}

# Functions that set attributes of the calling method's `self` named after its arguments (fastcore's
# `store_attr()`, used all over fastai): any name may be set.
ARGUMENT_STORERS = frozenset({"store_attr"})

# Those of them that can register a submodule under a name computed at run time.
MODULE_REGISTRATIONS = frozenset(NAME_SETTERS) - {"register_buffer", "register_parameter"}

# Activations known to output only values >= 0: a residual branch ending with one can only add to the
# shortcut. Anything else (LeakyReLU, GELU, SiLU, a project's own HSwish, an `act` reslint cannot
# name) may pass negative values. A builder's activation is ReLU unless the call chooses another.
# Names as activation_name spells them.
NON_NEGATIVE_ACTIVATIONS = frozenset(
    {"relu", "relu6", "sigmoid", "hardsigmoid", "softplus", "softmax", "threshold"}
)

# Activations whose outputs are weights in [0, 1] (gates that rescale features).
GATE_ACTIVATIONS = frozenset({"sigmoid", "hardsigmoid", "softmax"})


# Layers that enlarge the map (an upsampling kind, or one reslint models under another kind): a
# branch holding one may stride several times and still end at its input's size (a U-Net).
ENLARGING = frozenset(
    {"PixelShuffle", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d", "interpolate"}
)


# The type of an activation whose kind is known but not which one (`ACT2FN[config.hidden_act]`).
UNNAMED_ACTIVATION = "activation"


def activation_name(text: str) -> str:
    """`F.sigmoid` / `torch.sigmoid` / `nn.Sigmoid` / `sigmoid_` -> `sigmoid`."""
    return text.rsplit(".", 1)[-1].lower().rstrip("_")
