"""What people call things in residual-network code: a shortcut, a method that sets a model up."""

from __future__ import annotations

import re

# What people call a shortcut branch (torchvision's `downsample`, kuangliu's `shortcut`, pytorchcv's
# `identity_conv`), spelt as students spell it (`shorcut`, `short_cut`, `dowsample`). Not `residual`
# (often the main branch: `self.residual_function`) nor `proj` (timm names main-branch projections so).
_SHORTCUT_WORDS = r"do?wn?_?sampl|sh\w{0,4}cut|skip|identity|extra"
SHORTCUT_NAME = re.compile(f"({_SHORTCUT_WORDS})", re.I)
# In the module names of a built network (`layer1.0.downsample.0`, `stage2.proj_bn`) a projection is
# always the shortcut's: the main branch's layers are conv1, bn1, ... (reslint --compare-to).
SHORTCUT_MODULE_NAME = re.compile(f"({_SHORTCUT_WORDS}|down|short|proj)", re.I)
# A running input width a stage builder carries from block to block (`self.inplanes`).
RUNNING_CHANNELS = re.compile(
    r"^_?(in_?planes|in_?channels?|in_?ch|inp|in_?features|cur(rent)?_?(planes|channels))$",
    re.IGNORECASE,
)
# A projection (`self.proj`): a shortcut only where the forward shows it is one, by adding it
# applied straight to the block's input (`self.proj(x) + self.f(x)`).
# `proj`, `proj_conv`; `self.project` stays out as before this name was taught: WRN-style blocks name so
# a shortcut chosen by a width test alone, which their builders only ever stride with a width change.
PROJECTION_NAME = re.compile(r"proj(?!ect)", re.I)


# Short channel names of student code and compact repositories: `cin`/`cout`, `c_in`, `nin`, `c1`.
SHORT_CHANNEL_NAME = re.compile(r"[cn]_?in|c\d")
# Words in the names of parameters and attributes that hold sizes.
_SIZE_WORDS = (
    "plane",
    "channel",
    "feature",
    "width",
    "dim",
    "stride",
    "group",
    "cardinality",
    "expansion",
    "inp",
    "oup",
    "num",
    "size",
    "depth",
    "ch",
    "filters",
    "out",
    "in_",
    "mid",
    "hidden",
    "layers",
    "block",
)


def names_a_size(name: str) -> bool:
    """Whether a parameter's or attribute's name says it carries a size (`planes`, `self.inplanes`,
    `cin`): reslint treats such values as symbols rather than unknowns."""
    lowered = name.lower().rsplit(".", 1)[-1]
    return SHORT_CHANNEL_NAME.fullmatch(lowered) is not None or any(
        part in lowered for part in _SIZE_WORDS
    )


def names_stride(name: str) -> bool:
    """Whether a name says it holds a stride: `stride`, `strides`, `down_stride`, and one spelt short
    (`down_sample_strid`); `strid` is what all of them share, and no other word people use holds it."""
    return "strid" in name.lower()


# A name that says its value is discarded on purpose, as ruff's and pylint's dummy variables: `_`,
# `_unused`, `**_` (timm's blocks take `**_` to ignore what a shared factory passes every block).
DISCARDED = re.compile(r"_\w*")

# Methods that walk the submodules to set them up, not to compute with them (`_init_weights`,
# `reset_parameters`, `freeze_bn`, `fuse_model`, `load_pretrained`...); `__init__` matches too.
BOOKKEEPING = re.compile(
    r"init|weight|param|reset|freeze|fuse|train|eval|load|state|summary|repr", re.I
)

# A callable reslint cannot see whose name says it builds a normalisation layer: lightly's
# `get_norm_layer(planes, num_splits)`, a `norm_layer` argument with no default, `build_bn(...)`.
# Names that also mention an activation or a conv (`norm_act_layer`, `conv_bn`) build more than a norm.
_NORM_WORDS = {"norm", "bn", "batchnorm", "batch_norm"}
_OTHER_WORDS = {"act", "activation", "relu", "conv", "linear", "fc"}


def builds_norm(callee: str) -> bool:
    words = set(re.split(r"[_.]", callee.lower()))
    return bool(words & _NORM_WORDS) and not words & _OTHER_WORDS


# A class named for having no normalisation on purpose: an ablation (`ResNetNoBN`, `resnet_no_norm`,
# `PlainNetWithoutBN`) or a design that trains without it (`NFResNet`, `FixupResNet`, `NormFreeNet`).
NORM_FREE_NAME = re.compile(
    r"no_?(bn|norm|batch_?norm)|without_?(bn|norm)|(bn|norm)_?free|^nf_?res|fixup", re.I
)

# A class named for having no residual connection on purpose: the plain network the ResNet paper
# compares against (`PlainBlock`, `Plain34`) or an ablation (`BlockNoSkip`, `net_without_shortcut`).
# "plain" as a word of the name (`Plain34`, `ResNetPlain`, `plain_block`), not inside `Explainable`.
NO_RESIDUAL_NAME = re.compile(
    r"(?:^|_)[Pp]lain|(?<=[a-z0-9])Plain"
    r"|(?i:no_?(skip|shortcut|residual)|without_?(skip|shortcut|residual))"
)

# A flag that switches diagnostics on (`verbose`, `self.debug`, `print_shapes`, `show_maps`), or one
# that marks the first pass (`self.firstrun`, `first_call`), which forward clears: what runs under it
# runs only while someone is looking, or once, not on every pass.
DEBUG_SWITCH = re.compile(
    r"verbose|debug|print|log|show|trace|display|visuali[sz]e|plot"
    r"|first_?(run|pass|call|time|forward|batch|iter)",
    re.I,
)
