"""The dynamic pass end to end: run the real CLI on fixtures/models/ and check what a user would read.

Every case runs `python -m reslint --compare-to ARCH fixtures/models/FILE.py:NAME --format json` in a
subprocess, exactly as a user would, and checks the verdict, the exit code (0 matches, 1 differs, 2 could not
run), where the difference is located, the parameter counts and the minimal failing input.

Expected numbers are derived here, independently of reslint: parameter counts from the architectures'
arithmetic (`torchvision_convs`, `cifar_convs`), failing inputs from the spatial arithmetic of each bug
(`FAILS`), anchor lines by searching the fixture's source. Nothing is copied from reslint's output.

Each CLI call costs a Python start and a torch import, so the runs needed by the selected tests are started
together, RESLINT_TEST_JOBS at a time (default: the CPU count), when the first of them is requested.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from spawning import start

REPO = Path(__file__).resolve().parents[2]
MODELS = REPO / "fixtures" / "models"
# Runs share the machine with the rest of the suite, so reslint's own time limit (--timeout, default 60 s)
# is raised for every case but the hanging model: these tests check results, not speed (benchmarks/ does).
GENEROUS_TIMEOUT = 600.0
RUN_GUARD_SECONDS = 900  # a reslint that hangs anyway fails its test instead of hanging CI


# --- running the CLI ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Run:
    arch: str
    fixture: str  # file name in fixtures/models/
    name: str  # class or factory in it
    init: tuple[tuple[str, Any], ...] = ()  # --init, as sorted items so the run is hashable
    timeout: float | None = None
    flags: tuple[str, ...] = ()  # more command-line flags, e.g. ("--output", "0")

    @property
    def target(self) -> str:
        return f"fixtures/models/{self.fixture}:{self.name}"

    @property
    def path(self) -> Path:
        return MODELS / self.fixture

    @property
    def argv(self) -> list[str]:
        argv = [
            sys.executable,
            "-m",
            "reslint",
            "--compare-to",
            self.arch,
            self.target,
            "--format",
            "json",
        ]
        if self.init:
            argv += ["--init", json.dumps(dict(self.init))]
        argv += ["--timeout", str(GENEROUS_TIMEOUT if self.timeout is None else self.timeout)]
        return argv + list(self.flags)

    @property
    def id(self) -> str:
        init = "".join(f"-{key}={value}" for key, value in self.init)
        timeout = f"-timeout={self.timeout:g}" if self.timeout is not None else ""
        flags = "".join(f"-{flag.lstrip('-')}" for flag in self.flags)
        return (
            f"{self.fixture.removesuffix('.py')}:{self.name}{init}{timeout}{flags}-vs-{self.arch}"
        )


def run_of(
    reference: str,
    fixture: str,
    name: str,
    timeout: float | None = None,
    flags: tuple[str, ...] = (),
    **init: Any,
) -> Run:
    """`reslint --compare-to REFERENCE fixtures/models/FIXTURE:NAME [--timeout T] [--init INIT] [FLAGS]`."""
    return Run(reference, fixture, name, tuple(sorted(init.items())), timeout, flags)


@dataclass
class Result:
    run: Run
    returncode: int
    stdout: str
    stderr: str

    @property
    def report(self) -> dict[str, Any]:
        """stdout must be exactly one JSON object (prints of the user's model must not leak into it)."""
        try:
            value = json.loads(self.stdout)
        except json.JSONDecodeError as error:
            pytest.fail(
                f"{self.run.id}: stdout is not one JSON object ({error}):\n{self.stdout[:2000]}\n"
                f"stderr:\n{self.stderr[-2000:]}"
            )
        assert isinstance(value, dict), (
            f"{self.run.id}: JSON output is a {type(value).__name__}, not an object"
        )
        return value

    def explain(self) -> str:
        return f"{self.run.id} (exit {self.returncode})\nstdout:\n{self.stdout[:4000]}\nstderr:\n{self.stderr[-2000:]}"


def execute(run: Run) -> Result:
    process = start(run.argv, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        stdout, stderr = process.communicate(timeout=RUN_GUARD_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        stdout, _ = process.communicate()
        return Result(run, -1, stdout or "", f"reslint did not finish in {RUN_GUARD_SECONDS} s")
    return Result(run, process.returncode, stdout, stderr)


class Runner:
    """Starts every run the selected tests of this module need, a few at a time, and hands out results."""

    def __init__(self, runs: list[Run]) -> None:
        jobs = int(os.environ.get("RESLINT_TEST_JOBS") or os.cpu_count() or 1)
        self.pool = ThreadPoolExecutor(max_workers=max(1, jobs))
        self.futures: dict[Run, Future[Result]] = {}
        for run in runs:
            self._submit(run)

    def _submit(self, run: Run) -> Future[Result]:
        if run not in self.futures:
            self.futures[run] = self.pool.submit(execute, run)
        return self.futures[run]

    def __call__(self, run: Run) -> Result:
        return self._submit(run).result()


@pytest.fixture(scope="module")
def cli(request: pytest.FixtureRequest) -> Iterator[Runner]:
    here = request.node.path
    wanted = [
        value
        for item in request.session.items
        if item.path == here and hasattr(item, "callspec")
        for value in item.callspec.params.values()
        if isinstance(value, (Run, Case))
    ]
    runner = Runner([value.run if isinstance(value, Case) else value for value in wanted])
    yield runner
    runner.pool.shutdown(wait=True, cancel_futures=True)


# --- the architectures' arithmetic ----------------------------------------------------------------
@dataclass(frozen=True)
class Conv:
    stage: str
    in_channels: int
    out_channels: int
    kernel: int
    groups: int = 1

    @property
    def weights(self) -> int:
        return self.in_channels // self.groups * self.out_channels * self.kernel**2


STAGE_PLANES = (64, 128, 256, 512)
EXPANSION = {"basic": 1, "bottleneck": 4}
ARCHS: dict[str, dict[str, Any]] = {  # torchvision's definitions (models/resnet.py)
    "resnet18": {"block": "basic", "layers": (2, 2, 2, 2)},
    "resnet34": {"block": "basic", "layers": (3, 4, 6, 3)},
    "resnet50": {"block": "bottleneck", "layers": (3, 4, 6, 3)},
    "resnext50_32x4d": {
        "block": "bottleneck",
        "layers": (3, 4, 6, 3),
        "groups": 32,
        "width_per_group": 4,
    },
    "wide_resnet50_2": {"block": "bottleneck", "layers": (3, 4, 6, 3), "width_per_group": 128},
}
PUBLISHED = {  # torchvision's published parameter counts
    "resnet18": 11_689_512,
    "resnet34": 21_797_672,
    "resnet50": 25_557_032,
    "resnext50_32x4d": 25_028_904,
    "wide_resnet50_2": 68_883_240,
}


def torchvision_convs(
    block: str,
    layers: tuple[int, ...],
    groups: int = 1,
    width_per_group: int = 64,
    expansion: int | None = None,
    inplanes_updated: bool = True,
) -> list[Conv]:
    """Every conv of a torchvision ResNet, in order; each is followed by exactly one BatchNorm.

    `expansion` and `inplanes_updated` describe two of the fixtures' bugs."""
    expansion = EXPANSION[block] if expansion is None else expansion
    convs = [Conv("stem", 3, 64, 7)]
    inplanes = 64
    for index, (planes, blocks) in enumerate(zip(STAGE_PLANES, layers)):
        stage, stride, out = f"layer{index + 1}", 1 if index == 0 else 2, planes * expansion
        for block_index in range(blocks):
            block_in = out if block_index and inplanes_updated else inplanes
            if block == "bottleneck":
                width = int(planes * width_per_group / 64) * groups
                convs += [
                    Conv(stage, block_in, width, 1),
                    Conv(stage, width, width, 3, groups),
                    Conv(stage, width, out, 1),
                ]
            else:
                convs += [Conv(stage, block_in, planes, 3), Conv(stage, planes, planes, 3)]
            if block_index == 0 and (stride != 1 or block_in != out):
                convs.append(Conv(stage, block_in, out, 1))  # downsample.0
        if inplanes_updated:
            inplanes = out
    return convs


def cifar_convs(depth: int) -> list[Conv]:
    """He et al. 2016 section 4.2: 3x3/16 stem, 3 stages of (depth - 2) / 6 BasicBlocks, option A (no convs)."""
    blocks = (depth - 2) // 6
    convs, in_channels = [Conv("stem", 3, 16, 3)], 16
    for index, planes in enumerate((16, 32, 64)):
        for _ in range(blocks):
            convs += [
                Conv(f"layer{index + 1}", in_channels, planes, 3),
                Conv(f"layer{index + 1}", planes, planes, 3),
            ]
            in_channels = planes
    return convs


def parameter_count(convs: list[Conv], classes: int, conv_bias: bool = False) -> int:
    """Conv weights (+ biases), one BatchNorm (weight + bias) per conv, and the final Linear."""
    body = sum(c.weights + 2 * c.out_channels + (c.out_channels if conv_bias else 0) for c in convs)
    features = convs[-1].out_channels  # the last block's last conv feeds the classifier
    return body + features * classes + classes


CIFAR_DEPTHS = {"resnet20": 20, "resnet32": 32, "resnet44": 44, "resnet56": 56, "resnet110": 110}


def arch_convs(arch: str, **bug: Any) -> list[Conv]:
    if arch in CIFAR_DEPTHS:
        return cifar_convs(CIFAR_DEPTHS[arch])
    return torchvision_convs(**ARCHS[arch], **bug)


def arch_parameters(arch: str, **bug: Any) -> int:
    """With the architecture's usual classes: 10 for the CIFAR ResNets, 1000 for ImageNet."""
    classes = 10 if arch in CIFAR_DEPTHS else 1000
    return parameter_count(arch_convs(arch, **bug), classes)


def sum_out_channels(convs: list[Conv], stages: set[str] | None = None) -> int:
    return sum(c.out_channels for c in convs if stages is None or c.stage in stages)


def torch_parameter_count(fixture: str, name: str, **init: Any) -> int:
    """The fixture's own count, by torch (on the meta device: no weight memory)."""
    import importlib.util

    import torch

    spec = importlib.util.spec_from_file_location(
        f"reslint_fixture_{fixture[:-3]}", MODELS / fixture
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    with torch.device("meta"):
        model = getattr(module, name)(**init)
    return sum(p.numel() for p in model.parameters())


# --- where each bug makes the model fail (spatial arithmetic, see each fixture's docstring) -------------
def ceil_div(size: int, by: int) -> int:
    return -(-size // by)


def avgpool7_fails(h: int, w: int) -> bool:
    """AvgPool2d(7) on layer4's ceil(s/32) map must leave exactly 1x1 for fc: fails unless 7 <= map <= 13."""
    return not all(7 <= ceil_div(s, 32) <= 13 for s in (h, w))


def unstrided_shortcut_fails(h: int, w: int) -> bool:
    """Main branch halves layer1's ceil(s/4) map, the shortcut does not: they only agree on a 1x1 map."""
    return ceil_div(h, 4) > 1 or ceil_div(w, 4) > 1


def double_stride_fails(h: int, w: int) -> bool:
    """Shortcut e = ceil(m/2), main ceil(e/2) with m = ceil(s/4): the add broadcasts only while e <= 2."""
    return ceil_div(h, 4) > 4 or ceil_div(w, 4) > 4


def square_pool_fails(h: int, w: int) -> bool:
    """avg_pool2d(out, W) on an a x b map (a = ceil(h/4), b = ceil(w/4)) leaves one row only if b <= a < 2b."""
    a, b = ceil_div(h, 4), ceil_div(w, 4)
    return not b <= a < 2 * b


def always_fails(h: int, w: int) -> bool:
    return True


# --- cases ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Case:
    run: Run
    where: tuple[
        str, ...
    ] = ()  # words a finding's message must contain (the located layer or stage)
    codes: tuple[str, ...] = ()  # finding codes that must be present
    delta: Callable[[], int] | None = (
        None  # model - reference parameters, derived; None: not checked here
    )
    fails: Callable[[int, int], bool] | None = (
        None  # where the model fails (reference works); None: nowhere
    )
    anchor: str | None = None  # a regex for the fixture line some finding must be anchored on
    loads: bool | None = None  # would torchvision's weights load (state_dict.loads)
    rows_differ: bool = True  # some aligned layer row differs (shape, params or a missing layer)

    @property
    def id(self) -> str:
        return self.run.id


def line_of(path: Path, pattern: str) -> int:
    """1-based line of the only line in `path` matching `pattern`."""
    lines = [
        number
        for number, text in enumerate(path.read_text().splitlines(), 1)
        if re.search(pattern, text)
    ]
    assert len(lines) == 1, (
        f"{pattern!r} matches lines {lines} of {path.name}; make the anchor unique"
    )
    return lines[0]


VARIANTS = "cifar_variants.py"  # one CIFAR ResNet-20, several ways research code extends it
MATCHING = [
    Case(run_of("resnet18", "tv_resnet.py", "resnet18"), loads=True),
    Case(run_of("resnet50", "tv_resnet.py", "resnet50"), loads=True),
    Case(run_of("resnet50", "sequential_resnet.py", "ResNet50"), loads=False),
    Case(run_of("resnet18", "modulelist_resnet.py", "ResNet18"), loads=False),
    Case(run_of("resnet50", "config_resnet.py", "ResNet"), loads=True),
    Case(run_of("resnet34", "config_resnet.py", "ResNet", arch="resnet34"), loads=True),
    Case(run_of("resnet20", "cifar_resnet.py", "resnet20"), loads=True),
    Case(run_of("resnet56", "cifar_resnet.py", "resnet56"), loads=True),
    Case(run_of("resnext50_32x4d", "resnext_cardinality.py", "ResNeXt50"), loads=False),
    Case(run_of("wide_resnet50_2", "wide_resnet.py", "wide_resnet50_2"), loads=True),
    Case(run_of("resnet50", "needs_args.py", "Net", depth=50), loads=True),
    Case(run_of("resnet20", VARIANTS, "SharedNames"), loads=False),
    Case(run_of("resnet20", "flat_sequential.py", "resnet20"), loads=False),
    Case(run_of("resnet20", VARIANTS, "Features"), loads=False),
    Case(run_of("resnet20", VARIANTS, "WithTrainingParts"), loads=False),
    Case(run_of("resnet18", "rewritten_resnet18.py", "Net"), loads=False),
]
BY_MATCHING = {f"{case.run.fixture}:{case.run.name}": case for case in MATCHING}

R50 = arch_convs("resnet50")
R18 = arch_convs("resnet18")

DIFFERING = [
    Case(
        run_of("resnet50", "bug_bottleneck_no_expansion.py", "resnet50"),
        where=("layer1",),
        codes=("RD101", "RD102"),
        delta=lambda: arch_parameters("resnet50", expansion=1) - arch_parameters("resnet50"),
        anchor=r"self\.conv3 = conv1x1\(planes, planes\)",
        loads=False,
    ),
    Case(
        run_of("resnet50", "bug_conv_bias.py", "resnet50"),
        where=("bias",),
        codes=("RD102",),
        delta=lambda: sum_out_channels(R50),
        loads=False,
    ),
    Case(
        run_of("resnet50", "bug_fixed_avgpool.py", "resnet50"),
        where=("avgpool",),
        codes=("RD103",),
        delta=lambda: 0,
        fails=avgpool7_fails,
        anchor=r"self\.avgpool = nn\.AvgPool2d\(7\)",
        loads=True,
        rows_differ=False,
    ),
    Case(
        run_of("resnet50", "bug_shortcut_no_stride.py", "resnet50"),
        where=("layer2",),
        codes=("RD101", "RD103"),
        delta=lambda: 0,
        fails=unstrided_shortcut_fails,
        loads=True,
    ),
    Case(
        run_of("resnet50", "bug_inplanes_not_updated.py", "resnet50"),
        where=("layer1",),
        codes=("RD102", "RD103"),
        delta=lambda: (
            arch_parameters("resnet50", inplanes_updated=False) - arch_parameters("resnet50")
        ),
        fails=always_fails,
        loads=False,
    ),
    Case(
        run_of("resnet50", "bug_linear512.py", "resnet50"),
        where=("fc",),
        codes=("RD103",),
        delta=lambda: (512 - 2048) * 1000,
        fails=always_fails,
        anchor=r"self\.fc = nn\.Linear\(512,",
        loads=False,
    ),
    Case(
        run_of("resnet18", "bug_maxpool_unused.py", "ResNet18"),
        where=("maxpool",),
        codes=("RD101", "RD106"),
        delta=lambda: 0,
        anchor=r"self\.maxpool = nn\.MaxPool2d",
        loads=True,
    ),
    Case(
        run_of("resnet50", "seed004_restnet.py", "restnet"),
        where=("stage2",),
        codes=("RD102", "RD103"),
        delta=lambda: (
            torch_parameter_count("seed004_restnet.py", "restnet") - PUBLISHED["resnet50"]
        ),
        fails=always_fails,
        loads=False,
    ),
    Case(
        run_of("resnet18", "seed002_resnet18.py", "ResNet18", out_channels=1000),
        where=("bias",),
        codes=("RD102",),
        delta=lambda: sum_out_channels(R18, {"layer1", "layer2", "layer3", "layer4"}),
        loads=False,
    ),
    Case(
        run_of("resnet18", "seed002_double_stride.py", "ResNet18"),
        where=("layer2",),
        codes=("RD101", "RD103"),
        delta=lambda: 0,
        fails=double_stride_fails,
        anchor=r"self\.conv2 = .*stride=stride.*# BUG",
        loads=False,
    ),
    Case(
        run_of("resnet20", VARIANTS, "TwoStream"),
        where=("flipped",),  # the second trunk's own subtotal
        codes=("RD102",),
        delta=lambda: (arch_parameters("resnet20") - (64 * 10 + 10)) + (128 - 64) * 10,
        loads=False,
    ),
    Case(
        run_of("resnet20", VARIANTS, "Features", flags=("--output", "0")),
        where=("[N, 64]",),
        codes=("RD104", "RD108"),
        delta=lambda: 0,
        fails=always_fails,
        loads=False,
        rows_differ=False,
    ),
]
# Same layers, parameters and shapes as the reference: only the same-weights check tells them apart.
SEMANTICS_18 = "bug_resnet18_semantics.py"
SEMANTIC = [
    Case(
        run_of(arch, fixture, name),
        where=(block, words),
        codes=("RD109",),
        delta=lambda: 0,
        loads=True,
        rows_differ=False,
    )
    for arch, fixture, name, block, words in (
        ("resnet18", SEMANTICS_18, "relu_before_add", "layer1.0", "activation before the addition"),
        ("resnet50", "bug_bn_after_add.py", "ResNet50", "layer1.0", "norm after the addition"),
        ("resnet18", SEMANTICS_18, "relu_in_projection", "layer2.0", "activation in the shortcut"),
        ("resnet18", SEMANTICS_18, "shortcut_from_conv1", "layer1.0", "conv1's output"),
    )
]
# the block class of each factory, whose forward the finding points at
BLOCK_CLASS = {
    "relu_before_add": "ReluBeforeAdd",
    "relu_in_projection": "ReluInProjection",
    "shortcut_from_conv1": "ShortcutFromConv1",
    "ResNet50": "Bottleneck",
}
DIFFERING += SEMANTIC

# akamaster's pool: fails only on non-square inputs, a warning; every square input works
SQUARE_POOL = Case(
    run_of("resnet20", "cifar_square_pool.py", "resnet20"),
    where=("non-square",),
    codes=("RD107",),
    delta=lambda: 0,
    fails=square_pool_fails,
    anchor=r"out = F\.avg_pool2d\(out, out\.size\(\)\[3\]\)",
    loads=True,
    rows_differ=False,
)

COULD_NOT_RUN = [
    Case(
        run_of("resnet50", "needs_args.py", "Net"),
        where=("depth",),
        codes=("RD003",),
        anchor=r"^class Net\(",
    ),
    Case(
        run_of("resnet50", "raises_in_init.py", "Net"),
        where=("FileNotFoundError", "reslint_fixture_resnet50_best"),
        codes=("RD004",),
        anchor=r"torch\.load\(CHECKPOINT",
    ),
    Case(run_of("resnet18", "sleeps_forever.py", "Net", timeout=5), codes=("RD006",)),
    Case(
        run_of("resnet18", "import_error.py", "Net"),
        where=("reslint_fixture_missing_blocks",),
        codes=("RD002",),
    ),
    Case(
        run_of("resnet20", "needs_cuda.py", "Net"),
        where=("CUDA",),
        codes=("RD005",),
        anchor=r"\.cuda\(\)  # needs a GPU",
    ),
    Case(
        run_of("resnet50", "needs_args.py", "build"),
        where=("depth",),
        codes=("RD003",),
    ),
]

BY_FIXTURE = {case.run.fixture: case for case in DIFFERING}
BY_NAME = {case.run.name: case for case in DIFFERING}


def ids(cases: list[Case]) -> list[str]:
    return [case.id for case in cases]


# --- checks shared by the tests -------------------------------------------------------------------
def assert_findings_well_formed(result: Result) -> list[dict[str, Any]]:
    findings = result.report["findings"]
    assert isinstance(findings, list), result.explain()
    for finding in findings:
        assert set(finding) >= {
            "code",
            "severity",
            "path",
            "line",
            "column",
            "end_line",
            "end_column",
            "message",
            "hint",
        }, result.explain()
        assert re.fullmatch(r"RD\d{3}", finding["code"]), finding
        assert finding["severity"] in ("error", "warning", "info"), finding
        assert (REPO / finding["path"]).resolve() == result.run.path.resolve(), finding
        assert isinstance(finding["line"], int) and finding["line"] >= 1, finding
        assert finding["message"].strip(), finding
    return findings


def assert_no_traceback(result: Result) -> None:
    assert "Traceback (most recent call last)" not in result.stdout + result.stderr, (
        result.explain()
    )


def mentions(findings: list[dict[str, Any]], word: str) -> bool:
    return any(word.lower() in finding["message"].lower() for finding in findings)


def assert_located(case: Case, result: Result, findings: list[dict[str, Any]]) -> None:
    for word in case.where:
        assert mentions(findings, word), f"no finding mentions {word!r}:\n{result.explain()}"
    codes = {finding["code"] for finding in findings}
    assert codes >= set(case.codes), (
        f"expected codes {case.codes}, got {sorted(codes)}:\n{result.explain()}"
    )
    if case.anchor is not None:
        line = line_of(case.run.path, case.anchor)
        assert line in {finding["line"] for finding in findings}, (
            f"no finding anchored on line {line} ({case.anchor!r}):\n{result.explain()}"
        )


def assert_minimal_failing_input(case: Case, report: dict[str, Any]) -> None:
    """failing_input fails (by the bug's arithmetic), and decreasing any of N, H, W leaves the sampled
    domain or makes it work: hypothesis' shrinking must have reached a local minimum."""
    assert case.fails is not None
    failing = report["failing_input"]
    assert isinstance(failing, list) and len(failing) == 4, report["failing_input"]
    n, c, h, w = failing
    low = _domain_lows(report)
    assert c == 3
    assert n == low["batch"], f"batch not shrunk: {failing}"
    assert case.fails(h, w), f"{failing} does not fail by the fixture's arithmetic"
    assert h == low["height"] or not case.fails(h - 1, w), f"H not minimal in {failing}"
    assert w == low["width"] or not case.fails(h, w - 1), f"W not minimal in {failing}"


def _domain_lows(report: dict[str, Any]) -> dict[str, int]:
    """Lower ends of the sampled inputs: reslint's own `input_domain` if it says, else 1 (the reference
    ResNets accept every size from 1x1 up)."""
    domain = report.get("input_domain") or {}
    return {axis: (domain.get(axis) or [1])[0] for axis in ("batch", "height", "width")}


def assert_state_dict(case: Case, report: dict[str, Any]) -> None:
    state = report["state_dict"]
    assert set(state) >= {"loads", "missing", "unexpected", "mismatched"}, state
    assert state["loads"] is case.loads, state
    if case.loads:
        assert not (state["missing"] or state["unexpected"] or state["mismatched"]), state
    else:
        assert state["missing"] or state["unexpected"] or state["mismatched"], state


# --- the tests ----------------------------------------------------------------------------------
@pytest.mark.parametrize("arch", sorted(PUBLISHED))
def test_parameter_arithmetic_reproduces_published_counts(arch: str) -> None:
    """The arithmetic the other tests derive their expectations from is itself right."""
    assert arch_parameters(arch) == PUBLISHED[arch]


@pytest.mark.parametrize("case", MATCHING, ids=ids(MATCHING))
def test_correct_model_matches(cli: Runner, case: Case) -> None:
    result = cli(case.run)
    assert_no_traceback(result)
    report = result.report
    assert (report["verdict"], result.returncode) == ("matches", 0), result.explain()
    findings = assert_findings_well_formed(result)
    assert not [f for f in findings if f["severity"] == "error"], result.explain()
    assert "RD106" not in {f["code"] for f in findings}, (
        f"false 'never called':\n{result.explain()}"
    )
    expected = arch_parameters(case.run.arch)
    aside = report["parameters_not_in_forward"]  # an auxiliary head forward does not use
    assert report["parameters"] == {"model": expected + aside, "reference": expected}
    assert report["failing_input"] is None
    assert report["equivalence"]["status"] == "matches", report["equivalence"]
    assert report["analysis"] in ("symbolic", "sampled")
    assert report["layers"] and not [row for row in report["layers"] if row.get("differs")], (
        result.explain()
    )
    assert_state_dict(case, report)


@pytest.mark.parametrize("case", DIFFERING, ids=ids(DIFFERING))
def test_buggy_model_differs_where_the_bug_is(cli: Runner, case: Case) -> None:
    result = cli(case.run)
    assert_no_traceback(result)
    report = result.report
    assert (report["verdict"], result.returncode) == ("differs", 1), result.explain()
    findings = assert_findings_well_formed(result)
    assert_located(case, result, findings)
    assert case.delta is not None
    parameters = report["parameters"]
    assert parameters["reference"] == arch_parameters(case.run.arch)
    assert parameters["model"] - parameters["reference"] == case.delta(), parameters
    assert ("RD102" in {f["code"] for f in findings}) == (case.delta() != 0), result.explain()
    if case.fails is None:
        assert report["failing_input"] is None, result.explain()
    else:
        assert_minimal_failing_input(case, report)
    assert any(row.get("differs") for row in report["layers"]) == case.rows_differ, result.explain()
    assert_state_dict(case, report)


@pytest.mark.parametrize("case", COULD_NOT_RUN, ids=ids(COULD_NOT_RUN))
def test_model_that_cannot_run_is_reported_not_crashed(cli: Runner, case: Case) -> None:
    result = cli(case.run)
    assert_no_traceback(result)
    report = result.report
    assert (report["verdict"], result.returncode) == ("error", 2), result.explain()
    findings = assert_findings_well_formed(result)
    assert findings and all(f["severity"] == "error" for f in findings), result.explain()
    assert_located(case, result, findings)
    assert report["failing_input"] is None


def valid_interval(
    fails: Callable[[int, int], bool], axis: str, other: int, horizon: int
) -> tuple[int, int]:
    """The sizes along `axis` (the other side fixed at `other`) on which the model works, by its arithmetic."""
    works = [
        s
        for s in range(1, horizon + 1)
        if not (fails(s, other) if axis == "height" else fails(other, s))
    ]
    assert works and works == list(range(works[0], works[-1] + 1)), "expected one interval"
    return works[0], works[-1]


RANGE_CASES = [
    # fixed AvgPool2d(7): layer4's map must be 7..13, i.e. 193..416 px, along either axis
    (BY_FIXTURE["bug_fixed_avgpool.py"], 224, {"height": (193, 416), "width": (193, 416)}),
    # avg_pool2d(out, W) at 32 px on the other side: H 29..60 (a = 8..15), W 17..32 (b = 5..8)
    (SQUARE_POOL, 32, {"height": (29, 60), "width": (17, 32)}),
]


@pytest.mark.parametrize(
    ("case", "design", "spelled_out"), RANGE_CASES, ids=[c[0].id for c in RANGE_CASES]
)
def test_valid_input_range(
    cli: Runner, case: Case, design: int, spelled_out: dict[str, tuple[int, int]]
) -> None:
    """reslint reports the sizes on which the model is valid, along each axis with the other at the
    reference's design size. Its lower end must be exact; the upper end may stop short of the truth (sampling,
    horizon) but must never claim more, and if it says it is exact it must be."""
    assert case.fails is not None
    report = cli(case.run).report
    valid = report["valid_input_range"]
    for axis in ("height", "width"):
        low, high = valid_interval(case.fails, axis, design, horizon=20 * design)
        assert (low, high) == spelled_out[axis]  # the arithmetic, spelled out
        reported_low, reported_high = valid[axis]
        assert reported_low == low, f"{axis}: {valid}"
        assert reported_high is not None and design <= reported_high <= high, f"{axis}: {valid}"
        if reported_high < high and "exact" in valid:
            assert valid["exact"][axis][1] is False, f"{axis}: {valid}"


@pytest.mark.parametrize("case", [BY_FIXTURE["bug_conv_bias.py"]], ids=lambda case: case.id)
def test_conv_bias_per_stage_and_state_dict(cli: Runner, case: Case) -> None:
    """Each stage grows by the out_channels of its convs, and every one of the 53 conv biases is a key
    torchvision's checkpoint does not have."""
    report = cli(case.run).report
    expected = {
        stage: sum_out_channels(R50, {stage})
        for stage in ("stem", "layer1", "layer2", "layer3", "layer4")
    }
    reported = {row["stage"]: row["model"] - row["reference"] for row in report["stages"]}
    assert {stage: reported.get(stage, 0) for stage in expected} == expected, report["stages"]
    assert not {
        stage: delta for stage, delta in reported.items() if stage not in expected and delta
    }
    total = sum(expected.values())
    assert mentions(report["findings"], f"{total:,}") or mentions(report["findings"], str(total)), (
        report["findings"]
    )
    state = report["state_dict"]
    assert len(state["missing"]) == len(R50) and all(
        key.endswith(".bias") for key in state["missing"]
    ), state
    assert "conv1.bias" in state["missing"] and "layer1.0.downsample.0.bias" in state["missing"], (
        state
    )
    assert not state["unexpected"] and not state["mismatched"], state


@pytest.mark.parametrize("case", [BY_FIXTURE["bug_linear512.py"]], ids=lambda case: case.id)
def test_linear512_names_the_mis_shaped_classifier(cli: Runner, case: Case) -> None:
    state = cli(case.run).report["state_dict"]
    assert not state["missing"] and not state["unexpected"], state
    assert [entry for entry in state["mismatched"] if "fc.weight" in json.dumps(entry)], state


@pytest.mark.parametrize("case", [BY_FIXTURE["seed004_restnet.py"]], ids=lambda case: case.id)
def test_prints_in_forward_stay_out_of_the_json(cli: Runner, case: Case) -> None:
    """seed 004 prints shapes in forward; stdout must still be exactly the JSON report."""
    result = cli(case.run)
    assert result.stdout.lstrip().startswith("{") and "x.shape=" not in result.stdout, (
        result.explain()
    )
    assert result.report["verdict"] == "differs"


def test_fixture_parameter_counts_by_torch() -> None:
    """The fixtures themselves (not reslint): every correct one has its architecture's exact count."""
    for fixture, name, arch in (
        ("tv_resnet.py", "resnet18", "resnet18"),
        ("tv_resnet.py", "resnet50", "resnet50"),
        ("sequential_resnet.py", "ResNet50", "resnet50"),
        ("modulelist_resnet.py", "ResNet18", "resnet18"),
        ("config_resnet.py", "ResNet", "resnet50"),
        ("resnext_cardinality.py", "ResNeXt50", "resnext50_32x4d"),
        ("wide_resnet.py", "wide_resnet50_2", "wide_resnet50_2"),
    ):
        assert torch_parameter_count(fixture, name) == PUBLISHED[arch], (fixture, name)
    for depth in ("resnet20", "resnet56"):
        assert torch_parameter_count("cifar_resnet.py", depth) == arch_parameters(depth), depth


@pytest.mark.parametrize("case", [SQUARE_POOL], ids=lambda case: case.id)
def test_failing_only_on_non_square_inputs_is_a_warning(cli: Runner, case: Case) -> None:
    """akamaster's F.avg_pool2d(out, out.size()[3]): every square input works, so the model matches with a
    warning that names a failing non-square input and the valid range."""
    result = cli(case.run)
    report = result.report
    assert (report["verdict"], result.returncode) == ("matches", 0), result.explain()
    findings = assert_findings_well_formed(result)
    assert_located(case, result, findings)
    warning = next(f for f in findings if f["code"] == "RD107")
    assert warning["severity"] == "warning" and findings[0] is warning, findings
    assert_minimal_failing_input(case, report)
    n, c, h, w = report["failing_input"]
    assert h != w and report["non_square_only"] is True
    assert f"{n}x{c}x{h}x{w}" in warning["message"] and "17..32" in warning["hint"]
    assert report["parameters"] == {"model": 269_722, "reference": 269_722}


def cifar_stage_parameters() -> dict[str, int]:
    """Per stage of a CIFAR ResNet-20 (10 classes), from the architecture's arithmetic."""
    convs = cifar_convs(20)
    totals = {
        stage: sum(c.weights + 2 * c.out_channels for c in convs if c.stage == stage)
        for stage in ("stem", "layer1", "layer2", "layer3")
    }
    return totals | {"head": 64 * 10 + 10}


@pytest.mark.parametrize(
    "case",
    [BY_MATCHING["flat_sequential.py:resnet20"], BY_NAME["TwoStream"]],
    ids=lambda case: case.id,
)
def test_stage_subtotals_come_from_the_alignment(cli: Runner, case: Case) -> None:
    """A flat nn.Sequential has no stage modules and a two-branch model has two stems: each stage still
    gets the reference's subtotal, and a second trunk is subtotalled on its own."""
    report = cli(case.run).report
    subtotals = {row["stage"]: (row["model"], row["reference"]) for row in report["stages"]}
    expected = cifar_stage_parameters()
    two_branch = case.run.name == "TwoStream"
    if two_branch:
        trunk = sum(expected.values()) - expected["head"]
        expected_rows = {s: (n, n) for s, n in expected.items() if s != "head"}
        expected_rows |= {"head": (128 * 10 + 10, expected["head"]), "flipped": (trunk, 0)}
    else:
        expected_rows = {stage: (count, count) for stage, count in expected.items()}
    assert subtotals == expected_rows, report["stages"]
    assert report["blocks"] == {"model": [3, 3, 3], "reference": [3, 3, 3]}


FAILS_ON_DESIGN_INPUT = [
    BY_FIXTURE[name]
    for name in ("bug_inplanes_not_updated.py", "bug_linear512.py", "seed004_restnet.py")
]


@pytest.mark.parametrize("case", FAILS_ON_DESIGN_INPUT, ids=ids(FAILS_ON_DESIGN_INPUT))
def test_a_failure_on_the_references_input_is_the_first_finding(cli: Runner, case: Case) -> None:
    """The most useful fact first: the model fails on the reference's own input, with the real error and
    the user's line; the smallest failing input comes right after."""
    report = cli(case.run).report
    first, second = report["findings"][:2]
    design = "x".join(map(str, report["input_shape"]))
    assert report["model_error"], report
    assert first["code"] == "RD103" and f"reference's own input {design}" in first["message"]
    assert report["model_error"] in first["message"]
    source = case.run.path.read_text().splitlines()
    assert 1 <= first["line"] <= len(source) and (REPO / first["path"]).resolve() == case.run.path
    assert (
        second["code"] == "RD103"
        and "x".join(map(str, report["failing_input"])) in second["message"]
    )


@pytest.mark.parametrize(
    "case", [c for c in COULD_NOT_RUN if c.run.name == "build"], ids=lambda case: case.id
)
def test_missing_arguments_are_named_from_the_error(cli: Runner, case: Case) -> None:
    """A factory taking **kwargs needs nothing itself; the TypeError of the class it calls names `depth`."""
    report = cli(case.run).report
    hint = report["findings"][0]["hint"]
    assert '"depth": 50' in hint and "num_classes" not in hint, hint


@pytest.mark.parametrize("case", SEMANTIC, ids=ids(SEMANTIC))
def test_same_weights_name_the_first_block_that_computes_another_function(
    cli: Runner, case: Case
) -> None:
    """Given the reference's weights, the first block whose output differs is named, with the cause,
    at the line of that block's forward."""
    report = cli(case.run).report
    block, words = case.where
    equivalence = report["equivalence"]
    assert equivalence["status"] == "differs" and equivalence["block"] == block, equivalence
    assert equivalence["model_block"] == block and words in equivalence["cause"], equivalence
    finding = next(f for f in report["findings"] if f["code"] == "RD109")
    assert finding["line"] == forward_of(case.run.path, BLOCK_CLASS[case.run.name]), finding


def forward_of(path: Path, class_name: str) -> int:
    """The line of `def forward` in class `class_name` of the file."""
    lines = path.read_text().splitlines()
    start = line_of(path, rf"^class {class_name}\b")
    return next(n for n in range(start, len(lines) + 1) if "def forward" in lines[n - 1])
