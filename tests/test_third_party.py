"""No false alarms on real residual networks: torchvision's and timm's ResNet-family model files give nothing.

The wheels are downloaded (`pip download --no-deps`, so torch is never installed) into a cache that is
reused across runs; nothing of theirs is vendored into this repository.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pytest

from reslint import check_paths
from reslint.findings import Finding

pytestmark = [pytest.mark.network, pytest.mark.slow]

# Pinned so a new upstream release cannot turn CI red overnight; bump deliberately.
WHEELS = {"torchvision": "0.29.1", "timm": "1.0.31"}
RESNET_FAMILY = {
    "torchvision": [
        "torchvision/models/resnet.py",
        "torchvision/models/quantization/resnet.py",
        "torchvision/models/video/resnet.py",
    ],
    "timm": [
        "timm/models/resnet.py",
        "timm/models/resnetv2.py",
        "timm/models/res2net.py",
        "timm/models/resnest.py",
        "timm/models/sknet.py",
        "timm/models/senet.py",
        "timm/models/tresnet.py",
    ],
}
# True findings on library code: each was checked by reading the code, and is listed in
# benchmarks/recall/real_bugs.toml. Keyed by file, then (code, line) at the pinned version.
KNOWN_TRUE = {
    # SEResNetBlock applies `self.relu` to bn2's output and then adds it (through the sigmoid-gated
    # SE module) to the shortcut: the branch can only add non-negative values.
    "timm/models/senet.py": {("RN306", 230)},
}
OFFLINE_SIGNS = (
    "Failed to establish a new connection",
    "Temporary failure in name resolution",
    "Name or service not known",
    "Network is unreachable",
    "No route to host",
    "Max retries exceeded",
    "ConnectTimeoutError",
    "ReadTimeoutError",
    "(from versions: none)",
)


def cache_dir() -> Path:
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "reslint-tests" / "wheels"


def cached_wheel(package: str, version: str) -> Path | None:
    return next(iter(sorted(cache_dir().glob(f"{package}-{version}-*.whl"))), None)


def download_wheel(package: str, version: str) -> Path:
    """The wheel from the cache, or from the registry; skips the test only when the registry cannot be reached."""
    wheel = cached_wheel(package, version)
    if wheel is not None:
        return wheel
    cache_dir().mkdir(parents=True, exist_ok=True)
    # Downloaded beside the cache, then renamed into it: a test running in another pytest worker
    # never sees half a wheel.
    with tempfile.TemporaryDirectory(dir=cache_dir()) as scratch:
        result = _pip_download(package, version, Path(scratch))
        for downloaded in Path(scratch).glob("*.whl"):
            os.replace(downloaded, cache_dir() / downloaded.name)
    output = result.stdout + result.stderr
    sign = next((sign for sign in OFFLINE_SIGNS if sign in output), None)
    if result.returncode != 0 and sign is not None:
        why = f"package registry unreachable, cannot download {package}=={version} ({sign!r})"
        pytest.skip(reason=why)
    assert result.returncode == 0, output
    wheel = cached_wheel(package, version)
    assert wheel is not None, (
        f"pip reported success but no {package}-{version} wheel is in {cache_dir()}:\n{output}"
    )
    return wheel


def _pip_download(package: str, version: str, dest: Path) -> subprocess.CompletedProcess[str]:
    command = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "--no-deps",
        "--only-binary=:all:",
        "--retries",
        "1",
        "--timeout",
        "30",
        "--dest",
        str(dest),
        f"{package}=={version}",
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Each package's ResNet-family files, unpacked under their in-wheel paths (so findings name them)."""
    root = tmp_path_factory.mktemp("third-party")
    for package, version in WHEELS.items():
        with zipfile.ZipFile(download_wheel(package, version)) as wheel:
            for member in RESNET_FAMILY[package]:
                wheel.extract(member, root)
    return root


def describe(findings: list[Finding], root: Path) -> str:
    return "\n".join(
        f"{Path(f.path).relative_to(root)}:{f.line}:{f.column} {f.code} {f.message}"
        for f in findings
    )


@pytest.mark.parametrize(
    "member", [member for members in RESNET_FAMILY.values() for member in members]
)
def test_resnet_family_file_gives_no_false_alarms(extracted: Path, member: str) -> None:
    path = extracted / member
    assert path.stat().st_size > 1000, f"{member} looks empty"
    findings = check_paths([str(path)])
    expected = KNOWN_TRUE.get(member, set())
    false_alarms = [f for f in findings if (f.code, f.line) not in expected]
    assert not false_alarms, f"false alarms on {member}:\n{describe(false_alarms, extracted)}"
    missing = expected - {(f.code, f.line) for f in findings}
    assert not missing, f"known true findings no longer reported on {member}: {sorted(missing)}"


def test_the_family_files_linted_together_give_no_false_alarms(extracted: Path) -> None:
    """The files as they lie in their packages, linted in one run: each sees the other files it
    imports (quantization/resnet.py subclasses resnet.py's blocks)."""
    findings = check_paths([str(extracted)])
    expected = {
        (member, code, line) for member, known in KNOWN_TRUE.items() for code, line in known
    }
    reported = {(Path(f.path).relative_to(extracted).as_posix(), f.code, f.line) for f in findings}
    assert reported == expected, describe(findings, extracted)


def test_seed001_as_published_reports_the_authors_bugs_not_the_quoted_copy(
    tmp_path: Path,
) -> None:
    """Seed 001's post quotes torchvision's resnet.py after the author's own code, in the same file, so
    `class ResNet` is defined twice. The author's definitions must still be analysed (each definition
    gets its own model), and the quoted copy must stay silent. The copy comes from the wheel at test
    time; it is never committed here."""
    from tests.test_fixtures import expected_marks

    seed = Path(__file__).resolve().parents[1] / "fixtures/seeds/seed001_korean_subblock_resnet.py"
    with zipfile.ZipFile(download_wheel("torchvision", WHEELS["torchvision"])) as wheel:
        quoted = wheel.read("torchvision/models/resnet.py").decode("utf-8")
    own = seed.read_text(encoding="utf-8")
    published = tmp_path / "seed001_as_published.py"
    published.write_text(own + "\n" + quoted, encoding="utf-8")

    reported = sorted((f.line, f.code) for f in check_paths([str(published)]))

    assert reported == sorted(expected_marks(seed).elements())
