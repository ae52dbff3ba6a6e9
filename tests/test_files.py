"""Atomic writes: the mode a plain open() would give, and no temporary files left by a crash."""

import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from tarjoman.files import sweep_temporaries, write_atomic

REPO = Path(__file__).resolve().parents[1]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def temporaries(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.name.endswith(".tmp"))


@pytest.fixture
def restore_umask():
    before = os.umask(0o022)
    os.umask(before)
    yield
    os.umask(before)


@pytest.mark.parametrize("mask", [0o022, 0o027, 0o077])
def test_a_new_file_gets_the_mode_open_would_give(tmp_path, restore_umask, mask):
    os.umask(mask)
    write_atomic(tmp_path / "fa.po", 'msgid ""\n')
    with open(tmp_path / "plain.po", "w"):
        pass
    assert mode(tmp_path / "fa.po") == 0o666 & ~mask == mode(tmp_path / "plain.po")


def test_replacing_a_file_keeps_its_mode(tmp_path):
    target = tmp_path / "glossary.csv"
    target.write_text("old\n")
    target.chmod(0o640)
    write_atomic(target, "new\n")
    assert target.read_text() == "new\n"
    assert mode(target) == 0o640


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path):
    target = tmp_path / "manuscript.json"
    target.write_text("{}\n")
    with pytest.raises(TypeError):
        write_atomic(target, 42)  # type: ignore[arg-type]
    assert target.read_text() == "{}\n"
    assert temporaries(tmp_path) == []


# The child blocks where write_atomic syncs its finished temporary file, just before the rename.
CRASHING_WRITER = """
import os, sys, time
os.fsync = lambda fd: (print("ready", flush=True), time.sleep(120))
from tarjoman.files import write_atomic
write_atomic(sys.argv[1], b"x" * (8 << 20))
"""


def test_a_killed_writer_leaves_a_temporary_the_next_write_removes(tmp_path):
    target = tmp_path / "ar.po"
    target.write_text("old\n")
    command = [sys.executable, "-c", CRASHING_WRITER, str(target)]
    child = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline() == "ready\n"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
        child.stdout.close()
    (stale,) = temporaries(tmp_path)
    assert stale.name.startswith(f".ar.po.{child.pid}.")
    assert stale.stat().st_size == 8 << 20
    assert target.read_text() == "old\n"

    write_atomic(tmp_path / "en.po", "new\n")  # any write into the folder sweeps it
    assert temporaries(tmp_path) == []
    assert target.read_text() == "old\n"
    assert (tmp_path / "en.po").read_text() == "new\n"


def test_a_live_writers_temporary_is_kept(tmp_path):
    live = tmp_path / f".fr.po.{os.getpid()}.{'0' * 16}.tmp"
    live.write_text("half")
    theirs = tmp_path / ".notes.tmp"  # not ours: no pid in the name
    theirs.write_text("keep")
    write_atomic(tmp_path / "fr.po", "new\n")
    assert sweep_temporaries(tmp_path) == []
    assert live.read_text() == "half"
    assert theirs.read_text() == "keep"


def test_replace_if_unchanged_swaps_only_what_it_read(tmp_path):
    from tarjoman.files import _exchange, replace_if_unchanged

    path = tmp_path / "fr.po"
    path.write_bytes(b"as read")
    assert replace_if_unchanged(path, "ours", b"as read") and path.read_bytes() == b"ours"
    assert not replace_if_unchanged(path, "again", b"as read") and path.read_bytes() == b"ours"  # it changed since
    assert not replace_if_unchanged(tmp_path / "new.po", "x", b"something")  # nothing there to replace
    assert replace_if_unchanged(tmp_path / "new.po", "x", None) and (tmp_path / "new.po").read_text() == "x"
    other = tmp_path / "other"
    other.write_bytes(b"B")
    assert _exchange(other, path) and path.read_bytes() == b"B"  # this machine has RENAME_EXCHANGE
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_a_save_at_the_last_instant_is_put_back(tmp_path, monkeypatch):
    """A translator's editor saves between the check and the swap: her file stays, ours is dropped."""
    import tarjoman.files as files

    path = tmp_path / "fr.po"
    path.write_bytes(b"as read")
    seal = files._seal

    def save_then_seal(tmp, mode):
        (tmp_path / "hers").write_bytes(b"her save")
        os.replace(tmp_path / "hers", path)  # as Poedit saves: a new file renamed over the old
        seal(tmp, mode)

    monkeypatch.setattr(files, "_seal", save_then_seal)
    assert not files.replace_if_unchanged(path, "ours", b"as read")
    assert path.read_bytes() == b"her save"
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
