"""The module model: what reslint knows about one source file, built once and asked by every rule."""

from reslint.model.module import ModuleModel, build_module_model

__all__ = ["ModuleModel", "build_module_model"]
