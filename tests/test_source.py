"""Reading files to lint: only regular files are read, and every way a file cannot be decoded is RN002."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from reslint.source import (
    FileTooLarge,
    NotRegularFile,
    decode_source,
    is_lintable_file,
    read_regular_file,
    read_source,
    special_file_kind,
)


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "model.py"
    os.mkfifo(path)
    return path


@pytest.fixture
def urandom_link(tmp_path: Path) -> Path:
    path = tmp_path / "random.py"
    path.symlink_to("/dev/urandom")
    return path


def test_a_fifo_is_not_read(fifo: Path) -> None:
    """Opening a FIFO for reading waits for a writer: it must be recognised without waiting."""
    finding = read_source(str(fifo)).finding
    assert finding is not None and finding.code == "RN002"
    assert finding.message == "not read: it is a named pipe (FIFO), not a regular file"


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_an_endless_device_is_not_read(device: str) -> None:
    finding = read_source(device).finding
    assert finding is not None and finding.code == "RN002"
    assert "character device" in finding.message


def test_a_symlink_is_judged_by_what_it_points_to(urandom_link: Path, tmp_path: Path) -> None:
    finding = read_source(str(urandom_link)).finding
    assert finding is not None and "character device" in finding.message
    (tmp_path / "real.py").write_text("x = 1\n")
    (tmp_path / "alias.py").symlink_to(tmp_path / "real.py")
    assert read_source(str(tmp_path / "alias.py")).text == "x = 1\n"


def test_what_discovery_may_read(fifo: Path, urandom_link: Path, tmp_path: Path) -> None:
    regular = tmp_path / "net.py"
    regular.write_text("x = 1\n")
    (tmp_path / "dangling.py").symlink_to(tmp_path / "nowhere.py")
    assert is_lintable_file(str(regular))
    for path in (fifo, urandom_link, tmp_path, tmp_path / "dangling.py", tmp_path / "absent.py"):
        assert not is_lintable_file(str(path)), path
    assert special_file_kind(str(fifo)) == "a named pipe (FIFO)"
    assert special_file_kind(str(tmp_path)) == "a directory"
    assert special_file_kind(str(regular)) is None
    assert special_file_kind(str(tmp_path / "absent.py")) is None


def test_a_file_larger_than_the_limit_is_not_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "big.py"
    path.write_text("x = 1\n" * 100)
    finding = read_source(str(path), max_bytes=50).finding
    assert finding is not None and finding.code == "RN003"


def test_every_other_file_reslint_reads_is_held_to_the_same_rules(
    fifo: Path, tmp_path: Path
) -> None:
    """Configuration, .gitignore and cache files go through read_regular_file too."""
    with pytest.raises(NotRegularFile, match=r"^it is a named pipe \(FIFO\), not a regular file$"):
        read_regular_file(str(fifo), 100)
    with pytest.raises(NotRegularFile, match="character device"):
        read_regular_file("/dev/zero", 100)
    big = tmp_path / "big.toml"
    big.write_bytes(b"#" * 101)
    with pytest.raises(FileTooLarge):
        read_regular_file(str(big), 100)
    assert read_regular_file(str(big), 101) == b"#" * 101


@pytest.mark.parametrize("encoding", ["undefined", "rot13", "hex", "no-such-codec"])
def test_every_coding_declaration_python_cannot_use_is_rn002(encoding: str) -> None:
    finding = decode_source("m.py", f"# coding: {encoding}\nx = 1\n".encode()).finding
    assert finding is not None and finding.code == "RN002"
    assert finding.message.startswith("unreadable file:")


def test_a_byte_order_mark_beside_another_coding_says_so() -> None:
    finding = decode_source("m.py", b"\xef\xbb\xbf# coding: latin-1\nx = 1\n").finding
    assert finding is not None and finding.code == "RN002"
    assert finding.message == (
        "unreadable file: it starts with a UTF-8 byte-order mark but declares another coding"
    )


def test_the_cli_reports_a_fifo_and_an_undefined_coding_and_goes_on(
    run_reslint: Callable[..., subprocess.CompletedProcess[str]], fifo: Path, tmp_path: Path
) -> None:
    (tmp_path / "undefined.py").write_bytes(b"# coding: undefined\nx = 1\n")
    done = run_reslint(str(fifo), str(tmp_path / "undefined.py"), "--format", "json")
    findings = json.loads(done.stdout)
    assert sorted((Path(f["path"]).name, f["code"]) for f in findings) == [
        ("model.py", "RN002"),
        ("undefined.py", "RN002"),
    ]
    assert "internal error" not in done.stderr
