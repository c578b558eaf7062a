"""Build the ``l10n`` corpus: parallel English, Dutch and Simplified Chinese text from the
message catalogues (gettext ``.po``/``.mo``) that open-source Python applications ship
inside their PyPI wheels.

It is the second real corpus next to the embedded sample (Debian documentation): other
projects, another domain (the interface and help texts of web and desktop applications:
ticketing, translation, genealogy, content management, e-commerce, mailing lists, ...).
Only PyPI is needed: every source is a pinned wheel, checked against its SHA-256:

    python scripts/build_corpus.py [--out DIR]  # default: $TAAM_CORPUS_DIR or .cache/corpus-l10n

writes ``<out>/{eng,nld,zho}/<package>.jsonl`` (one ``{"text": ...}`` document per line,
with ``id`` and ``source``) and ``<out>/manifest.json`` (packages, versions, licences,
per-language documents, bytes and SHA-256). The same wheels give the same bytes.

How the text is made:

* A message counts only when it is translated, and not fuzzy, into **both** Dutch and
  Chinese; its English is the msgid (or the ``#. Default:`` text where the msgid is an
  identifier). The three languages therefore hold the same messages: the corpus is
  parallel, document by document (``id`` links the three versions of a document).
* Markup and format placeholders are stripped (HTML tags and entities, ``%(name)s``,
  ``{name}``, ``${name}``, Django template tags, Markdown emphasis and links, URLs, menu
  accelerators); a message left without letters is dropped, and so is a Dutch or Chinese
  message equal to its English (untranslated), or a Chinese one without Han characters or
  with Traditional-only ones (a few Simplified catalogues mix in Traditional messages).
* Messages are deduplicated per language across all catalogues (the first one wins, and
  a message is dropped from all three languages when any of its three texts was seen).
* A document is the messages of one source file, in source order, one message per line.
  The file is the entry's ``#:`` reference; where a catalogue has none (Gramps, Mayan and
  Trac ship only ``.mo`` files, Superset's ``.po`` has no references) it is the file of the
  wheel's own source whose string literal holds the message (else the catalogue itself).
  Files with fewer than ``MIN_DOC_BYTES`` of English text are merged with the next file of
  the same wheel; longer ones are cut every ``MAX_DOC_BYTES``, at the same messages in
  every language.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import json
import os
import re
import struct
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

LANGUAGES = ("eng", "nld", "zho")
MIN_DOC_BYTES = 500  # English bytes: smaller source files merge with the next one
MAX_DOC_BYTES = 5000  # English bytes: a larger source file is cut into several documents


@dataclass(frozen=True)
class Source:
    """One pinned wheel and the locale folders of its Dutch and Chinese catalogues."""

    package: str
    version: str
    sha256: str  # of the wheel: the same input bytes on every machine
    licence: str
    locales: tuple[str, str]  # (Dutch, Simplified Chinese) locale folder names
    kind: str = "po"  # po | mo
    locate: bool = False  # no references in the catalogue: look the strings up in the source


SOURCES: tuple[Source, ...] = (
    Source(
        "pretix",
        "2026.8.0",
        "a78932e698778d873530d67f25a57c28d1c09b1bfb1a22ec817c00d90397db85",
        "AGPL-3.0 (with additional terms under its section 7)",
        ("nl", "zh_Hans"),
    ),
    Source(
        "weblate",
        "5.14.3",
        "0bc2c5a49ebc496758e89f08d5ec9d1b226e8aba2cff7744a18ab9f235dca816",
        "GPL-3.0-or-later",
        ("nl", "zh_Hans"),
    ),
    Source(
        "gramps",
        "6.0.8",
        "56f03bcb643320eb9f9892d4c3f8bbe7c4c4d2e4c71e56f598584af24561ec1c",
        "GPL-2.0-or-later",
        ("nl", "zh_CN"),
        kind="mo",
        locate=True,
    ),
    Source(
        "plone.app.locales",
        "7.0.4",
        "de96a5d0dc1fe5ab540fa6f993805c09da80a9518aa7a309e8cd1f433e3ae6aa",
        "GPL-2.0",
        ("nl", "zh_CN"),
    ),
    Source(
        "django-oscar",
        "4.2.1",
        "adbb95ea0130859c204cc6fb221052d6d437ecbaa90800e8418a809f72645e9c",
        "BSD-3-Clause",
        ("nl", "zh_Hans"),
    ),
    Source(
        "pretalx",
        "2025.2.2",
        "39e99ae2c8ad4a6a17d2ee022fc52369a0ac398762cac537de7833c664828440",
        "AGPL-3.0-only",
        ("nl", "zh_Hans"),
    ),
    Source(
        "wagtail",
        "8.0.1",
        "1e6ad5c7891a54efce1400e168298b5a2cc343b642cee89c31bf5ec30c98b26c",
        "BSD-3-Clause",
        ("nl", "zh_Hans"),
    ),
    Source(
        "mailman",
        "3.3.10",
        "0f63ed38efa938357074e993d6a9b2d81bedaab92f5b3ecdd519890259893f37",
        "GPL-3.0-or-later",
        ("nl", "zh_Hans"),
    ),
    Source(
        "postorius",
        "1.3.13",
        "a13f3b6856cf8f0f454efbf7d642d06912867e8f0befb98a43cd604e04532ffe",
        "GPL-3.0",
        ("nl", "zh_CN"),
    ),
    Source(
        "hyperkitty",
        "1.3.12",
        "4205862e1d323e972bcb7447f1962da925709c7be43e663ffdc7bc7fa51e514d",
        "GPL-3.0",
        ("nl", "zh_CN"),
    ),
    Source(
        "django",
        "5.2.19",
        "5965d974a5218a2b68a11dd1276434707f23886525c23f0598eccedaf4f4ca00",
        "BSD-3-Clause",
        ("nl", "zh_Hans"),
    ),
    Source(
        "django-allauth",
        "65.22.1",
        "08f7a3ddbd5ff7f1000d685dee9c0678d0da2057e18bed473a6eb2de18bd04e4",
        "MIT",
        ("nl", "zh_Hans"),
    ),
    Source(
        "django-cms",
        "5.1.3",
        "acf31919aab389d2bea253efa97a901bf55e96046a252f23a7a742e495848a5e",
        "BSD-3-Clause",
        ("nl", "zh_CN"),
    ),
    Source(
        "ckan",
        "2.12.0",
        "3b41cb4860286813fbcd18c57341e96edba266e2e492aeea92c4e03ce9e2934e",
        "AGPL-3.0-or-later",
        ("nl", "zh_Hans_CN"),
    ),
    Source(
        "calibreweb",
        "0.6.27",
        "c6d4173d31a4495e09c615857f30f0d03d9f7eabc7bb50558164f67083d4f72d",
        "GPL-3.0-or-later",
        ("nl", "zh_Hans_CN"),
    ),
    Source(
        "sphinx",
        "9.0.4",
        "5bebc595a5e943ea248b99c13814c1c5e10b3ece718976824ffa7959ff95fffb",
        "BSD-2-Clause",
        ("nl", "zh_CN"),
    ),
    Source(
        "thonny",
        "5.0.1",
        "94eb9fc3d9f45acffcda51c17e75f56bb4b14427fee0467e14fb4f6210c33041",
        "MIT",
        ("nl_NL", "zh_CN"),
    ),
    Source(
        "mayan-edms",
        "4.12.2",
        "5eb0deccb29199a7add33a757161f3f461aa3b00451de13027049258dd412f67",
        "GPL-2.0-only",
        ("nl", "zh_Hans"),
        kind="mo",
        locate=True,
    ),
    Source(
        "trac",
        "1.6",
        "5ff2f3394ebee7cc5b8ee465871cfdecb78ee492a74215b47b6d9ddbcc93b5f7",
        "BSD-3-Clause",
        ("nl", "zh_CN"),
        kind="mo",
        locate=True,
    ),
    Source(
        "apache-superset",
        "6.1.0",
        "4b5886b2d6389a32df790aeae2532ad72529bce1af93b6edf2d1b2a8bf658748",
        "Apache-2.0",
        ("nl", "zh"),
        locate=True,
    ),
)


# --- catalogues -------------------------------------------------------------------------


@dataclass
class Entry:
    """One catalogue message: its English, its translation and where the source uses it."""

    msgid: str
    msgstr: str = ""
    msgctxt: str | None = None
    refs: list[str] = field(default_factory=list)  # "path/file.py:123" or "path/file.py"
    fuzzy: bool = False
    default: str | None = None  # Zope/Plone: the English text of an identifier msgid

    @property
    def key(self) -> tuple[str | None, str]:
        return (self.msgctxt, self.msgid)

    @property
    def translated(self) -> bool:
        return bool(self.msgid) and bool(self.msgstr) and not self.fuzzy


_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "a": "", "b": "", "f": ""}
_PO_LINE = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+"(.*)"\s*$')


def _unquote(body: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), body)


def parse_po(text: str) -> list[Entry]:
    """The entries of a ``.po`` catalogue, in file order (obsolete ``#~`` ones skipped).

    Plural entries keep their singular form (``msgstr[0]``); the header entry (empty
    msgid) is dropped.
    """
    entries: list[Entry] = []
    fields: dict[str, str] = {}
    refs: list[str] = []
    flags: set[str] = set()
    default: str | None = None
    current: str | None = None

    def flush() -> None:
        nonlocal fields, refs, flags, default, current
        if fields.get("msgid"):
            entries.append(
                Entry(
                    msgid=fields["msgid"],
                    msgstr=fields.get("msgstr", ""),
                    msgctxt=fields.get("msgctxt"),
                    refs=refs,
                    fuzzy="fuzzy" in flags,
                    default=default,
                )
            )
        fields, refs, flags, default, current = {}, [], set(), None, None

    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            flush()
        elif line.startswith("#"):
            if "msgid" in fields and not line.startswith("#~"):
                flush()  # a comment opens the next entry (no blank line between)
            if line.startswith("#:"):
                refs.extend(line[2:].split())
            elif line.startswith("#,"):
                flags.update(flag.strip() for flag in line[2:].split(","))
            elif line.startswith("#. Default:"):
                quoted = line[len("#. Default:") :].strip()
                if len(quoted) >= 2 and quoted[0] == quoted[-1] == '"':
                    default = quoted[1:-1]
        elif match := _PO_LINE.match(line):
            keyword, index, body = match.groups()
            if keyword in ("msgctxt", "msgid") and "msgid" in fields:
                flush()
            if keyword.startswith("msgstr"):
                keyword = "msgstr" if index in (None, "0") else f"msgstr[{index}]"
            current = keyword
            fields[keyword] = fields.get(keyword, "") + _unquote(body)
        elif line.startswith('"') and line.endswith('"') and current:
            fields[current] += _unquote(line[1:-1])
    flush()
    return entries


def parse_mo(data: bytes) -> list[Entry]:
    """The entries of a compiled ``.mo`` catalogue (no references, no fuzzy ones)."""
    magic = struct.unpack("<I", data[:4])[0]
    order = "<" if magic == 0x950412DE else ">"
    _, count, originals, translations = struct.unpack(order + "4I", data[4:20])
    entries = []
    for i in range(count):
        olen, ooff = struct.unpack(order + "2I", data[originals + 8 * i : originals + 8 * i + 8])
        tlen, toff = struct.unpack(
            order + "2I", data[translations + 8 * i : translations + 8 * i + 8]
        )
        original = data[ooff : ooff + olen].decode("utf-8")
        translation = data[toff : toff + tlen].decode("utf-8")
        context, _, msgid = original.rpartition("\x04")
        msgid = msgid.split("\x00")[0]
        if msgid:
            entries.append(Entry(msgid, translation.split("\x00")[0], context or None))
    return entries


# --- cleaning ---------------------------------------------------------------------------

_BLOCK_TAGS = re.compile(r"<\s*(?:br|/?p|/?li|/?ul|/?ol|/?div|/?h\d|/?tr)\b[^>]*>", re.I)
_TAG = re.compile(r"<[^<>]*>")
_TEMPLATE = re.compile(r"\{%.*?%\}|\{\{.*?\}\}", re.S)
_PLACEHOLDERS = re.compile(
    r"%\([^)]*\)[-#0 +]*\d*(?:\.\d+)?[a-zA-Z]"  # %(name)s, %(n)6d
    r"|%\d+\$[-#0 +]*\d*(?:\.\d+)?[a-zA-Z]"  # %1$s
    r"|%[-#0 +]*\d*(?:\.\d+)?[sdifFeEgGxXouc]"  # %s, %d, %.2f
    r"|%\d+|%\{[^}]*\}"  # Qt %1, Ruby %{name}
    r"|\$\{[^}]*\}|\$[A-Za-z_]\w*"  # ${name}, $name
    r"|\{[^{}\s]*\}"  # {name}, {0}, {}, {name!r}, {n:.2f}
)
_URL = re.compile(r"(?:https?|ftp)://\S+|www\.\S+\.\S+")
_MD_LINK = re.compile(r"\[([^\]]+)\]\([^)]*\)")
_ACCEL_PAREN = re.compile(r"[(（]\s*[_&][A-Za-z0-9]\s*[)）]")
_ACCEL = re.compile(r"(?<![\w&])[_&](?=[^\W_])")
_EMPTY_PAIRS = re.compile(
    r"\(\s*\)|（\s*）|\[\s*\]|\"\s*\"|'\s*'|“\s*”|‘\s*’|「\s*」|『\s*』|《\s*》"
)
_CJK = "\u2e80-\u2fff\u3000-\u303f\u3040-\u9fff\uf900-\ufaff\uff00-\uffef"
_SPACE_IN_CJK = re.compile(rf"(?<=[{_CJK}]) +(?=[{_CJK}])")
_SPACE_BEFORE_PUNCT = re.compile(r" +(?=[,.;:!?)\]])")
HAN = re.compile(r"[\u4e00-\u9fff]")
# Common characters that only Traditional Chinese writes (Simplified has 这们个为说...): some
# Simplified catalogues mix in Traditional messages, which are dropped.
TRADITIONAL = re.compile(
    "[這們個為說對時實際節點編輯刪瀏覽選擇檔資訊與於會開關無設將處數據庫範連結構項標題頁檢視顯"
    "電腦網絡讀寫載轉換應從還過進運動號碼單錄歷紀敘簡體複製儲態類請輸誤權帳務發佈預歡來後東見長"
    "門問間現學機業經當義種麼樣話車書記變舊萬氣華邊級線總統圖區報參產錯確認裝驗證戶]"
)
_LETTER = re.compile(r"[^\W\d_]")


def clean_message(text: str) -> str:
    """Plain text of one message: markup, placeholders, URLs and accelerators stripped,
    whitespace tidied (one line per paragraph); empty when no letters are left."""
    text = _TEMPLATE.sub(" ", text)
    text = _BLOCK_TAGS.sub("\n", text)
    text = _TAG.sub("", text)
    text = html.unescape(text).replace("\xa0", " ")
    text = _MD_LINK.sub(r"\1", text)
    text = _URL.sub(" ", text)
    text = _PLACEHOLDERS.sub(" ", text)
    text = text.replace("%%", "%").replace("**", "").replace("`", "")
    text = _ACCEL_PAREN.sub("", text)
    text = _ACCEL.sub("", text)
    text = _EMPTY_PAIRS.sub(" ", text)
    lines = []
    for line in text.replace("\t", " ").splitlines():
        line = re.sub(r" {2,}", " ", line).strip()
        line = _SPACE_IN_CJK.sub("", line)
        line = _SPACE_BEFORE_PUNCT.sub("", line)
        if _LETTER.search(line):
            lines.append(line)
    return "\n".join(lines)


def looks_like_identifier(text: str) -> bool:
    """A Zope-style message id (``help_title``) with no English text of its own."""
    return bool(re.fullmatch(r"[A-Za-z0-9]+(?:[_.-][A-Za-z0-9]+)+", text)) and "_" in text


@dataclass(frozen=True)
class Message:
    """One message in the three languages, and where its source file puts it."""

    texts: tuple[str, str, str]  # eng, nld, zho
    place: str  # source file it belongs to
    position: int  # line (a reference) or character offset (a located string) in that file
    order: int  # position in the catalogue


def parallel_messages(
    dutch: Iterable[Entry], chinese: Iterable[Entry], catalogue: str = "", locate=None
) -> list[Message]:
    """The messages translated into both languages, cleaned, in source-file order.

    An entry without references is placed by ``locate(entry) -> (file, offset)`` where
    given (``("", 0)`` when not found), else in ``catalogue``.
    """
    zh = {e.key: e for e in chinese if e.translated}
    messages = []
    for order, nl in enumerate(dutch):
        cn = zh.get(nl.key)
        if not nl.translated or cn is None:
            continue
        default = nl.default if nl.default is not None else cn.default
        english = nl.msgid if default is None else default
        if default is None and looks_like_identifier(english):
            continue
        texts = (clean_message(english), clean_message(nl.msgstr), clean_message(cn.msgstr))
        if not all(texts) or texts[1] == texts[0] or texts[2] == texts[0]:
            continue
        if not HAN.search(texts[2]) or TRADITIONAL.search(texts[2]):
            continue
        place, position = _reference(nl.refs or cn.refs)
        if not place and locate is not None:
            place, position = locate(nl)
        if not place:
            place = catalogue
        messages.append(Message(texts, place, position, order))
    return sorted(messages, key=lambda m: (m.place, m.position, m.order))


def _reference(refs: list[str]) -> tuple[str, int]:
    if not refs:
        return "", 0
    path, _, line = refs[0].partition(":")
    return path, int(line) if line.isdigit() else 0


class SourceIndex:
    """Finds the source file of a wheel whose string literal holds a message, and where.

    Every quoted literal of the ``.py``, ``.js`` and ``.html`` files and every element text
    of the ``.glade`` files is indexed whole and by its first ``PREFIX`` characters (the
    first file in path order wins), so that a message split over literals is still found.
    """

    PREFIX = 20
    _LITERAL = re.compile(r'"((?:[^"\\\n]|\\.)*)"|\'((?:[^\'\\\n]|\\.)*)\'')
    _ELEMENT_TEXT = re.compile(r">([^<>]+)<")

    def __init__(self, wheel: zipfile.ZipFile) -> None:
        self.whole: dict[str, tuple[str, int]] = {}
        self.prefix: dict[str, tuple[str, int]] = {}
        for name in sorted(wheel.namelist()):
            if name.endswith((".py", ".js", ".html")):
                pattern, unescape = self._LITERAL, str
            elif name.endswith(".glade"):
                pattern, unescape = self._ELEMENT_TEXT, html.unescape
            else:
                continue
            text = wheel.read(name).decode("utf-8", errors="replace")
            for match in pattern.finditer(text):
                body = unescape(next(g for g in match.groups() if g is not None))
                place = (name, match.start())
                self.whole.setdefault(body, place)
                if len(body) >= self.PREFIX:
                    self.prefix.setdefault(body[: self.PREFIX], place)

    def locate(self, entry: Entry) -> tuple[str, int]:
        """(file, character offset) of the entry's string; ("", 0) when it is not found."""
        msgid = entry.msgid
        first = re.split(r'[\n"\'\\]', msgid, maxsplit=1)[0]
        if first == msgid and msgid in self.whole:
            return self.whole[msgid]
        if len(first) >= self.PREFIX and first[: self.PREFIX] in self.prefix:
            return self.prefix[first[: self.PREFIX]]
        return "", 0


# --- documents --------------------------------------------------------------------------


def deduplicate(messages: Iterable[Message], seen: tuple[set, set, set]) -> list[Message]:
    """Drop a message when any of its three texts was seen before (in its language)."""
    kept = []
    for message in messages:
        if any(text in s for text, s in zip(message.texts, seen, strict=True)):
            continue
        for text, s in zip(message.texts, seen, strict=True):
            s.add(text)
        kept.append(message)
    return kept


def documents(messages: list[Message]) -> list[tuple[str, list[Message]]]:
    """Group messages into (first source file, messages) documents: one source file each,
    small files merged with the next, long ones cut (by English bytes)."""
    docs: list[tuple[str, list[Message]]] = []
    current: list[Message] = []
    size = 0
    for i, message in enumerate(messages):
        current.append(message)
        size += len(message.texts[0].encode("utf-8"))
        file_ends = i + 1 == len(messages) or messages[i + 1].place != message.place
        if size >= MAX_DOC_BYTES or (file_ends and size >= MIN_DOC_BYTES):
            docs.append((current[0].place, current))
            current, size = [], 0
    if current:  # a small tail joins the document before it
        if docs:
            docs[-1][1].extend(current)
        else:
            docs.append((current[0].place, current))
    return docs


def catalogue_pairs(wheel: zipfile.ZipFile, source: Source) -> list[tuple[str, str, str]]:
    """(label, Dutch member, Chinese member) for every catalogue the wheel has in both."""
    dutch, chinese = source.locales
    pattern = re.compile(rf"^(.*)/([^/]+)/LC_MESSAGES/([^/]+)\.{source.kind}$")
    members = set(wheel.namelist())
    pairs = []
    for name in sorted(members):
        match = pattern.match(name)
        if match and match.group(2) == dutch:
            prefix, _, domain = match.groups()
            other = f"{prefix}/{chinese}/LC_MESSAGES/{domain}.{source.kind}"
            if other in members:
                pairs.append((f"{prefix}/*/{domain}.{source.kind}", name, other))
    return pairs


def build_source(
    wheel_path: Path, source: Source, seen: tuple[set, set, set]
) -> list[tuple[str, list[Message]]]:
    """The documents of one wheel: its catalogues one after the other, in path order."""
    with zipfile.ZipFile(wheel_path) as wheel:
        pairs = catalogue_pairs(wheel, source)
        if not pairs:
            raise SystemExit(f"{wheel_path.name}: no catalogue in both {source.locales}")
        index = SourceIndex(wheel) if source.locate else None
        messages = []
        for label, dutch, chinese in pairs:
            if source.kind == "mo":
                nl, zh = parse_mo(wheel.read(dutch)), parse_mo(wheel.read(chinese))
            else:
                nl = parse_po(wheel.read(dutch).decode("utf-8"))
                zh = parse_po(wheel.read(chinese).decode("utf-8"))
            messages += parallel_messages(nl, zh, label, index.locate if index else None)
        return documents(deduplicate(messages, seen))


# --- download and output ----------------------------------------------------------------


def wheels_of(source: Source, folder: Path) -> list[Path]:
    """The wheels of ``source`` in ``folder`` (names compared as pip normalises them)."""
    prefix = f"{re.sub(r'[-_.]+', '_', source.package)}-{source.version}-".lower()
    return sorted(p for p in folder.glob("*.whl") if p.name.lower().startswith(prefix))


def download(sources: Iterable[Source], dest: Path) -> None:
    """pip download the pinned wheels (no dependencies) into ``dest``."""
    missing = [s for s in sources if not wheels_of(s, dest)]
    if not missing:
        return
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:"]
    command += ["--ignore-requires-python", "--disable-pip-version-check", "--dest", str(dest)]
    command += [f"{s.package}=={s.version}" for s in missing]
    subprocess.run(command, check=True)


def find_wheel(source: Source, folder: Path) -> Path:
    found = wheels_of(source, folder)
    if not found:
        raise SystemExit(f"no wheel of {source.package} {source.version} in {folder}")
    digest = hashlib.sha256(found[0].read_bytes()).hexdigest()
    if digest != source.sha256:
        raise SystemExit(
            f"{found[0].name} has SHA-256 {digest}, not the pinned {source.sha256}: the "
            f"registry served other bytes, so the corpus would differ."
        )
    return found[0]


def write_corpus(
    out: Path, built: list[tuple[Source, list[tuple[str, list[Message]]]]]
) -> dict[str, dict]:
    stats = {}
    for index, lang in enumerate(LANGUAGES):
        folder = out / lang
        folder.mkdir(parents=True, exist_ok=True)
        for stale in folder.glob("*.jsonl"):
            stale.unlink()
        digest = hashlib.sha256()
        documents_n = text_bytes = 0
        for source, docs in built:
            name = f"{source.package}.jsonl"
            lines = []
            for number, (origin, messages) in enumerate(docs):
                text = "\n".join(m.texts[index] for m in messages)
                row = {
                    "text": text,
                    "id": f"{source.package}/{number:04d}",
                    "source": f"{source.package} {source.version}: {origin}",
                }
                lines.append(json.dumps(row, ensure_ascii=False) + "\n")
                documents_n += 1
                text_bytes += len(text.encode("utf-8"))
            data = "".join(lines).encode("utf-8")
            (folder / name).write_bytes(data)
            digest.update(name.encode() + b"\x00" + data)
        stats[lang] = {
            "documents": documents_n,
            "text_bytes": text_bytes,
            "sha256": digest.hexdigest(),
        }
    return stats


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--out",
        type=Path,
        default=Path(os.environ.get("TAAM_CORPUS_DIR", ".cache/corpus-l10n")),
        help="corpus folder to write (default: $TAAM_CORPUS_DIR or .cache/corpus-l10n, where "
        "configs/data/l10n.yaml reads it)",
    )
    parser.add_argument(
        "--wheels",
        type=Path,
        default=None,
        help="folder to keep the downloaded wheels in (default: a temporary one); wheels "
        "already there are reused",
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        wheels = args.wheels or Path(tmp)
        wheels.mkdir(parents=True, exist_ok=True)
        download(SOURCES, wheels)
        seen: tuple[set, set, set] = (set(), set(), set())
        built = [(s, build_source(find_wheel(s, wheels), s, seen)) for s in SOURCES]
    stats = write_corpus(args.out, built)
    total = hashlib.sha256("".join(stats[lang]["sha256"] for lang in LANGUAGES).encode())
    manifest = {
        "corpus": "l10n",
        "about": "parallel eng/nld/zho text from the gettext catalogues of PyPI wheels "
        "(scripts/build_corpus.py)",
        "packages": {
            s.package: {"version": s.version, "licence": s.licence, "wheel_sha256": s.sha256}
            for s in SOURCES
        },
        "languages": stats,
        "sha256": total.hexdigest(),
    }
    (args.out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    for lang in LANGUAGES:
        row = stats[lang]
        print(
            f"{lang}: {row['documents']:5d} documents {row['text_bytes']:>10,} bytes  "
            f"sha256 {row['sha256']}"
        )
    print(f"corpus sha256 {manifest['sha256']} -> {args.out}")


if __name__ == "__main__":
    main()
