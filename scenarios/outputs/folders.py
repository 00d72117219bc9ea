"""Output folders written whole or not at all, by one command at a time.

Every command that writes a run folder (``estate run``, ``demo``, ``plan``, ``share``,
``sweep``) or adds files to one (``map``, ``report``, ``publish``) goes through
:func:`writing_folder`:

1. **Lock.**  ``.<name>.lock`` beside the target is locked with ``flock``; a second
   command that wants the same folder fails at once with :class:`FolderBusyError`
   naming the process that holds it.  The kernel drops the lock when its process dies
   (even by ``kill -9``), so a lock is never stale.
2. **Check.**  A non-empty folder that is not one of ours (see :func:`folder_kind`)
   is refused unless ``force``; the filesystem root, the home folder and the current
   folder (or one holding it) are always refused, and ``force`` never deletes the
   scenario's own input files.
3. **Stage.**  Everything is written into ``.<name>.estate-XXXX/<name>/`` beside the
   target (same name, so nothing written mentions the staging folder; same
   filesystem, so the swap is a rename).  Commands that add to an existing folder
   start from a hard-linked copy of it: every writer replaces files by rename
   (:mod:`estate.io`), so the target's files are never modified through a link.
4. **Swap.**  One ``renameat2(RENAME_EXCHANGE)`` swaps the new folder and the old
   one, so at every moment the target is the old folder, whole, or the new one,
   whole.  Where the filesystem cannot exchange, the old folder is renamed aside,
   the new one into place, and a folder found missing next time is restored from
   the one set aside.  The old folder is then deleted.

An error anywhere (including a full disk or a permission refused) deletes the staging
folder and leaves the target as it was; disk and permission errors become one-line
:class:`OutputFolderError` messages.  Leftovers of a killed command (hidden staging
folders beside the target) are removed by the next command that locks the target.
"""

from __future__ import annotations

import ctypes
import errno
import fcntl
import json
import os
import re
import shutil
import socket
import stat
import tempfile
import time
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from estate.errors import EstateError

Kind = Literal["run", "sweep"]
STAGING_MARK = ".estate-"  # hidden names beside a target: .<name>.estate-XXXX
PREVIOUS = "previous"  # the old folder, set aside where an exchange is not possible
POINT_NAME = re.compile(r"^[0-9a-f]{16}$")
# errno values that only an output can cause (no read fails with them).
WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS}
ACCESS_ERRNOS = {errno.EACCES, errno.EPERM}


class OutputFolderError(EstateError):
    """An output folder that cannot be written: busy, not ours, or the disk refused.

    Exit code 2 on the command line: nothing was computed into it or changed in it.
    """

    exit_code = 2


class FolderBusyError(OutputFolderError):
    """Another command is writing the same folder right now."""


# --- what is in a folder -------------------------------------------------------------


def _ours(name: str) -> bool:
    """Hidden leftovers of this module (lock files, staging folders)."""
    return name.startswith(".") and (name.endswith(".lock") or STAGING_MARK in name)


def _json_with(path: Path, key: str) -> bool:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(doc, dict) and key in doc


def folder_kind(path: Path) -> str:
    """``missing``, ``empty``, ``run``, ``sweep`` or ``other`` (not written by this tool).

    A run folder has a ``summary.json`` with a status (``estate run``, ``demo``,
    ``plan`` and ``share`` write one), or is a share stopped before its first
    summary (only ``coalitions/``, itself a sweep folder).  A sweep folder has a
    ``sweep.json``, or is a sweep stopped before it wrote one (``points/`` holding
    only point folders).
    """
    if not path.exists():
        return "missing"
    if not path.is_dir():
        return "other"
    names = [n for n in os.listdir(path) if not _ours(n)]
    if not names:
        return "empty"
    if _json_with(path / "summary.json", "status"):
        return "run"
    if _json_with(path / "sweep.json", "axes"):
        return "sweep"
    points = path / "points"
    if points.is_dir() and all(
        POINT_NAME.match(n) or _ours(n) or n.startswith(".") for n in os.listdir(points)
    ):
        return "sweep"
    if names == ["coalitions"] and folder_kind(path / "coalitions") in ("sweep", "empty"):
        return "run"
    return "other"


def _sample(path: Path) -> str:
    names = sorted(n for n in os.listdir(path) if not _ours(n))
    shown = ", ".join(repr(n) for n in names[:3])
    return shown + (f" and {len(names) - 3} more" if len(names) > 3 else "")


def check_target(
    target: Path,
    shown: str,
    kind: Kind | None,
    force: bool = False,
    protect: Iterable[Path] = (),
) -> None:
    """Raise :class:`OutputFolderError` if ``target`` may not be replaced (see module)."""
    cwd = Path.cwd().resolve()
    if target == Path(target.anchor) or target == Path.home().resolve():
        raise OutputFolderError(f"{shown} cannot be an output folder (it is {target})")
    if target == cwd or target in cwd.parents:
        raise OutputFolderError(
            f"{shown} is the current folder or holds it, and would be replaced from under "
            "you; run the command from another folder, or write to another one"
        )
    found = folder_kind(target)
    if found == "other" and not target.is_dir():
        raise OutputFolderError(f"{shown} exists and is not a folder")
    if kind is None or found in ("missing", "empty", kind):
        return
    if not force:
        what = (
            f"is a {found} folder, not a {kind} folder"
            if found in ("run", "sweep")
            else f"holds files that no estate command wrote ({_sample(target)})"
        )
        raise OutputFolderError(
            f"{shown} {what}; choose another folder, or give --force to replace it "
            "(everything in it is deleted)"
        )
    inside = sorted(str(p) for p in protect if target in Path(p).resolve().parents)
    if inside:
        raise OutputFolderError(
            f"{shown} holds the scenario's own input files ({', '.join(inside[:3])}); "
            "--force would delete them, so choose another folder"
        )


# --- the lock ------------------------------------------------------------------------


def lock_path(target: Path) -> Path:
    return target.parent / f".{target.name}.lock"


def _holder_text() -> str:
    started = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime())
    return json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "since": started})


def _holder(fd: int) -> str:
    try:
        doc = json.loads(os.pread(fd, 4096, 0).decode("utf-8"))
        return f"process {doc['pid']} on {doc['host']}, since {doc['since']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "another process"


@contextmanager
def folder_lock(target: Path, shown: str) -> Iterator[None]:
    """Hold the lock of ``target`` (``.<name>.lock`` beside it) or fail at once."""
    path = lock_path(target)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _holder(fd)
            os.close(fd)
            raise FolderBusyError(
                f"{shown} is being written by another estate command ({holder}); wait "
                "for it to finish, or write to another folder"
            ) from None
        # The holder before us unlinks the file while it still holds it: a lock on an
        # unlinked file would not exclude a third process, so lock the file that is there.
        try:
            if os.path.samestat(os.fstat(fd), os.stat(path)):
                break
        except FileNotFoundError:
            pass
        os.close(fd)
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, _holder_text().encode("utf-8"), 0)
        yield
    finally:
        with suppress(FileNotFoundError):
            os.unlink(path)
        os.close(fd)


# --- staging and the swap ------------------------------------------------------------


@dataclass(frozen=True)
class Staging:
    """Where a command writes (``path``) before ``path`` becomes ``target``.

    ``given`` is the target as the user named it, for messages and the paths returned.
    """

    target: Path
    path: Path
    given: Path

    def final(self, path: Path) -> Path:
        """Where a file written under ``path`` is once the folder is swapped in."""
        try:
            return self.given / Path(path).relative_to(self.path)
        except ValueError:
            return Path(path)

    def finals(self, paths: Iterable[Path]) -> tuple[Path, ...]:
        return tuple(self.final(p) for p in paths)


def _renameat2() -> object | None:
    try:
        func = ctypes.CDLL(None, use_errno=True).renameat2
    except (AttributeError, OSError):
        return None
    func.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    func.restype = ctypes.c_int
    return func


_RENAMEAT2 = _renameat2()
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically; False where the system or filesystem cannot."""
    if _RENAMEAT2 is None:
        return False
    result = _RENAMEAT2(  # type: ignore[operator]
        _AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE
    )
    if result == 0:
        return True
    code = ctypes.get_errno()
    if code in (errno.EINVAL, errno.ENOSYS, errno.ENOTSUP, errno.EOPNOTSUPP):
        return False
    raise OSError(code, os.strerror(code), str(b))


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _swap_in(staging: Path, target: Path, holder: Path) -> None:
    """Make ``staging`` the folder at ``target``; the old folder ends up in ``holder``."""
    if target.exists():
        os.chmod(staging, stat.S_IMODE(target.stat().st_mode))
        if not _exchange(staging, target):
            os.rename(target, holder / PREVIOUS)
            try:
                os.rename(staging, target)
            except BaseException:
                os.rename(holder / PREVIOUS, target)
                raise
    else:
        os.rename(staging, target)
    _fsync_dir(target.parent)


def _leftovers(target: Path) -> list[Path]:
    prefix = f".{target.name}{STAGING_MARK}"
    try:
        names = os.listdir(target.parent)
    except FileNotFoundError:
        return []
    return [target.parent / n for n in sorted(names) if n.startswith(prefix)]


def recover(target: Path) -> None:
    """Clean up after a command killed while writing ``target`` (hold its lock first).

    A missing target whose old folder was set aside is put back; every other leftover
    (unfinished staging, old folders not yet deleted) is removed.
    """
    for leftover in _leftovers(target):
        previous = leftover / PREVIOUS
        if not target.exists() and previous.is_dir():
            os.rename(previous, target)
        shutil.rmtree(leftover, ignore_errors=True)


def _link_or_copy(source: str, target: str) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def link_tree(source: Path, target: Path, skip: Iterable[str] = ()) -> None:
    """Copy ``source`` to ``target`` as hard links (copies where links are refused),
    leaving out this module's leftovers and the top-level names in ``skip``."""
    skipped = set(skip)

    def ignore(folder: str, names: list[str]) -> list[str]:
        top = Path(folder) == source
        return [n for n in names if _ours(n) or (top and n in skipped)]

    shutil.copytree(source, target, symlinks=True, ignore=ignore, copy_function=_link_or_copy)


@contextmanager
def staged(target: Path) -> Iterator[Staging]:
    """Write into a fresh folder beside ``target`` and swap it in on success (no lock:
    for a folder the caller already holds, such as a sweep's point)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    recover(target)
    holder = Path(tempfile.mkdtemp(prefix=f".{target.name}{STAGING_MARK}", dir=target.parent))
    try:
        staging = Staging(target, holder / target.name, target)
        staging.path.mkdir()
        yield staging
        _swap_in(staging.path, target, holder)
    finally:
        shutil.rmtree(holder, ignore_errors=True)


# --- errors --------------------------------------------------------------------------


def _is_output_error(exc: OSError, roots: Iterable[Path]) -> bool:
    """A write refused (disk full, quota, file too large, read-only), or a permission or
    I/O error on a file under ``roots`` (where the output goes)."""
    if exc.errno in WRITE_ERRNOS:
        return True
    if exc.errno not in ACCESS_ERRNOS | {errno.EIO}:
        return False
    name = exc.filename
    if name is None:
        return exc.errno in ACCESS_ERRNOS
    where = Path(os.path.abspath(os.fsdecode(name)))
    return any(where == r or r in where.parents for r in roots)


_TEMPORARY = re.compile(r"^\.(?P<stem>.+)\.[^.]+\.tmp(?P<suffix>\.[^.]*)?$")


def _file_shown(name: str | bytes | None, staging: Staging | None) -> str:
    """The output file an error is about, as the user will know it: in the target
    folder, not the staging one, and not the temporary name it had while written."""
    if name is None:
        return ""
    path = Path(os.path.abspath(os.fsdecode(name)))
    temporary = _TEMPORARY.match(path.name)
    if temporary:
        path = path.with_name(temporary["stem"] + (temporary["suffix"] or ""))
    return str(staging.final(path) if staging is not None else path)


def _reword(exc: EstateError, staging: Path, target: Path) -> None:
    """Name the target, not the staging folder, in an error about a file read there."""
    exc.args = tuple(
        a.replace(str(staging), str(target)) if isinstance(a, str) else a for a in exc.args
    )


def output_error(exc: OSError, target: Path, shown: str, staging: Staging | None) -> None:
    """Raise one :class:`OutputFolderError` for a full disk or a refused permission
    (return, for the caller to re-raise, for any other error)."""
    if not _is_output_error(exc, [target.parent]):
        return
    file = _file_shown(exc.filename, staging)
    raise OutputFolderError(
        f"cannot write {shown}: {exc.strerror or exc}{f' ({file})' if file else ''}; "
        f"nothing in {shown} was changed"
    ) from exc


# --- the one entry point -------------------------------------------------------------


def absolute(path: str | Path) -> Path:
    """The folder a path names, symbolic links resolved (so a swap replaces the folder,
    not a link to it)."""
    return Path(path).expanduser().resolve()


@contextmanager
def writing_folder(
    out: str | Path,
    *,
    kind: Kind | None = "run",
    force: bool = False,
    protect: Iterable[Path] = (),
    update: bool = False,
    skip: Iterable[str] = (),
    carry: Iterable[str] = (),
) -> Iterator[Staging]:
    """Lock ``out``, check it, and yield a :class:`Staging` to write into; on success
    the staging folder replaces ``out`` whole (see the module notes).

    ``kind``: what ``out`` must be if it holds anything (None: no check).  ``force``:
    replace a folder of another kind.  ``protect``: files ``force`` must not delete.
    ``update``: start from a hard-linked copy of ``out`` (without the top-level names
    in ``skip``), for commands that add files.  ``carry``: top-level folders of
    ``out`` linked into the new folder just before the swap (a sweep's points, which
    are written into ``out`` as they finish so that a stopped sweep resumes).
    """
    shown = str(out)
    target = absolute(out)
    staging: Staging | None = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with ExitStack() as locks:
            if update and folder_kind(target.parent) == "run":
                # A run's companion folder (siloed/): a rerun of the run it belongs to
                # would replace it from under us, so hold that run's lock too.
                locks.enter_context(folder_lock(target.parent, str(Path(out).parent)))
            locks.enter_context(folder_lock(target, shown))
            recover(target)
            check_target(target, shown, kind, force, protect)
            holder = Path(
                tempfile.mkdtemp(prefix=f".{target.name}{STAGING_MARK}", dir=target.parent)
            )
            try:
                staging = Staging(target, holder / target.name, Path(out))
                if update and target.is_dir():
                    link_tree(target, staging.path, skip)
                else:
                    staging.path.mkdir()
                try:
                    yield staging
                except EstateError as exc:
                    _reword(exc, staging.path, target)
                    raise
                for name in carry:
                    if (target / name).is_dir() and not (staging.path / name).exists():
                        link_tree(target / name, staging.path / name)
                _swap_in(staging.path, target, holder)
            finally:
                shutil.rmtree(holder, ignore_errors=True)
    except OSError as exc:
        output_error(exc, target, shown, staging)
        raise


@contextmanager
def destination(
    out: str | Path | Staging | None,
    *,
    kind: Kind | None = "run",
    force: bool = False,
    protect: Iterable[Path] = (),
    carry: Iterable[str] = (),
) -> Iterator[Staging | None]:
    """:func:`writing_folder` for a path; a :class:`Staging` the caller holds is used as
    it is (the caller swaps it in); None writes nothing."""
    if out is None or isinstance(out, Staging):
        yield out
        return
    with writing_folder(out, kind=kind, force=force, protect=protect, carry=carry) as staging:
        yield staging
