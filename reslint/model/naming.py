"""What people call things in residual-network code: a shortcut, a method that sets a model up."""

from __future__ import annotations

import re

# What people call a shortcut branch (torchvision's `downsample`, kuangliu's `shortcut`, pytorchcv's
# `identity_conv`). Not `residual` (often the main branch: `self.residual_function`) nor `proj` (timm
# names main-branch projections so).
SHORTCUT_NAME = re.compile(r"(downsample|down_sample|shortcut|short_cut|skip|identity|extra)", re.I)

# Methods that walk the submodules to set them up, not to compute with them (`_init_weights`,
# `reset_parameters`, `freeze_bn`, `load_pretrained`...); `__init__` matches too.
BOOKKEEPING = re.compile(r"init|weight|param|reset|freeze|train|eval|load|state|summary|repr", re.I)
