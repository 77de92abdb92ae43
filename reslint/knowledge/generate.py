"""Regenerate reslint's torch facts from the installed torch.

    python -m reslint.knowledge.generate           # rewrite names.py and signatures.py
    python -m reslint.knowledge.generate --check   # exit 1 when they differ from the installed torch

The only module of reslint that imports torch for the static pass's sake; it runs by hand after a
torch upgrade and in tests/test_knowledge.py, never while linting.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import re
import sys
import textwrap
from pathlib import Path
from types import ModuleType
from typing import Any

HERE = Path(__file__).resolve().parent
# The namespaces whose names RN105 checks and RN120 points to; torch.nn.modules.* are added as found.
NAMESPACES = (
    "torch",
    "torch.nn",
    "torch.nn.functional",
    "torch.nn.init",
    "torch.nn.modules",
    "torch.nn.utils",
    "torch.hub",
    "torch.utils.model_zoo",
)
SIGNATURE_NAMESPACES = ("torch.nn", "torch.nn.functional", "torch.nn.init")
GENERATED = re.compile(r"# BEGIN GENERATED.*?# END GENERATED\n", re.DOTALL)
WIDTH = 112


# ----- collecting ------------------------------------------------------------------------------


def module_names(module: ModuleType) -> frozenset[str]:
    """Every attribute a user can write after `module.`: what dir() shows, underscores included, and
    the submodules on disk (an attribute once imported)."""
    names = set(dir(module))
    for path in getattr(module, "__path__", ()):
        for child in Path(path).iterdir():
            if child.is_dir() and (child / "__init__.py").exists():
                names.add(child.name)
            elif child.suffix == ".py" and child.stem != "__init__":
                names.add(child.stem)
    return frozenset(names)


def collect_names() -> dict[str, object]:
    import torch
    import torch.nn

    namespaces: dict[str, frozenset[str]] = {}
    open_namespaces: set[str] = set()
    submodules = sorted(module_names(torch.nn.modules) & _python_modules(torch.nn.modules))
    for qualified in [*NAMESPACES, *(f"torch.nn.modules.{name}" for name in submodules)]:
        module = importlib.import_module(qualified)
        namespaces[qualified] = module_names(module)
        if "__getattr__" in vars(module):
            open_namespaces.add(qualified)  # it answers names dir() does not show
    # What a tensor and a module have; an instance, so that nn.Module's own attributes count.
    namespaces["torch.Tensor"] = frozenset(dir(torch.Tensor))
    namespaces["torch.nn.Module"] = frozenset(dir(torch.nn.Module()))
    return {
        "TORCH_VERSION": torch.__version__,
        "NAMESPACES": namespaces,
        "OPEN_NAMESPACES": frozenset(open_namespaces),
    }


def _python_modules(package: ModuleType) -> set[str]:
    return {child.stem for path in package.__path__ for child in Path(path).glob("*.py")} - {
        "__init__"
    }


def collect_signatures() -> dict[str, tuple[str, ...]]:
    """`torch.nn.Conv2d` -> ("in_channels", "out_channels", "kernel_size", "stride=", ...).

    Every torch.nn module class (its constructor) and every Python function defined in
    torch.nn.functional and torch.nn.init; functions written in C have no signature to read.
    """
    import torch.nn

    found: dict[str, tuple[str, ...]] = {}
    for namespace in SIGNATURE_NAMESPACES:
        module = importlib.import_module(namespace)
        for name in sorted(dir(module)):
            target = getattr(module, name)
            if _is_module_class(target, torch.nn.Module) or (
                inspect.isfunction(target) and target.__module__ == namespace
            ):
                found[f"{namespace}.{name}"] = encode(_signature(target, torch.nn.Module))
    return found


def _signature(target: Any, module_class: type) -> inspect.Signature:
    # nn.Module.__init__ takes *args and **kwargs only to pass them along a cooperative super() chain
    # (call_super_init); otherwise it rejects any argument, so a layer that inherits it takes none.
    inherits_module_init = getattr(target, "__init__", None) is vars(module_class)["__init__"]
    if inherits_module_init and not getattr(target, "call_super_init", True):
        return inspect.Signature()
    return inspect.signature(target)


def _is_module_class(target: object, module_class: type) -> bool:
    return isinstance(target, type) and issubclass(target, module_class)


def encode(signature: inspect.Signature) -> tuple[str, ...]:
    """Python's own notation without annotations and default values: `/`, `*`, `*args`, `**kwargs`,
    `name=` for a parameter with a default."""
    kinds = inspect.Parameter
    parts: list[str] = []
    previous = None
    for parameter in signature.parameters.values():
        kind = parameter.kind
        if previous is kinds.POSITIONAL_ONLY and kind is not kinds.POSITIONAL_ONLY:
            parts.append("/")
        if kind is kinds.KEYWORD_ONLY and previous not in (
            kinds.KEYWORD_ONLY,
            kinds.VAR_POSITIONAL,
        ):
            parts.append("*")
        prefix = "*" if kind is kinds.VAR_POSITIONAL else "**" if kind is kinds.VAR_KEYWORD else ""
        suffix = "=" if parameter.default is not inspect.Parameter.empty else ""
        parts.append(f"{prefix}{parameter.name}{suffix}")
        previous = kind
    if previous is kinds.POSITIONAL_ONLY:
        parts.append("/")
    return tuple(parts)


# ----- rendering -------------------------------------------------------------------------------


def render_names(values: dict[str, object]) -> str:
    namespaces: dict[str, frozenset[str]] = values["NAMESPACES"]  # type: ignore[assignment]
    lines = [f'TORCH_VERSION = "{values["TORCH_VERSION"]}"', "NAMES: dict[str, str] = {"]
    for qualified in sorted(namespaces):
        lines += [f'    "{qualified}": (', *_wrapped(namespaces[qualified]), "    ),"]
    lines.append("}")
    lines.append(f"OPEN_NAMESPACES = frozenset({_inline(values['OPEN_NAMESPACES'])})")
    return _fenced("\n".join(lines))


def render_signatures(signatures: dict[str, tuple[str, ...]]) -> str:
    lines = ["SIGNATURES: dict[str, tuple[str, ...]] = {"]
    for qualified in sorted(signatures):
        parts = signatures[qualified]
        lines.append(
            f'    "{qualified}": ({", ".join(_quoted(parts))}{"," if len(parts) == 1 else ""}),'
        )
    lines.append("}")
    return _fenced("\n".join(lines))


def _fenced(body: str) -> str:
    return (
        "# BEGIN GENERATED (python -m reslint.knowledge.generate)\n# fmt: off\n"
        f"{body}\n# fmt: on\n# END GENERATED\n"
    )


def _quoted(names) -> list[str]:
    return [f'"{name}"' for name in names]


def _inline(names) -> str:
    return "{" + ", ".join(_quoted(sorted(names))) + "}" if names else ""


def _wrapped(names) -> list[str]:
    """One space-separated string over several lines (adjacent literals are joined when compiled)."""
    text = " ".join(sorted(names))
    return [
        f'        "{line} "' for line in textwrap.wrap(text, width=WIDTH, break_on_hyphens=False)
    ]


# ----- writing ---------------------------------------------------------------------------------


def generated_blocks() -> dict[Path, str]:
    """Each generated file and the block the installed torch gives it."""
    return {
        HERE / "names.py": render_names(collect_names()),
        HERE / "signatures.py": render_signatures(collect_signatures()),
    }


def with_block(source: str, block: str) -> str:
    return GENERATED.sub(lambda _: block, source, count=1)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m reslint.knowledge.generate", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--check", action="store_true", help="only report stale files (exit 1)")
    args = parser.parse_args(argv)
    stale = []
    for path, block in generated_blocks().items():
        source = path.read_text(encoding="utf-8")
        if block in source:
            continue
        stale.append(path)
        if not args.check:
            path.write_text(with_block(source, block), encoding="utf-8")
    verb = "stale" if args.check else "rewrote"
    for path in stale:
        print(f"{verb}: {path}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
