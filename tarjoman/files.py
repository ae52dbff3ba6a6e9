"""Writing files so that a crash never leaves half of one: temporary file, fsync, rename.

The temporary file lies beside its target (a rename is atomic only within one filesystem) and is
named ``.{name}.{pid}.{random}.tmp``, so that a later write into the same folder can tell a
crashed writer's leftover from a live one's and remove it. The finished file gets the mode a
plain ``open(path, "w")`` would give it, or keeps the mode of the file it replaces: others
(Weblate, a web server, a colleague) must be able to read what the user lets them read.
"""

from __future__ import annotations

import errno
import functools
import os
import re
import secrets
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# A fixed-length random part, so that names made by tempfile.mkstemp never match.
_TEMPORARY = re.compile(r"\..+\.(\d+)\.[0-9a-f]{16}\.tmp")


def write_atomic(path: Path, data: bytes | str) -> None:
    """Replace ``path`` with ``data`` (text is written as UTF-8) in one step; readers see the old
    file or the new one, never a mix."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    with temporary_beside(path) as tmp, open(tmp, "wb") as fh:
        fh.write(data)


def replace_if_unchanged(path: Path, data: bytes | str, expected: bytes | None) -> bool:
    """Write ``data`` over ``path`` only if the file still holds ``expected`` (None: no file) at the
    moment of the swap; otherwise leave what someone saved there in place and return False.

    A check followed by a rename leaves a gap in which a translator's editor may save; Linux's
    ``renameat2(RENAME_EXCHANGE)`` swaps the two files in one step, so the file that was in
    place is still in hand afterwards and can be put back. Where the call is missing (another
    kernel, a filesystem without it) the check and the rename are done back to back."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    path = Path(path)
    if expected is None:
        if path.exists():
            return False
        write_atomic(path, data)
        return True
    if not path.exists():
        return False
    tmp = _new_temporary(path)
    try:
        try:
            with open(tmp, "wb") as fh:
                fh.write(data)
        except OSError as exc:
            raise OSError(exc.errno, exc.strerror, str(path)) from exc
        _seal(tmp, _mode_for(path))
        if _exchange(tmp, path):
            if tmp.read_bytes() == expected:  # what was in place at the instant of the swap
                return True
            _exchange(tmp, path)  # someone saved in between: put their file back
            return False
        if path.read_bytes() != expected:
            return False
        os.replace(tmp, path)
        return True
    finally:
        tmp.unlink(missing_ok=True)
        _fsync_dir(path.parent)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two files atomically (both must exist); False when the system cannot."""
    libc = _libc()
    if libc is None:
        return False
    renameat2 = getattr(libc, "renameat2", None)
    if renameat2 is None:
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    return False


@functools.cache
def _libc():
    import ctypes
    import ctypes.util

    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    except OSError:
        return None


@contextmanager
def temporary_beside(path: Path) -> Iterator[Path]:
    """Yield an empty temporary file in ``path``'s folder for the caller to fill by name; when the
    block ends, give it ``path``'s mode, fsync it and rename it over ``path``, or remove it if the
    block raised. Leftovers of crashed writers in that folder are removed first."""
    path = Path(path)
    folder = path.parent
    tmp = _new_temporary(path)
    try:
        yield tmp
        _seal(tmp, _mode_for(path))
        os.replace(tmp, path)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError) and exc.filename is None:  # a write or close that ran out of space
            raise OSError(exc.errno, exc.strerror, str(path)) from exc
        raise
    _fsync_dir(folder)


def _new_temporary(path: Path) -> Path:
    """An empty temporary file beside ``path``, after removing crashed writers' leftovers there."""
    folder = path.parent
    folder.mkdir(parents=True, exist_ok=True)
    sweep_temporaries(folder)
    tmp = folder / f".{path.name}.{os.getpid()}.{secrets.token_hex(8)}.tmp"
    # 0600 until finished: nobody else should read a half-written file.
    os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    return tmp


def sweep_temporaries(folder: Path) -> list[Path]:
    """Remove, and return, the temporary files in ``folder`` whose writer is no longer running.

    A temporary file of a live process (this one included) is never touched. This is
    housekeeping, so it never fails: a file it cannot inspect or remove is left alone."""
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        match = _TEMPORARY.fullmatch(entry.name)
        if not match or not entry.is_file(follow_symlinks=False) or _running(int(match.group(1))):
            continue
        try:
            os.unlink(entry.path)
        except OSError:  # another writer swept it first, or the folder is not ours to clean
            continue
        removed.append(Path(entry.path))
    return removed


def _running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (OSError, OverflowError):  # another user's process, or a pid we cannot ask about: keep
        return True
    return True


def _mode_for(path: Path) -> int:
    """The mode of the file being replaced, or for a new file what ``open(path, "w")`` gives."""
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        return 0o666 & ~_umask()


def _umask() -> int:
    """The process umask, read without changing it where Linux tells it (another thread may be
    creating a file right now); read once otherwise, since swapping it is racy."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return _swapped_umask()


@functools.cache
def _swapped_umask() -> int:
    # Restrictive while swapped: a file another thread creates meanwhile is private, not public.
    mask = os.umask(0o077)
    os.umask(mask)
    return mask


def _seal(tmp: Path, mode: int) -> None:
    # Opened again by name, so that a caller that recreated the file is sealed all the same.
    fd = os.open(tmp, os.O_RDONLY)
    try:
        os.fchmod(fd, mode)
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


MIB = 1 << 20


def size_of(path: Path) -> int:
    """Bytes of a file, or of every file under a folder (0 for what is not there)."""
    path = Path(path)
    try:
        if path.is_file():
            return path.stat().st_size
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    except OSError:
        return 0


def ensure_room(folder: Path, need: int, what: str) -> None:
    """Refuse, before anything is written, a command whose files would not fit: ``folder`` (or
    the nearest folder above it that exists) must be writable by this user and have ``need``
    bytes free, plus a MiB to spare. A disk that fills while the command runs is still caught
    where the write fails; this catches the usual case at no cost and with nothing half done."""
    from .errors import ProjectError, os_error_message

    folder = Path(folder)
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    try:
        stats = os.statvfs(existing)
    except OSError as exc:
        raise ProjectError(os_error_message(exc)) from exc
    if stats.f_flag & os.ST_RDONLY:
        raise ProjectError(os_error_message(OSError(errno.EROFS, "read-only", str(folder))))
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ProjectError(os_error_message(OSError(errno.EACCES, "permission denied", str(folder))))
    free = stats.f_bavail * stats.f_frsize
    if free < need + MIB:
        raise ProjectError(f"not enough free space to {what}: about {(need + MIB) / MIB:.1f} MB are needed, "
                           f"{free / MIB:.1f} MB are free; free some space and run the command again (nothing was changed)", path=folder)


def cache_root() -> Path:
    """Where Tarjoman keeps what it can make again (converted models, font subsets): $TARJOMAN_CACHE or ~/.cache/tarjoman."""
    return Path(os.environ.get("TARJOMAN_CACHE", Path.home() / ".cache" / "tarjoman"))
