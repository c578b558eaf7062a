"""Where documents come from: the embedded sample, local folders, Hugging Face datasets.

Every source yields a list of :class:`Document` per language, in a stable order, so
that the seeded budget selection downstream is reproducible.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from taam.errors import DataError

LOCAL_SUFFIXES = (".txt", ".jsonl", ".parquet")
MAX_DOCUMENT_CHARS = 200_000  # longer documents are split (bounded tokeniser memory)


@dataclass(frozen=True)
class Document:
    text: str
    origin: str  # file (and line) or dataset row it came from

    @property
    def nbytes(self) -> int:
        return len(self.text.encode("utf-8"))


def sample_dir() -> Path:
    """The embedded sample corpus shipped inside the package."""
    return Path(str(resources.files("taam").joinpath("sample_data")))


def load_sample(language: str) -> list[Document]:
    path = sample_dir() / f"{language}.jsonl"
    if not path.exists():
        shipped = sorted(p.stem for p in sample_dir().glob("*.jsonl"))
        raise DataError(
            f"the embedded sample has no '{language}' (it ships {', '.join(shipped)}). "
            f"Point data.source.{language} at a local folder or a Hugging Face dataset instead."
        )
    return list(_read_jsonl(path))


def load_folder(folder: str | Path) -> list[Document]:
    """Every ``.txt`` (one document per blank-line separated block), ``.jsonl`` and ``.parquet``
    (one document per row, column ``text``) file under ``folder``, in sorted path order."""
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise DataError(
            f"data folder '{folder}' does not exist; create it with .txt/.jsonl/.parquet files "
            f"or fix the path in data.source."
        )
    files = sorted(p for p in folder.rglob("*") if p.suffix in LOCAL_SUFFIXES and p.is_file())
    docs: list[Document] = []
    for path in files:
        reader = {".txt": _read_txt, ".jsonl": _read_jsonl, ".parquet": _read_parquet}[path.suffix]
        docs.extend(reader(path))
    return docs


def load_hf(dataset_id: str, split: str = "train", column: str = "text") -> list[Document]:
    """A Hugging Face dataset: a Hub id, or a local copy made with ``save_to_disk``."""
    import datasets

    local = Path(dataset_id).expanduser()
    if local.exists():
        ds = datasets.load_from_disk(str(local))
        ds = ds[split] if isinstance(ds, datasets.DatasetDict) else ds
    else:
        if os.environ.get("HF_HUB_OFFLINE") == "1" or os.environ.get("HF_DATASETS_OFFLINE") == "1":
            raise DataError(_offline_message(dataset_id))
        try:
            ds = datasets.load_dataset(dataset_id, split=split)
        except Exception as err:  # the Hub raises many types: name them all in one message
            raise DataError(f"{_offline_message(dataset_id)} (the loader said: {err})") from err
    if column not in ds.column_names:
        raise DataError(
            f"dataset '{dataset_id}' has no '{column}' column (it has {', '.join(ds.column_names)}); "
            f"set data.text_column to the column holding the text."
        )
    return [Document(t, f"{dataset_id}[{i}]") for i, t in enumerate(ds[column]) if t]


def _offline_message(dataset_id: str) -> str:
    return (
        f"cannot load Hugging Face dataset '{dataset_id}': the Hub is unreachable or offline. "
        f"Save a copy where it is reachable (datasets.load_dataset('{dataset_id}', split='train')"
        f".save_to_disk('/path/copy')) and pass that path instead of the id, or use a local "
        f"folder of .txt/.jsonl/.parquet files."
    )


def load_source(language: str, source: str) -> list[Document]:
    """Dispatch on the source spec: ``sample``, ``hf:<id or saved path>``, or a folder path."""
    if source == "sample":
        docs = load_sample(language)
    elif source.startswith("hf:"):
        docs = load_hf(source[3:])
    else:
        docs = load_folder(source)
    docs = [piece for d in docs if d.text.strip() for piece in split_long(d)]
    if not docs:
        raise DataError(
            f"language '{language}' has no documents in source '{source}'; add text files "
            f"(.txt/.jsonl with a 'text' field/.parquet) or drop the language from data.languages."
        )
    return docs


def split_long(doc: Document, max_chars: int = MAX_DOCUMENT_CHARS) -> list[Document]:
    """``doc`` cut into pieces of at most ``max_chars``, at a line break or space where possible.

    One 46 MB single-line document took 11 GB to tokenise in one piece; pieces bound that.
    """
    text, pieces = doc.text, []
    while len(text) > max_chars:
        cut = max(text.rfind("\n", 0, max_chars), text.rfind(" ", 0, max_chars))
        cut = cut + 1 if cut > 0 else max_chars
        pieces.append(text[:cut])
        text = text[cut:]
    pieces.append(text)
    if len(pieces) == 1:
        return [doc]
    return [Document(p, f"{doc.origin}~{i}") for i, p in enumerate(pieces) if p.strip()]


def _decode(path: Path) -> str:
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        bad = _count_invalid_utf8(raw)
        raise DataError(
            f"{path} is not valid UTF-8: {bad} of its {len(raw)} bytes cannot be decoded. "
            f"Convert it (e.g. iconv -f <encoding> -t UTF-8 '{path}') or remove it from the folder."
        ) from None


def _count_invalid_utf8(raw: bytes) -> int:
    text = raw.decode("utf-8", errors="surrogateescape")
    return sum(1 for ch in text if "\udc80" <= ch <= "\udcff")


def _read_txt(path: Path) -> Iterator[Document]:
    blocks = _decode(path).split("\n\n")
    for i, block in enumerate(blocks):
        if block.strip():
            yield Document(block.strip("\n"), f"{path}#{i}")


def _read_jsonl(path: Path) -> Iterator[Document]:
    for lineno, line in enumerate(_decode(path).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as err:
            raise DataError(f"{path}:{lineno} is not valid JSON ({err.msg}).") from None
        if not isinstance(row, dict) or "text" not in row:
            raise DataError(
                f"{path}:{lineno} has no 'text' field; each line needs {{\"text\": ...}}."
            )
        if not isinstance(row["text"], str):
            raise DataError(
                f"{path}:{lineno}: 'text' must be a string, got {json.dumps(row['text'])}; fix or "
                f"drop that line."
            )
        yield Document(row["text"], f"{path}:{lineno}")


def _read_parquet(path: Path) -> Iterator[Document]:
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(path)
    except Exception as err:  # pyarrow raises ArrowInvalid, OSError, ... for a broken file
        raise DataError(
            f"{path} is not a readable parquet file ({err}); re-export it or remove it."
        ) from None
    if "text" not in table.column_names:
        raise DataError(f"{path} has no 'text' column (it has {', '.join(table.column_names)}).")
    for i, text in enumerate(table.column("text").to_pylist()):
        if text is not None and not isinstance(text, str):
            raise DataError(f"{path}[{i}]: 'text' must be a string, got {type(text).__name__}.")
        if text:
            yield Document(text, f"{path}[{i}]")
