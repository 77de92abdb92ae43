"""What people call things in residual-network code: the one definition of a shortcut's name."""

from __future__ import annotations

import re

# What people call a shortcut branch (torchvision's `downsample`, kuangliu's `shortcut`, pytorchcv's
# `identity_conv`). Not `residual` (often the main branch: `self.residual_function`) nor `proj` (timm
# names main-branch projections so).
SHORTCUT_NAME = re.compile(r"(downsample|down_sample|shortcut|short_cut|skip|identity|extra)", re.I)
