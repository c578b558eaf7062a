"""Atomic file writes: a reader never sees a half-written file (temporary name, then rename).

Temporaries are staged next to their destination (never in ``$TMPDIR``), named
``.<name>.<random>.tmp``; a write that fills the disk deletes its temporary and raises
:class:`DiskFull` naming the path and the space needed. :func:`remove_stale_temporaries`
clears what a killed process left.
"""

from __future__ import annotations

import csv
import errno
import io
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from taam.errors import TaamError

NO_SPACE = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG}  # disk full, quota, file size limit


class DiskFull(TaamError, OSError):
    """A write ran out of space; its partial temporary file was deleted."""


def disk_full(path: Path, needed_bytes: int | None, err: OSError) -> DiskFull:
    """The one-line error for a write of ``path`` that ran out of space."""
    free = shutil.disk_usage(path.parent if path.parent.exists() else ".").free
    need = f"about {needed_bytes / 1e6:,.1f} MB" if needed_bytes else "more space"
    return DiskFull(
        f"no space left writing {path} ({err.strerror}): it needs {need} and "
        f"{free / 1e6:,.1f} MB are free there; free some space or move run_dir, then resume."
    )


@contextmanager
def staged(path: str | Path, needed_bytes: int | None = None) -> Iterator[Path]:
    """Yield a temporary sibling of ``path`` to write; rename it over ``path`` on success.

    On any failure the temporary is deleted; a full disk becomes :class:`DiskFull`.
    """
    path = Path(path)
    fd, tmp = _temporary_file(path)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException as err:
        Path(tmp).unlink(missing_ok=True)
        cause = out_of_space(err)
        if cause is not None:
            raise disk_full(path, needed_bytes, cause) from err
        raise


def out_of_space(err: BaseException | None) -> OSError | None:
    """The disk-full ``OSError`` behind ``err``, if any (torch.save wraps it in a RuntimeError)."""
    while err is not None:
        if isinstance(err, OSError) and err.errno in NO_SPACE:
            return err
        err = err.__cause__ or err.__context__
    return None


def remove_stale_temporaries(folder: str | Path) -> list[Path]:
    """Delete the ``.*.tmp`` files and folders a killed write left under ``folder``.

    A ``.<name>.old`` folder is what :func:`atomic_directory` moved aside: it goes back to
    ``<name>`` if a kill came before the new one was in place, and is deleted otherwise.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return []
    for old in folder.rglob(".*.old"):
        final = old.with_name(old.name[1 : -len(".old")])
        if not final.exists():
            os.replace(old, final)
    stale = [*folder.rglob(".*.tmp"), *folder.rglob(".*.old")]
    for path in stale:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)
    return stale


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _temporary_file(path: Path) -> tuple[int, str]:
    """A temporary sibling of ``path`` with the permissions a plain ``open`` would give."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.chmod(tmp, 0o666 & ~_umask())
    return fd, tmp


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    path = Path(path)
    with staged(path, len(data)) as tmp, tmp.open("wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    return path


def atomic_write_text(path: str | Path, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def write_json(path: str | Path, obj: Any) -> Path:
    return atomic_write_text(
        path, json.dumps(obj, indent=2, ensure_ascii=False, default=_jsonable) + "\n"
    )


def write_csv(path: str | Path, rows: Iterable[Mapping[str, Any]], columns: list[str]) -> Path:
    """Write ``rows`` (dicts) with a fixed column order, atomically and synced like JSON."""
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return atomic_write_text(path, text.getvalue())


@contextmanager
def atomic_directory(final: str | Path, needed_bytes: int | None = None) -> Iterator[Path]:
    """Yield a fresh temporary sibling of ``final`` to fill; it replaces ``final`` when the block
    ends, and is removed if the block raises (``final``, old or absent, is then untouched).

    A block that fills the disk raises :class:`DiskFull` naming ``final`` and ``needed_bytes``.
    """
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name}.", suffix=".tmp"))
    os.chmod(tmp, 0o777 & ~_umask())
    try:
        yield tmp
    except BaseException as err:
        shutil.rmtree(tmp, ignore_errors=True)
        cause = out_of_space(err)
        if cause is not None:
            raise disk_full(final, needed_bytes, cause) from err
        raise
    _replace_directory(tmp, final)


def _replace_directory(tmp: Path, final: Path) -> None:
    """Replace ``final`` by the finished directory ``tmp``; the old one survives any crash before."""
    if final.exists():
        old = final.with_name(f".{final.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(final, old)
        os.replace(tmp, final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(tmp, final)


def _jsonable(obj: Any) -> Any:
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"cannot write {type(obj).__name__} as JSON")


def read_csv_rows(path: str | Path) -> list[dict[str, float | str | None]]:
    """The rows of a CSV the project wrote: numbers as floats, empty cells as None, and text
    columns (mixer.csv's ``signal``) as text."""
    with Path(path).open(newline="", encoding="utf-8") as f:
        return [{key: _cell(value) for key, value in row.items()} for row in csv.DictReader(f)]


def _cell(value: str) -> float | str | None:
    if value == "":
        return None
    try:
        return float(value)
    except ValueError:
        return value
