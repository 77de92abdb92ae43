"""reslint: a fault-finding linter for residual-network code written in PyTorch."""

__version__ = "0.1.0"
