"""What the framework calls people build ResNets with create, in reslint's terms. Torch-free facts.

A user's file calls `conv3x3_block(in_channels=c, out_channels=c, stride=2)` (pytorchcv),
`build_conv_layer(cfg, inplanes, planes, 3, stride=stride)` (mmcv) or `ConvNormAct(...)` (timm): reslint
cannot read those libraries, so this table says what each call builds (a conv, then a norm, then an
activation), which argument carries the input and output channels and the stride, and when a part is
left out (`activation=None`). The model turns a call into that sequence of layers.

Entries are keyed by the package a name comes from and its last component, so the same entry serves
`from pytorchcv.models.common import conv3x3_block`, the library's own `from .common.conv import ...`
and `import timm.layers as L; L.create_conv2d(...)`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Part:
    """One layer a builder creates: its kind and torch type, and the argument that can switch it off
    (`activation=None`, `apply_act=False`) with whether it is on when that argument is not given."""

    kind: str
    type_name: str
    switch: str | None = None
    on_by_default: bool = True
    # The argument that names its class when that is not the switch (mmcv's `build_norm_layer(cfg, C)`).
    chosen_by: str | None = None


@dataclass(frozen=True)
class Builder:
    """A framework call that builds layers (or, with `makes`, returns a layer class to call later)."""

    params: tuple[str, ...]  # positional parameters, in order
    parts: tuple[Part, ...] = ()
    in_channels: str | None = "in_channels"
    out_channels: str | None = "out_channels"
    stride: str | None = "stride"
    # "layers": the parts (one layer, or a Sequential of them); "named": mmcv's (name, layer) pair;
    # "classifier": timm's (global pool, fc) pair; "optional": its one part, None when switched off;
    # "same": returns its first argument unless it is a name string (timm's get_act_layer); "class":
    # a layer class, built when called (`makes` says which).
    returns: str = "layers"
    makes: Builder | None = field(default=None, compare=False)
    # "named": how the returned name starts, before the `postfix` argument's text.
    name_prefixes: tuple[str, ...] = ()
    # The flag that makes the conv depthwise, one group per input channel (timm's `depthwise=True`).
    depthwise: str | None = None
    # The flag that builds the convolution alone, no other part (monai's `conv_only=True`).
    conv_only: str | None = None
    # Arguments that, given at all, build something the parts do not describe (monai's
    # `is_transposed=True`, another `adn_ordering`): the call is then an unknown layer.
    unread: tuple[str, ...] = ()
    # The flag that makes the block return a pair, its output and its input after the parts before
    # the conv (pytorchcv's `return_preact=True`: the pre-activation a projection shortcut reads).
    preact: str | None = None


CONV = Part("conv", "Conv2d")
BATCHNORM = Part("batchnorm", "BatchNorm2d")
RELU = Part("act", "ReLU")
NORM_BY_CFG = Part("batchnorm", "BatchNorm2d", chosen_by="cfg")

# mmcv's registry names of the batch norms (`norm_cfg=dict(type="SyncBN")`); other types (GN, LN, IN,
# a project's own) normalise some other way.
MMCV_BATCHNORM_TYPES = frozenset(
    {"BN", "BN1d", "BN2d", "BN3d", "SyncBN", "MMSyncBN", "NaiveSyncBN", "naiveSyncBN"}
)


# timm's create_pool2d: the torch pooling each pool type builds; any other type (its "same"-padded
# variants are chosen by `padding`) is a pooling reslint does not name.
TIMM_POOL_TYPES = {"max": "MaxPool2d", "avg": "AvgPool2d"}


def _conv_norm_act(
    params: tuple[str, ...],
    norm_switch: str | None,
    act_switch: str | None,
    norm_choice: str | None = None,
    act_choice: str | None = None,
    **options: object,
) -> Builder:
    return Builder(
        params,
        (
            CONV,
            Part("batchnorm", "BatchNorm2d", norm_switch, chosen_by=norm_choice),
            Part("act", "ReLU", act_switch, chosen_by=act_choice),
        ),
        **options,  # type: ignore[arg-type]
    )


_PYTORCHCV_BLOCK = ("in_channels", "out_channels", "stride")
_TIMM_CONV_NORM_ACT = ("in_channels", "out_channels", "kernel_size", "stride")
_TORCH_CONV = (
    "in_channels",
    "out_channels",
    "kernel_size",
    "stride",
    "padding",
    "dilation",
    "groups",
)
_ACT_CLASS = Builder((), (RELU,), None, None, None)
_NORM_CLASS = Builder(("num_features",), (BATCHNORM,), "num_features", "num_features", None)

BUILDERS: dict[tuple[str, str], Builder] = {
    # pytorchcv: conv + BatchNorm + activation blocks; `activation=None` leaves the activation out.
    **{
        ("pytorchcv", name): _conv_norm_act(_PYTORCHCV_BLOCK, "normalization", "activation")
        for name in ("conv1x1_block", "conv3x3_block", "conv5x5_block", "conv7x7_block")
    },
    ("pytorchcv", "ConvBlock"): _conv_norm_act(
        ("in_channels", "out_channels", "kernel_size", "stride"), "normalization", "activation"
    ),
    ("pytorchcv", "conv1x1"): Builder(_PYTORCHCV_BLOCK, (CONV,)),
    ("pytorchcv", "conv3x3"): Builder(_PYTORCHCV_BLOCK, (CONV,)),
    # pre-activation: the norm sees the input channels
    **{
        ("pytorchcv", name): Builder(
            _PYTORCHCV_BLOCK, (BATCHNORM, RELU, CONV), preact="return_preact"
        )
        for name in ("pre_conv1x1_block", "pre_conv3x3_block")
    },
    ("pytorchcv", "lambda_relu"): Builder((), returns="class", makes=_ACT_CLASS),
    ("pytorchcv", "lambda_batchnorm2d"): Builder((), returns="class", makes=_NORM_CLASS),
    # mmcv / mmengine: the first argument is a config dict.
    ("mmcv", "build_conv_layer"): Builder(
        ("cfg", "in_channels", "out_channels", "kernel_size", "stride"), (CONV,)
    ),
    ("mmcv", "build_norm_layer"): Builder(
        ("cfg", "num_features", "postfix"),
        (NORM_BY_CFG,),
        "num_features",
        "num_features",
        None,
        returns="named",
        # mmcv's infer_abbr: instance, batch, group and layer norms, then any other class.
        name_prefixes=("in", "bn", "gn", "ln", "norm_layer"),
    ),
    # mmpretrain's own build_norm_layer returns the layer alone.
    ("mmpretrain", "build_norm_layer"): Builder(
        ("cfg", "num_features"), (NORM_BY_CFG,), "num_features", "num_features", None
    ),
    ("mmcv", "build_activation_layer"): Builder(("cfg",), (RELU,), None, None, None),
    ("mmcv", "ConvModule"): Builder(
        ("in_channels", "out_channels", "kernel_size", "stride"),
        (CONV, Part("batchnorm", "BatchNorm2d", "norm_cfg", False), Part("act", "ReLU", "act_cfg")),
    ),
    # timm
    ("timm", "create_conv2d"): Builder(
        ("in_channels", "out_channels", "kernel_size"), (CONV,), depthwise="depthwise"
    ),
    # timm's Conv2d subclasses (weight standardization, TF "same" padding): nn.Conv2d's signature.
    **{
        ("timm", name): Builder(_TORCH_CONV, (CONV,))
        for name in (
            "StdConv2d",
            "StdConv2dSame",
            "ScaledStdConv2d",
            "ScaledStdConv2dSame",
            "Conv2dSame",
        )
    },
    ("timm", "ConvNormAct"): _conv_norm_act(
        _TIMM_CONV_NORM_ACT, "apply_norm", "apply_act", "norm_layer", "act_layer"
    ),
    ("timm", "ConvNormActAa"): _conv_norm_act(
        _TIMM_CONV_NORM_ACT, "apply_norm", "apply_act", "norm_layer", "act_layer"
    ),
    ("timm", "ConvBnAct"): _conv_norm_act(
        _TIMM_CONV_NORM_ACT, "apply_norm", "apply_act", "norm_layer", "act_layer"
    ),
    ("timm", "BatchNormAct2d"): Builder(
        ("num_features",),
        (BATCHNORM, Part("act", "ReLU", "apply_act")),
        "num_features",
        "num_features",
        None,
    ),
    # timm's group norm + activation (`partial(GroupNormAct, num_groups=32)`), ReLU by default.
    **{
        ("timm", name): Builder(
            ("num_channels", "num_groups"),
            (Part("norm", "GroupNorm"), Part("act", "ReLU", "apply_act")),
            "num_channels",
            "num_channels",
            None,
        )
        for name in ("GroupNormAct", "GroupNorm1Act")
    },
    # timm's attention factory: an SE / ECA / CBAM-style gate over the channels it is given, which
    # keeps them; none at all when `attn_type` is None (the default of the blocks that take one).
    ("timm", "create_attn"): Builder(
        ("attn_type", "channels"),
        (Part("mul", "ChannelAttention", "attn_type"),),
        "channels",
        "channels",
        None,
        returns="optional",
    ),
    ("timm", "create_act_layer"): Builder(
        ("name",), (Part("act", "ReLU", chosen_by="name"),), None, None, None
    ),
    ("timm", "get_act_layer"): Builder(("name",), returns="same", makes=_ACT_CLASS),
    ("timm", "get_norm_act_layer"): Builder(
        ("norm_layer", "act_layer"),
        returns="class",
        makes=Builder(
            ("num_features",),
            (BATCHNORM, Part("act", "ReLU", "apply_act")),
            "num_features",
            "num_features",
            None,
        ),
    ),
    ("timm", "get_norm_layer"): Builder(("norm_layer",), returns="same", makes=_NORM_CLASS),
    # `create_pool2d("max", 3, stride=2)`: the pooling its first argument names (TIMM_POOL_TYPES).
    ("timm", "create_pool2d"): Builder(
        ("pool_type", "kernel_size", "stride"),
        (Part("pool", "Pool2d", chosen_by="pool_type"),),
        None,
        None,
        "stride",
    ),
    # Stochastic depth: an identity at eval time, a random per-sample scaling in training.
    ("timm", "DropPath"): Builder(("drop_prob",), (Part("dropout", "DropPath"),), None, None, None),
    ("mmcv", "DropPath"): Builder(("drop_prob",), (Part("dropout", "DropPath"),), None, None, None),
    ("torchvision", "StochasticDepth"): Builder(
        ("p", "mode"), (Part("dropout", "StochasticDepth"),), None, None, None
    ),
    ("timm", "create_classifier"): Builder(
        ("num_features", "num_classes", "pool_type"),
        (Part("globalpool", "SelectAdaptivePool2d"), Part("linear", "Linear")),
        "num_features",
        "num_classes",
        None,
        returns="classifier",
    ),
    # torchvision.ops
    ("torchvision", "Conv2dNormActivation"): _conv_norm_act(
        ("in_channels", "out_channels", "kernel_size", "stride"), "norm_layer", "activation_layer"
    ),
    # fastai
    ("fastai", "ConvLayer"): _conv_norm_act(
        ("ni", "nf", "ks", "stride"), None, "act_cls", in_channels="ni", out_channels="nf"
    ),
    # monai
    ("monai", "get_norm_layer"): Builder(
        ("name", "spatial_dims", "channels"), (BATCHNORM,), "channels", "channels", None
    ),
    ("monai", "get_act_layer"): Builder(
        ("name",), (Part("act", "ReLU", chosen_by="name"),), None, None, None
    ),
    # monai's Convolution: the conv, then (the default "NDA" order) an instance norm, a dropout when
    # one is asked for and a PReLU, unless `norm` and `act` say otherwise (None leaves one out);
    # `conv_only=True` builds the conv alone.
    ("monai", "Convolution"): Builder(
        ("spatial_dims", "in_channels", "out_channels", "strides", "kernel_size", "adn_ordering"),
        (
            CONV,
            Part("norm", "InstanceNorm", "norm"),
            Part("dropout", "Dropout", "dropout", on_by_default=False),
            Part("act", "PReLU", "act", chosen_by="act"),
        ),
        stride="strides",
        conv_only="conv_only",
        unread=("is_transposed", "adn_ordering"),
    ),
    # lightly: BatchNorm2d, or its SplitBatchNorm when num_splits > 0
    ("lightly", "get_norm_layer"): Builder(
        ("num_features", "num_splits"), (BATCHNORM,), "num_features", "num_features", None
    ),
    # torchsparse: a convolution of a sparse 3-d tensor, which strides and changes channels as
    # nn.Conv3d does; `transposed=True` upsamples instead.
    ("torchsparse", "Conv3d"): Builder(
        ("in_channels", "out_channels", "kernel_size", "stride", "dilation", "bias", "transposed"),
        (Part("conv", "Conv3d"),),
        unread=("transposed",),
    ),
    # transformers
    # `get_activation("gelu")`: the activation its string names (diffusers' own helper too).
    ("transformers", "get_activation"): Builder(
        ("activation_string",),
        (Part("act", "ReLU", chosen_by="activation_string"),),
        None,
        None,
        None,
    ),
}


@dataclass(frozen=True)
class ModelFactory:
    """A call that constructs the model class it is given (its first argument) with the keywords it
    receives, once it has taken its own: timm's `build_model_with_cfg(ResNet, variant, pretrained,
    **kwargs)` is `ResNet(**kwargs)` plus loading weights."""

    own: frozenset[str]  # keywords the call keeps for itself
    renamed: tuple[tuple[str, str], ...] = ()  # keywords passed on under another name


MODEL_FACTORIES: dict[tuple[str, str], ModelFactory] = {
    ("timm", "build_model_with_cfg"): ModelFactory(
        frozenset(
            {
                "variant",
                "pretrained",
                "pretrained_cfg",
                "pretrained_cfg_overlay",
                "feature_cfg",
                "pretrained_strict",
                "pretrained_filter_fn",
                "cache_dir",
                "kwargs_filter",
                "features_only",
            }
        ),
        renamed=(("model_cfg", "cfg"),),
    ),
}


# timm's tuple helpers: `to_2tuple(x)` and `to_ntuple(n)(x)` repeat one value n times and keep a
# sequence as it is (`block_fns = to_ntuple(len(channels))(block)`). The count; 0: `to_ntuple`, which
# takes it as its argument and returns the helper.
TUPLE_REPEATERS: dict[tuple[str, str], int] = {
    ("timm", "to_ntuple"): 0,
    **{("timm", f"to_{n}tuple"): n for n in range(1, 5)},
}


# Width rounding helpers: the channel count rounded to a multiple of `divisor`, at least
# `min_value` (default: the divisor), and one divisor more when rounding down lost over 10%
# (timm's `make_divisible(v, divisor=8, min_value=None, round_limit=.9)`, MobileNet's formula).
# Their positional parameters and defaults.
ROUNDING_HELPERS: dict[tuple[str, str], tuple[tuple[str, float | None], ...]] = {
    ("timm", "make_divisible"): (
        ("v", None),
        ("divisor", 8),
        ("min_value", None),
        ("round_limit", 0.9),
    ),
    ("torchvision", "_make_divisible"): (("v", None), ("divisor", None), ("min_value", None)),
}


# Classifier heads whose layers reslint does not model, by their positional parameters: enough to
# tell which argument is the number of classes (`ClassifierHead(self.num_features, num_classes)`).
HEADS: dict[tuple[str, str], tuple[str, ...]] = {
    ("timm", "ClassifierHead"): ("in_features", "num_classes", "pool_type"),
    ("timm", "NormMlpClassifierHead"): ("in_features", "num_classes", "hidden_size", "pool_type"),
}
# The method that rebuilds such a head for another number of classes: `self.head.reset(n, pool)`.
HEAD_RESET = ("reset", ("num_classes", "pool_type"))

# Subscripted factories that return a torch layer class: `Conv[Conv.CONV, spatial_dims]` (monai),
# `ACT2FN["relu"]` (transformers, an activation instance). (package, name) -> {member: torch type};
# a member not listed is a layer reslint does not know.
FACTORY_SUBSCRIPTS: dict[tuple[str, str], dict[str, str]] = {
    ("monai", "Conv"): {"CONV": "Conv2d", "CONVTRANS": "ConvTranspose2d"},
    ("monai", "Norm"): {
        "BATCH": "BatchNorm2d",
        "INSTANCE": "InstanceNorm2d",
        "GROUP": "GroupNorm",
        "LAYER": "LayerNorm",
    },
    ("monai", "Pool"): {
        "MAX": "MaxPool2d",
        "AVG": "AvgPool2d",
        "ADAPTIVEMAX": "AdaptiveMaxPool2d",
        "ADAPTIVEAVG": "AdaptiveAvgPool2d",
    },
    ("monai", "Act"): {
        "RELU": "ReLU",
        "RELU6": "ReLU6",
        "ELU": "ELU",
        "LEAKYRELU": "LeakyReLU",
        "PRELU": "PReLU",
        "SELU": "SELU",
        "CELU": "CELU",
        "GELU": "GELU",
        "SIGMOID": "Sigmoid",
        "TANH": "Tanh",
        "SOFTMAX": "Softmax",
        "LOGSOFTMAX": "LogSoftmax",
    },
}
# Subscripts that are an activation instance already (no call needed).
ACTIVATION_INSTANCES: frozenset[tuple[str, str]] = frozenset({("transformers", "ACT2FN")})

# OpenMMLab 2.x builds layers from config dicts through its registries: `MODELS.build(act_cfg)` with
# `act_cfg=dict(type="ReLU", inplace=True)` is `nn.ReLU(inplace=True)` (`mmseg.registry.MODELS`,
# `mmdet.registry.MODELS`, mmengine's own: each package's registry is a child of mmengine's, where
# mmcv registers these torch.nn activations under their class names). Other registered types (mmcv's
# own `Swish`, `HSigmoid`, blocks, losses) are not torch's: their build stays unknown.
_REGISTRY_BUILD = re.compile(r"(^|\.)registry\.[A-Z_]+\.build$")
REGISTERED_TORCH_ACTIVATIONS = frozenset(
    {"ReLU", "LeakyReLU", "PReLU", "RReLU", "ReLU6", "ELU", "Sigmoid", "Tanh", "GELU", "SiLU"}
)

# Modules of other libraries that wrap torch's functions under the same names and parameters: a call
# there takes the values torch takes (transformers' `initialization.kaiming_normal_` passes `mode` and
# `nonlinearity` on to torch.nn.init's, skipping only weights already loaded from a checkpoint).
TORCH_MIRRORS: dict[tuple[str, str], str] = {("transformers", "initialization"): "torch.nn.init"}


# Containers of other libraries that are torch's (with an `init_cfg` beside): mmengine's and mmcv
# 1.x's `Sequential(*layers)`, the torch.nn class each is. (Their ModuleList is left unknown for
# now: read as a list, it shows Res2Net's hierarchical `sp + spx[i]` as a residual sum and a
# module appended in exclusive branches as appended twice.)
CONTAINERS: dict[tuple[str, str], str] = {
    (package, "Sequential"): "Sequential" for package in ("mmengine", "mmcv")
}


def torch_container(qualified: str) -> str | None:
    """The torch.nn container a framework's container class is (`mmengine.model.Sequential`)."""
    found = _lookup(CONTAINERS, qualified)
    return found if isinstance(found, str) else None


# Base classes of other libraries that are torch.nn.Module subclasses.
MODULE_BASES: frozenset[tuple[str, str]] = frozenset(
    {
        ("mmengine", "BaseModule"),
        ("mmcv", "BaseModule"),
        ("mmengine", "Sequential"),
        ("mmengine", "ModuleList"),
        ("transformers", "PreTrainedModel"),
        ("pytorch_lightning", "LightningModule"),
        ("lightning", "LightningModule"),
        ("fastai", "Module"),
        ("timm", "ConvNormAct"),
        ("monai", "BaseEncoder"),
        ("classy_vision", "ClassyModel"),
    }
)
# Module bases whose metaclass runs nn.Module.__init__ before the subclass's own __init__: fastai's
# Module ("no need for subclasses to call super().__init__", PrePostInitMeta's __pre_init__).
SELF_INITIALIZING_BASES: frozenset[tuple[str, str]] = frozenset({("fastai", "Module")})


# Names generic enough that a project may define its own: matched only with their package in view.
GENERIC_NAMES = frozenset(
    {
        "conv1x1",
        "conv3x3",
        "ConvBlock",
        "ConvLayer",
        "Module",
        "Sequential",
        "ModuleList",
        "get_act_layer",
        "get_norm_layer",
        "Conv",
        "Norm",
        "Pool",
        "Act",
        "initialization",
    }
)


def _lookup(table: dict[tuple[str, str], object] | frozenset[tuple[str, str]], qualified: str):
    parts = qualified.lstrip(".").split(".")
    name = parts[-1]
    for package in parts[:-1]:
        if (package, name) in table:
            return (package, name) if isinstance(table, frozenset) else table[(package, name)]
    if qualified.startswith(".") and name not in GENERIC_NAMES:
        # A library file read outside its package (`from ...activations import ACT2FN` in a copy of
        # transformers' modeling_resnet.py): its distinctive API names still say what they are,
        # unless two libraries give the name different meanings (`from ..utils import
        # build_norm_layer` in mmpretrain returns a layer, mmcv's returns a (name, layer) pair).
        keys = [key for key in table if key[1] == name]
        if isinstance(table, frozenset):
            return keys[0] if keys else None
        meanings = [table[key] for key in keys]
        if meanings and all(meaning == meanings[0] for meaning in meanings):
            return meanings[0]
    return None


def described_in_its_package(qualified: str, parameters: frozenset[str] | None = None) -> bool:
    """Whether a table here describes the name under a package its own path names
    (`pytorchcv.models.common.conv1x1_block`, `torchvision.ops.misc.Conv2dNormActivation`): the
    library's own helper. Its facts are kept even where the library's file is linted too, whose
    definition (activation lambdas, config dicts) the model follows less far than the table says.
    `parameters`: the parameters of the definition the run found (None: it takes any keyword, or it
    is no function); where the table's are not all among them, the name is another helper of the
    same package (timm's models define a `ConvBnAct(in_chs, out_chs, ...)` of their own beside
    timm.layers'), and the table is not its."""
    parts = qualified.lstrip(".").split(".")
    tables: tuple[dict[tuple[str, str], Any], ...] = (
        BUILDERS,
        HEADS,
        MODEL_FACTORIES,
        TUPLE_REPEATERS,
        ROUNDING_HELPERS,
        CONTAINERS,
    )
    if not any((package, parts[-1]) in table for table in tables for package in parts[:-1]):
        return False
    expected = positional_parameters(qualified)
    return parameters is None or expected is None or parameters.issuperset(expected)


def builder_for(qualified: str) -> Builder | None:
    """The builder a qualified name stands for (`pytorchcv.models.common.conv.conv3x3_block`)."""
    found = _lookup(BUILDERS, qualified)
    return found if isinstance(found, Builder) else None


def positional_parameters(qualified: str) -> tuple[str, ...] | None:
    """The positional parameters of a framework builder or classifier head, in order."""
    builder = builder_for(qualified)
    if builder is not None:
        return builder.params
    found = _lookup(HEADS, qualified)
    return found if isinstance(found, tuple) else None


def is_head(qualified: str) -> bool:
    """A call that builds a whole classifier head (timm's `ClassifierHead`, `create_classifier`)."""
    builder = builder_for(qualified)
    return _lookup(HEADS, qualified) is not None or (
        builder is not None and builder.returns == "classifier"
    )


def model_factory(qualified: str) -> ModelFactory | None:
    """What a call that builds a model from the class it is given passes on to it."""
    found = _lookup(MODEL_FACTORIES, qualified)
    return found if isinstance(found, ModelFactory) else None


def tuple_repeater(qualified: str) -> int | None:
    """How many times a tuple helper repeats a value (0: the count is its argument), None for
    another call."""
    found = _lookup(TUPLE_REPEATERS, qualified)
    return found if isinstance(found, int) else None


def rounding_helper(qualified: str) -> tuple[tuple[str, float | None], ...] | None:
    """The parameters of a width rounding helper (`make_divisible`), with their defaults."""
    found = _lookup(ROUNDING_HELPERS, qualified)
    return found if isinstance(found, tuple) else None


def factory_subscript(qualified: str) -> dict[str, str] | None:
    found = _lookup(FACTORY_SUBSCRIPTS, qualified)
    return found if isinstance(found, dict) else None


def is_activation_instances(qualified: str) -> bool:
    return _lookup(ACTIVATION_INSTANCES, qualified) is not None


def is_registry_build(qualified: str) -> bool:
    """`mmseg.registry.MODELS.build`: an OpenMMLab registry building a layer from a config dict."""
    return _REGISTRY_BUILD.search(qualified) is not None


# What an instance of a framework's nn.Module base has beyond nn.Module's own attributes, in every
# released version (mmcv 1.x's runner.BaseModule, mmengine's model.BaseModule).
_OPENMMLAB_BASE = frozenset(
    {"init_cfg", "_is_init", "is_init", "init_weights", "_dump_init_info", "_params_init_info"}
)
# Classy Vision's ClassyModel: its heads machinery (attached to blocks by module name, never by
# attribute) and state helpers; the shape properties of its older releases too.
_CLASSY_MODEL = frozenset(
    {
        "wrapper_cls", "_attachable_blocks", "_attachable_block_names", "_heads", "_head_outputs",
        "from_config", "from_model", "from_checkpoint", "get_classy_state", "set_classy_state",
        "load_head_states", "extract_features", "_build_attachable_block",
        "attachable_block_names", "clear_heads", "_strip_classy_blocks", "_make_module_attachable",
        "set_heads", "get_heads", "head_outputs", "get_block_outputs", "execute_heads",
        "input_shape", "output_shape", "model_depth", "get_optimizer_params",
    }
)  # fmt: skip
MODULE_BASE_ATTRIBUTES: dict[tuple[str, str], frozenset[str]] = {
    ("mmengine", "BaseModule"): _OPENMMLAB_BASE,
    ("mmcv", "BaseModule"): _OPENMMLAB_BASE,
    ("classy_vision", "ClassyModel"): _CLASSY_MODEL,
    # fastai's Module: nn.Module with the `__pre_init__` its metaclass calls.
    ("fastai", "Module"): frozenset({"__pre_init__"}),
}


def module_base_attributes(qualified: str) -> frozenset[str] | None:
    """The attributes a known framework base class gives its subclasses, None for another class."""
    found = _lookup(MODULE_BASE_ATTRIBUTES, qualified)
    return found if isinstance(found, frozenset) else None


def is_module_base(qualified: str) -> bool:
    """Whether a base class of another library is an nn.Module: mmengine's BaseModule..., or a layer
    class of the builder table (torchvision's `class SimpleStemIN(Conv2dNormActivation)`; a builder
    that is a function cannot be a base)."""
    if _lookup(MODULE_BASES, qualified) is not None:
        return True
    builder = builder_for(qualified)
    return builder is not None and builder.returns == "layers"


# Class attributes a framework base reads to find a submodule for its bookkeeping, never to run it:
# transformers' `base_model_prefix = "bit"` names the backbone that `model.base_model` returns and
# checkpoints are keyed by.
BOOKKEEPING_NAMES: dict[tuple[str, str], frozenset[str]] = {
    ("transformers", "PreTrainedModel"): frozenset({"base_model_prefix"}),
}


def bookkeeping_names(qualified: str) -> frozenset[str]:
    """The class attributes of a framework base that name a submodule only for bookkeeping."""
    found = _lookup(BOOKKEEPING_NAMES, qualified)
    return found if isinstance(found, frozenset) else frozenset()


def initializes_itself(qualified: str) -> bool:
    """Whether a framework's module base runs nn.Module.__init__ without the subclass calling it."""
    return _lookup(SELF_INITIALIZING_BASES, qualified) is not None


def torch_mirror(qualified: str) -> str | None:
    """The torch module a framework module mirrors (`...transformers.initialization` -> "torch.nn.init")."""
    found = _lookup(TORCH_MIRRORS, qualified)
    return found if isinstance(found, str) else None
