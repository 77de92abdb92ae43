"""Resolve TARGET (`path/to/file.py:Name` or `package.module:Name`) to a model factory, in the worker.

Everything that goes wrong here becomes a `CouldNotRun` with a finding code, never a traceback.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
import sys
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class CouldNotRun(Exception):
    """The comparison cannot go on; carries the finding to report."""

    def __init__(
        self, code: str, message: str, hint: str = "", path: str = "", line: int = 1
    ) -> None:
        super().__init__(message)
        self.code, self.message, self.hint, self.path, self.line = code, message, hint, path, line


@dataclass(frozen=True)
class TargetSpec:
    module: str  # a file path or a dotted module name
    name: str  # attribute path inside the module
    is_file: bool


@dataclass(frozen=True)
class Target:
    factory: Callable[..., Any]
    path: str  # file where the factory is defined (or the target file)
    line: int  # line of its class/def (1 when unknown)
    label: str  # "file.py:Name" as the user wrote it


def target_file(text: str) -> str:
    """The module part of TARGET (`path/to/file.py` of `path/to/file.py:Name`), where findings about a
    target that could not be resolved are anchored."""
    return text.rpartition(":")[0] or text


def parse_target(text: str) -> TargetSpec:
    module, sep, name = text.rpartition(":")
    if not sep or not module or not name:
        raise CouldNotRun(
            "RD001",
            f"target {text!r} is not of the form path/to/file.py:Name or package.module:Name",
            "name the model after a colon, e.g. models/resnet.py:ResNet50",
        )
    is_file = module.endswith(".py") or "/" in module or os.sep in module
    if not is_file and not all(part.isidentifier() for part in module.split(".")):
        raise CouldNotRun("RD001", f"{module!r} is neither a .py file nor a dotted module name")
    if not all(part.isidentifier() for part in name.split(".")):
        raise CouldNotRun("RD001", f"{name!r} is not a Python name")
    return TargetSpec(module, name, is_file)


def _module_name_for(path: Path) -> str:
    stem = path.stem if path.stem.isidentifier() else "reslint_target"
    return stem if stem not in sys.modules else f"_reslint_target_{stem}"


def _import_failure(error: BaseException, path: str) -> CouldNotRun:
    line = 1
    if isinstance(error, SyntaxError) and error.lineno:
        line = error.lineno
    else:
        frames = [
            f for f in traceback.extract_tb(error.__traceback__) if _same_file(f.filename, path)
        ]
        if frames:
            line = frames[-1].lineno or 1
    text = str(error).strip().splitlines()[0] if str(error).strip() else ""
    return CouldNotRun(
        "RD002",
        f"importing {path} raised {type(error).__name__}: {text}".rstrip(": "),
        "fix the error so the file imports on its own (python -c 'import ...')",
        path,
        line,
    )


def _same_file(a: str, b: str) -> bool:
    try:
        return Path(a).resolve() == Path(b).resolve()
    except OSError:
        return False


def import_module(spec: TargetSpec, cwd: str) -> tuple[Any, str]:
    """Import the target's module (this executes the user's code: worker only)."""
    if spec.is_file:
        path = (Path(cwd) / spec.module).resolve()
        if not path.is_file():
            raise CouldNotRun("RD001", f"file {spec.module} does not exist", "", spec.module)
        name = _module_name_for(path)
        module_spec = importlib.util.spec_from_file_location(name, path)
        if module_spec is None or module_spec.loader is None:
            raise CouldNotRun("RD001", f"{spec.module} cannot be imported as Python", "", str(path))
        module = importlib.util.module_from_spec(module_spec)
        sys.modules[name] = module
        try:
            with _first_on_path(str(path.parent)):
                module_spec.loader.exec_module(module)
        except (KeyboardInterrupt, MemoryError):
            raise
        except BaseException as error:  # SystemExit too: the user's module must not end the worker
            raise _import_failure(error, str(path)) from None
        return module, str(path)
    with _first_on_path(cwd):
        try:
            found = importlib.util.find_spec(spec.module)
        except (ImportError, ValueError):
            found = None
        if found is None:
            raise CouldNotRun(
                "RD001",
                f"module {spec.module} cannot be found from {cwd}",
                "run reslint from the folder that contains the package, or give a file path",
            )
        origin = found.origin or spec.module
        try:
            module = importlib.import_module(spec.module)
        except (KeyboardInterrupt, MemoryError):
            raise
        except BaseException as error:
            raise _import_failure(error, origin) from None
    return module, getattr(module, "__file__", None) or origin


@contextmanager
def _first_on_path(folder: str) -> Iterator[None]:
    """The model's folder first on sys.path while its module is imported, as `python model.py` has it;
    last afterwards, where what the model imports later still finds its own files, but what torch, numpy
    or hypothesis import later (numpy.random reads `secrets`, torch's shape reasoning `sympy`) never
    comes from the model's folder: a `secrets.py` beside the model must not break the comparison."""
    sys.path.insert(0, folder)
    try:
        yield
    finally:
        if folder in sys.path:  # the model may have taken it out itself
            sys.path.remove(folder)
        sys.path.append(folder)


def _candidates(module: Any) -> list[str]:
    import torch.nn as nn

    names = []
    for attr, value in vars(module).items():
        if getattr(value, "__module__", None) != module.__name__:
            continue
        if inspect.isclass(value) and issubclass(value, nn.Module) or inspect.isfunction(value):
            names.append(attr)
    return names


def resolve(spec: TargetSpec, cwd: str) -> Target:
    module, path = import_module(spec, cwd)
    value: Any = module
    for part in spec.name.split("."):
        if not hasattr(value, part):
            found = ", ".join(_candidates(module)) or "none"
            raise CouldNotRun(
                "RD001",
                f"{path} defines no {spec.name!r}",
                f"models and functions there: {found}",
                path,
            )
        value = getattr(value, part)
    import torch.nn as nn

    if inspect.isclass(value) and not issubclass(value, nn.Module):
        raise CouldNotRun(
            "RD009",
            f"{spec.name} is a class that does not inherit nn.Module",
            "derive it from nn.Module, or name a function that returns the model",
            path,
            source_line(value),
        )
    if not callable(value):
        raise CouldNotRun(
            "RD009",
            f"{spec.name} is a {type(value).__name__}, not a model class or factory",
            "name an nn.Module class or a function that returns one",
            path,
        )
    return Target(
        value, source_file(value) or path, source_line(value), f"{spec.module}:{spec.name}"
    )


def source_line(obj: Any) -> int:
    try:
        return inspect.getsourcelines(obj)[1] or 1
    except (OSError, TypeError):
        return 1


def source_file(obj: Any) -> str | None:
    try:
        return inspect.getsourcefile(obj)
    except TypeError:
        return None


def missing_arguments(factory: Callable[..., Any], given: dict[str, Any]) -> list[str]:
    """Required parameters of the constructor/factory that `given` does not supply."""
    try:
        signature = inspect.signature(factory)
    except (TypeError, ValueError):
        return []
    required = []
    for name, param in signature.parameters.items():
        if (
            param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD)
            or param.default is not param.empty
        ):
            continue
        if name not in given:
            required.append(name)
    return required


def describe_signature(factory: Callable[..., Any]) -> str:
    try:
        return f"{getattr(factory, '__name__', 'model')}{inspect.signature(factory)}"
    except (TypeError, ValueError):
        return getattr(factory, "__name__", "model")
