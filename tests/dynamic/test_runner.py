"""Isolation: the user's model runs in a child process; whatever it does becomes a finding, never a
traceback or a hang, and the parent never imports torch or the user's code."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import NO_TORCH, checkout_environment
from spawning import start

pytest.importorskip("torch", reason=NO_TORCH)

from reslint.dynamic.cli import compare_result, exit_code, run_compare  # noqa: E402
from reslint.dynamic.runner import memory_limit  # noqa: E402

HEADER = "import os, sys, time\nimport torch\nimport torch.nn as nn\n"
TINY = """
class Tiny(nn.Module):
    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 16, 3, padding=1, bias=False)
        self.fc = nn.Linear(16, num_classes)

    def forward(self, x):
        return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(self.conv1(x), 1), 1))
"""


def model_file(tmp_path: Path, body: str, name: str = "model.py") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + textwrap.dedent(body))
    return path


def compare(
    path: Path, name: str, init: dict | None = None, timeout: float = 120.0, **options
) -> dict:
    return compare_result("resnet20", f"{path}:{name}", init or {}, timeout, **options)


def only_finding(result: dict) -> dict:
    assert result["verdict"] == "error" and exit_code(result) == 2, result
    assert len(result["findings"]) == 1, result["findings"]
    return result["findings"][0]


def test_constructor_arguments_are_named(tmp_path: Path) -> None:
    path = model_file(
        tmp_path,
        """
        class Net(nn.Module):
            def __init__(self, depth, width, num_classes=10):
                super().__init__()
    """,
    )
    finding = only_finding(compare(path, "Net"))
    assert finding["code"] == "RD003" and finding["line"] == 5
    assert "depth, width" in finding["message"] and "--init" in finding["hint"]
    assert "num_classes" not in finding["message"].split("(")[0]


def test_a_model_raising_in_init_is_reported_at_the_raising_line(tmp_path: Path) -> None:
    path = model_file(
        tmp_path,
        """
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3)
                raise KeyError("no such config")
    """,
    )
    finding = only_finding(compare(path, "Net"))
    assert finding["code"] == "RD004" and finding["line"] == 9
    assert "KeyError" in finding["message"] and "no such config" in finding["message"]


def test_import_errors_name_the_line(tmp_path: Path) -> None:
    path = model_file(tmp_path, "from missing_blocks_module import Block\n")
    finding = only_finding(compare(path, "Net"))
    assert (
        finding["code"] == "RD002"
        and finding["line"] == 4
        and "missing_blocks_module" in finding["message"]
    )
    broken = model_file(tmp_path, "def f(:\n    pass\n", "broken.py")
    assert only_finding(compare(broken, "f"))["code"] == "RD002"


def test_bad_targets(tmp_path: Path) -> None:
    path = model_file(tmp_path, TINY + "\nCONSTANT = 3\n\nclass NotAModel:\n    pass\n")
    missing = only_finding(compare(path, "Nope"))
    assert missing["code"] == "RD001" and "Tiny" in missing["hint"]
    assert only_finding(compare(path, "CONSTANT"))["code"] == "RD009"
    assert only_finding(compare(path, "NotAModel"))["code"] == "RD009"
    assert only_finding(compare(tmp_path / "absent.py", "Net"))["code"] == "RD001"
    assert only_finding(compare_result("resnet21", f"{path}:Tiny", {}, 60))["code"] == "RD001"


def test_the_models_folder_still_serves_imports_the_model_makes_later(tmp_path: Path) -> None:
    """Once the module is imported its folder moves to the end of sys.path (what torch and hypothesis
    import later must not come from there): a sibling imported inside forward is still found."""
    (tmp_path / "late_helpers.py").write_text("def pool(x):\n    return x.mean((2, 3))\n")
    path = model_file(
        tmp_path,
        TINY.replace(
            "return self.fc(torch.flatten(nn.functional.adaptive_avg_pool2d(self.conv1(x), 1), 1))",
            "from late_helpers import pool\n\n        return self.fc(pool(self.conv1(x)))",
        ),
    )
    result = compare(path, "Tiny")
    assert result["verdict"] == "differs", result["findings"]


def test_a_memory_hog_hits_the_cap(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESLINT_MEMORY_LIMIT", "1G")
    path = model_file(
        tmp_path,
        TINY
        + """
class Hog(Tiny):
    def forward(self, x):
        hoard = [torch.ones(2**27) for _ in range(64)]  # 32 GiB in 512 MiB pieces
        return super().forward(x)
""",
    )
    finding = only_finding(compare(path, "Hog"))
    assert finding["code"] == "RD007" and "memory" in finding["message"]


def test_prints_stay_out_of_the_json_and_torch_out_of_the_parent(tmp_path: Path) -> None:
    """RESLINT_DEBUG=1 passes what the model prints on to reslint's stderr; never to stdout."""
    path = model_file(
        tmp_path,
        TINY
        + """
print("importing the model")

class Chatty(Tiny):
    def forward(self, x):
        print("shape", x.shape)
        os.write(1, b"raw bytes on fd 1\\n")
        return super().forward(x)
""",
    )
    script = (
        "import sys, json\n"
        "from reslint.dynamic.cli import run_compare\n"
        f"code = run_compare('resnet20', {str(path) + ':Chatty'!r}, {{}}, 120, 'json', True)\n"
        "sys.stderr.write(json.dumps({'torch': 'torch' in sys.modules, 'model': 'model' in sys.modules,"
        " 'code': code}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env={**os.environ, "RESLINT_DEBUG": "1"},
    )
    report = json.loads(done.stdout)  # exactly one JSON object on stdout
    assert report["verdict"] in ("matches", "differs")
    facts = json.loads(done.stderr.strip().splitlines()[-1])
    assert facts == {"torch": False, "model": False, "code": 1}
    assert "importing the model" in done.stderr and "raw bytes on fd 1" in done.stderr
    assert not (tmp_path / ".hypothesis").exists()


def test_importing_the_cli_entry_points_imports_no_torch() -> None:
    code = "import sys, reslint.dynamic.cli; print('torch' in sys.modules, 'hypothesis' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.stdout.split() == ["False", "False"]


def test_a_python_error_in_forward_cannot_be_compared(tmp_path: Path) -> None:
    path = model_file(
        tmp_path,
        TINY
        + """
class Forgetful(Tiny):
    def forward(self, x):
        if downsample is not None:
            x = x
        return super().forward(x)
""",
    )
    finding = only_finding(compare(path, "Forgetful"))
    assert (
        finding["code"] == "RD005"
        and "NameError" in finding["message"]
        and "downsample" in finding["message"]
    )


def test_forward_that_needs_real_data_falls_back_from_meta(tmp_path: Path) -> None:
    """ResNet-18 is compared on the meta device; .item() cannot run there, so the model is rebuilt on the CPU."""
    samples = Path(__file__).parent / "samples"
    path = model_file(
        tmp_path,
        f"""
sys.path.insert(0, {str(samples)!r})
from tv_style import ResNet, BasicBlock

class DataDependent(ResNet):
    def __init__(self):
        super().__init__(BasicBlock, [2, 2, 2, 2])

    def forward(self, x):
        if x.abs().sum().item() >= 0:  # data-dependent: impossible on meta tensors
            return super().forward(x)
        return x
""",
    )
    result = compare_result("resnet18", f"{path}:DataDependent", {}, 300.0)
    assert result["verdict"] == "matches" and result["mode"] == "real", result["findings"]


def test_a_target_that_is_not_a_regular_file_is_named_so(tmp_path: Path) -> None:
    fifo = tmp_path / "model.py"
    os.mkfifo(fifo)
    finding = only_finding(compare(fifo, "Net"))
    assert finding["code"] == "RD001" and "not a regular file" in finding["message"]
    assert "named pipe" in finding["message"]


@pytest.mark.parametrize("setting", ["abc", "-1G", "4 parsecs", "1e9", "99999999T"])
def test_a_memory_limit_that_is_not_a_size_is_a_usage_error(
    setting: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("RESLINT_MEMORY_LIMIT", setting)
    assert run_compare("resnet20", "model.py:Net", {}, 60, "json", True) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert (
        captured.err.startswith("reslint: error: RESLINT_MEMORY_LIMIT=") and "size" in captured.err
    )


@pytest.mark.parametrize(
    ("setting", "size"),
    [
        ("4G", 4 * 2**30),
        ("512M", 512 * 2**20),
        ("1.5GiB", 3 * 2**29),
        ("640mb", 640 * 2**20),
        ("0", 0),
    ],
)
def test_memory_limits(setting: str, size: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RESLINT_MEMORY_LIMIT", setting)
    assert memory_limit() == size


# --- hostile models ---------------------------------------------------------------------------------
# Each case runs the real CLI on a model of fixtures/hostile/ in a subprocess (several at a time: each
# costs a Python start and a torch import). The case's marker is a word every process the model starts
# carries in its environment or arguments; once reslint has exited, /proc must hold none of them.

HOSTILE = Path(__file__).resolve().parents[2] / "fixtures" / "hostile"
GENEROUS_TIMEOUT = 300.0  # never reached: these cases end by themselves, or by a signal
RUN_GUARD_SECONDS = 900  # a reslint that hangs anyway fails its test instead of hanging CI
# VmHWM, not ru_maxrss: that one keeps the peak of the process that forked this one (pytest, with torch).
CLI_WITH_PEAK_MEMORY = (
    "import sys\n"
    "from reslint.cli import main\n"
    "try:\n"
    "    code = main(sys.argv[1:])\n"
    "finally:\n"
    "    status = open('/proc/self/status').read()\n"
    "    sys.stderr.write('\\n' + status[status.index('VmHWM'):].split(chr(10))[0] + '\\n')\n"
    "sys.exit(code)\n"
)


@dataclass(frozen=True)
class Hostile:
    target: str  # FILE:NAME in fixtures/hostile/
    memory: str = ""  # RESLINT_MEMORY_LIMIT
    timeout: float = GENEROUS_TIMEOUT
    stop_with: signal.Signals | None = None  # sent to reslint once the model is ready
    cwd: str = ""  # a folder of fixtures/hostile/ to run in (default: a fresh one)

    def __str__(self) -> str:
        return self.target.replace(".py:", ":") + (
            f"-{self.stop_with.name}" if self.stop_with else ""
        )


@dataclass
class Ending:
    case: Hostile
    returncode: int
    stdout: str
    stderr: str
    log: list[tuple[str, str]]  # what the model recorded: ("pid", "1234"), ("tmpdir", ...)
    survivors: list[int]  # processes carrying the case's marker after reslint exited

    @property
    def report(self) -> dict:
        try:
            return json.loads(self.stdout)
        except json.JSONDecodeError:
            pytest.fail(f"stdout is not one JSON object:\n{self.explain()}")

    @property
    def finding(self) -> dict:
        findings = self.report["findings"]
        assert self.returncode == 2 and len(findings) == 1, self.explain()
        return findings[0]

    def recorded(self, what: str) -> list[str]:
        return [value for kind, value in self.log if kind == what]

    @property
    def peak_rss(self) -> int:
        found = re.search(r"VmHWM:\s*(\d+) kB", self.stderr)
        assert found, self.explain()
        return int(found.group(1)) * 1024

    def explain(self) -> str:
        return f"{self.case} (exit {self.returncode})\n{self.stdout[:3000]}\n{self.stderr[-3000:]}"


def processes_carrying(marker: str) -> list[int]:
    """Live processes with `marker` in their arguments or environment."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            seen = Path(f"/proc/{entry}/cmdline").read_bytes()
            seen += Path(f"/proc/{entry}/environ").read_bytes()
            state = Path(f"/proc/{entry}/stat").read_text().rpartition(")")[2].split()[0]
        except OSError:
            continue
        if marker.encode() in seen and state not in ("Z", "X"):
            found.append(int(entry))
    return found


def execute(case: Hostile, scratch: Path) -> Ending:
    marker = f"reslint-hostile-{uuid.uuid4().hex}"
    log = scratch / f"{marker}.log"
    log.touch()
    env = {
        **checkout_environment(),
        "RESLINT_HOSTILE_MARKER": marker,
        "RESLINT_HOSTILE_LOG": str(log),
    }
    env.pop("RESLINT_MEMORY_LIMIT", None)
    env.update({"RESLINT_MEMORY_LIMIT": case.memory} if case.memory else {})
    cwd = HOSTILE / case.cwd if case.cwd else scratch / marker
    cwd.mkdir(exist_ok=True)
    target = case.target if case.cwd else f"{HOSTILE}/{case.target}"
    argv = [sys.executable, "-P", "-c", CLI_WITH_PEAK_MEMORY, "--compare-to", "resnet20", target]
    argv += ["--format", "json", "--timeout", str(case.timeout)]
    with (
        (scratch / f"{marker}.out").open("w+") as out,
        (scratch / f"{marker}.err").open("w+") as err,
    ):
        process = start(argv, stdout=out, stderr=err, env=env, cwd=cwd)
        try:
            if case.stop_with is not None:
                guard = time.monotonic() + RUN_GUARD_SECONDS
                while "ready" not in log.read_text() and process.poll() is None:
                    assert time.monotonic() < guard, f"{case}: the model never got ready"
                    time.sleep(0.1)
                process.send_signal(case.stop_with)
            process.wait(timeout=RUN_GUARD_SECONDS)
        finally:
            process.kill()
        survivors = processes_carrying(marker)
        for pid in survivors:  # a failed case must not leave them behind either
            os.kill(pid, signal.SIGKILL)
        out.seek(0)
        err.seek(0)
        lines = [line.split(" ", 1) for line in log.read_text().splitlines()]
        return Ending(
            case, process.returncode, out.read(), err.read(), [(k, v) for k, v in lines], survivors
        )


LEAVE_SOMETHING_BEHIND = [
    Hostile("fork_child.py:ForkChild"),
    Hostile("setsid_child.py:SetsidChild"),
    Hostile("double_fork.py:DoubleFork"),
    Hostile("new_session_child.py:NewSessionChild"),
]
HOLD_UP_THE_EXIT = [
    Hostile("non_daemon_thread.py:NonDaemonThread"),
    Hostile("hanging_atexit.py:HangingAtexit"),
]
MEMORY = [
    Hostile("mmap_gigabytes.py:MmapGigabytes", memory="640M"),
    Hostile("shared_tensors.py:SharedTensors", memory="640M"),
    Hostile("memory_in_children.py:MemoryInChildren", memory="768M"),
]
FLOODS = [Hostile("stderr_flood.py:StderrFlood"), Hostile("result_flood.py:ResultFlood")]
SHADOWED = Hostile("model.py:Tiny", cwd="shadow")
SIGNALS = [
    Hostile("hangs_with_children.py:HangsWithChildren", stop_with=number)
    for number in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT)
]
TIMEOUT = Hostile("hangs_with_children.py:HangsWithChildren", timeout=20)
KEYBOARD_INTERRUPT = Hostile("wrong_words.py:RaisesKeyboardInterrupt")
SYS_EXIT = Hostile("wrong_words.py:CallsSysExit")
KILLED = Hostile("wrong_words.py:KilledBySignal")
ALL_CASES = [
    *LEAVE_SOMETHING_BEHIND,
    *HOLD_UP_THE_EXIT,
    *MEMORY,
    *FLOODS,
    SHADOWED,
    *SIGNALS,
    TIMEOUT,
    KEYBOARD_INTERRUPT,
    SYS_EXIT,
    KILLED,
]


@pytest.fixture(scope="module")
def hostile(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[Hostile], Ending]]:
    """Starts every case the selected tests of this module need, a few at a time; hands out endings."""
    scratch = tmp_path_factory.mktemp("hostile")
    wanted = [
        value
        for item in request.session.items
        if item.path == request.node.path and hasattr(item, "callspec")
        for value in item.callspec.params.values()
        if isinstance(value, Hostile)
    ]
    jobs = int(os.environ.get("RESLINT_TEST_JOBS") or os.cpu_count() or 1)
    pool = ThreadPoolExecutor(max_workers=max(1, jobs))
    futures: dict[Hostile, Future[Ending]] = {}

    def ending(case: Hostile) -> Ending:
        if case not in futures:
            futures[case] = pool.submit(execute, case, scratch)
        return futures[case].result()

    for case in wanted:
        futures.setdefault(case, pool.submit(execute, case, scratch))
    yield ending
    pool.shutdown(wait=True, cancel_futures=True)


@pytest.mark.parametrize("case", LEAVE_SOMETHING_BEHIND + HOLD_UP_THE_EXIT, ids=str)
def test_the_result_arrives_and_nothing_the_model_started_survives(
    hostile: Callable[[Hostile], Ending], case: Hostile
) -> None:
    ending = hostile(case)
    assert ending.returncode == 1 and ending.report["verdict"] == "differs", ending.explain()
    if case in LEAVE_SOMETHING_BEHIND:
        assert ending.recorded("pid"), f"the model started nothing:\n{ending.explain()}"
    assert ending.survivors == [], f"{case} left processes running"


@pytest.mark.parametrize("case", MEMORY, ids=str)
def test_memory_the_cap_does_not_see_per_process_is_still_capped(
    hostile: Callable[[Hostile], Ending], case: Hostile
) -> None:
    ending = hostile(case)
    finding = ending.finding
    assert finding["code"] == "RD007" and "memory" in finding["message"], ending.explain()
    assert finding["path"].endswith(case.target.split(":")[0])
    assert ending.survivors == []


def test_the_whole_tree_is_measured(hostile: Callable[[Hostile], Ending]) -> None:
    """Three children at 300 MiB each pass every per-process limit; only the tree's sum is over 768M."""
    finding = hostile(MEMORY[2]).finding
    assert "processes it started held" in finding["message"] and "768 MiB" in finding["message"]


@pytest.mark.parametrize("case", FLOODS, ids=str)
def test_a_flood_of_output_neither_grows_reslint_nor_loses_the_result(
    hostile: Callable[[Hostile], Ending], case: Hostile
) -> None:
    ending = hostile(case)  # each model writes 1 GiB into one of the worker's pipes
    assert ending.returncode == 1 and ending.report["verdict"] == "differs", ending.explain()
    assert ending.peak_rss < 128 * 2**20, f"reslint grew to {ending.peak_rss / 2**20:.0f} MiB"
    assert ending.survivors == []


def test_the_working_directory_and_the_target_folder_cannot_replace_reslint_or_its_modules(
    hostile: Callable[[Hostile], Ending],
) -> None:
    """shadow/ holds a fake reslint package (its worker claims a match), torch.py, json.py and typing.py;
    reslint runs there, on a model there, and must use none of them."""
    ending = hostile(SHADOWED)
    assert ending.returncode == 1 and ending.report["verdict"] == "differs", ending.explain()
    assert ending.recorded("shadow") == []


@pytest.mark.parametrize("case", SIGNALS, ids=str)
def test_a_signal_to_reslint_ends_the_model_and_everything_it_started(
    hostile: Callable[[Hostile], Ending], case: Hostile
) -> None:
    ending = hostile(case)
    assert case.stop_with is not None
    assert ending.returncode == 128 + case.stop_with, ending.explain()
    assert len(ending.recorded("pid")) == 2 and ending.survivors == []
    (scratch,) = ending.recorded("tmpdir")
    assert "reslint-" in scratch and not Path(scratch).exists(), (
        "the scratch folder was left behind"
    )


def test_a_hanging_model_and_everything_it_started_are_killed_at_the_timeout(
    hostile: Callable[[Hostile], Ending],
) -> None:
    ending = hostile(TIMEOUT)
    finding = ending.finding
    assert finding["code"] == "RD006" and "20 s" in finding["message"], ending.explain()
    assert "forward" in finding["message"] and finding["path"].endswith("hangs_with_children.py")
    assert ending.survivors == []


@pytest.mark.parametrize(
    ("case", "code", "words"),
    [
        (KEYBOARD_INTERRUPT, "RD005", "the model raised KeyboardInterrupt (while running forward"),
        (SYS_EXIT, "RD005", "the model called sys.exit(3) (while running forward"),
        (KILLED, "RD008", "was killed by signal SIGKILL (while running forward"),
    ],
    ids=str,
)
def test_each_ending_is_called_by_its_name(
    hostile: Callable[[Hostile], Ending], case: Hostile, code: str, words: str
) -> None:
    """A KeyboardInterrupt or sys.exit in forward is the model's doing; a SIGKILL reslint did not send is
    not "out of memory"; and the phase comes from the worker, not from what the model prints."""
    ending = hostile(case)
    finding = ending.finding
    assert finding["code"] == code and words in finding["message"], finding
    assert finding["path"].endswith("wrong_words.py") and finding["line"] > 1
    assert ending.survivors == []
