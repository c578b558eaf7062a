"""Atomic file writes: a reader never sees a half-written file (temporary name, then rename)."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any


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
    fd, tmp = _temporary_file(path)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
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
def atomic_directory(final: str | Path) -> Iterator[Path]:
    """Yield a fresh temporary sibling of ``final`` to fill; it replaces ``final`` when the block
    ends, and is removed if the block raises (``final``, old or absent, is then untouched)."""
    final = Path(final)
    final.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=final.parent, prefix=f".{final.name}.", suffix=".tmp"))
    os.chmod(tmp, 0o777 & ~_umask())
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
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
