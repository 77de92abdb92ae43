"""reslint: a fault-finding linter for residual-network code written in PyTorch."""

__version__ = "0.1.0"


def __getattr__(name: str) -> object:
    """`reslint.compare(model, "resnet50")`, imported on first use: importing reslint imports no torch."""
    if name == "compare":
        from reslint.dynamic.api import compare

        return compare
    raise AttributeError(f"module 'reslint' has no attribute {name!r}")
