"""Rebuild the embedded sample corpus from Debian's documentation packages.

The sample is real, openly licensed (GPL-2 / GPL-2+) text in English, Dutch and
Simplified Chinese, taken from the same manuals in each language:

* the Debian Installation Guide (package ``installation-guide-amd64``),
* the Debian Edu / Skolelinux bookworm manual (``debian-edu-doc-{en,nl,zh-cn}``),
* the legacy Debian Edu manuals (``debian-edu-doc-legacy-{en,nl,zh-cn}``),
* the GNOME desktop help (``gnome-user-docs``, CC-BY-SA-3.0).

Run on a Debian (bookworm) machine with ``apt-get`` (no root needed for download):

    python scripts/build_sample_data.py --out src/taam/sample_data

Each HTML page is split at its headings; a section (heading plus its paragraphs)
becomes one document; each GNOME help topic (a Mallard ``.page``) is one document. Preformatted blocks (shell sessions, listings) are dropped,
paragraphs are deduplicated within a language, and a Dutch or Chinese paragraph
that equals an English one (an untranslated string) is dropped.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import subprocess
import tempfile
from html.parser import HTMLParser
from pathlib import Path

PACKAGES = {
    "eng": ["debian-edu-doc-en", "debian-edu-doc-legacy-en"],
    "nld": ["debian-edu-doc-nl", "debian-edu-doc-legacy-nl"],
    "zho": ["debian-edu-doc-zh-cn", "debian-edu-doc-legacy-zh-cn"],
}
INSTALL_GUIDE = "installation-guide-amd64"
INSTALL_GUIDE_DIR = {"eng": "en", "nld": "nl", "zho": "zh_CN"}
GNOME_HELP = "gnome-user-docs"
GNOME_HELP_DIR = {"eng": "C", "nld": "nl", "zho": "zh_CN"}
EDU_PAGES = [
    "debian-edu-bookworm-manual.html",
    "debian-edu-itil-manual.html",
    "audacity-manual.html",
    "rosegarden-manual.html",
]
BLOCKS = {"p", "li", "dt", "dd", "td", "th", "caption", "title"}
HEADINGS = {"h1", "h2", "h3", "h4", "h5", "h6"}
SKIP = {"pre", "script", "style", "head", "screen", "info", "media"}
HAN = re.compile(r"[\u4e00-\u9fff]")


class SectionParser(HTMLParser):
    """Collect (heading, [paragraphs]) sections from one HTML page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.sections: list[list[str]] = [[]]
        self.buffer: list[str] = []
        self.skip_depth = 0

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in SKIP:
            self.skip_depth += 1
        elif tag in HEADINGS:
            self.flush()
            self.sections.append([])
        elif tag in BLOCKS:
            self.flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIP:
            self.skip_depth = max(0, self.skip_depth - 1)
        elif tag in BLOCKS or tag in HEADINGS:
            self.flush()

    def handle_data(self, data: str) -> None:
        if not self.skip_depth:
            self.buffer.append(data)

    def flush(self) -> None:
        text = " ".join("".join(self.buffer).split())
        self.buffer = []
        if text:
            self.sections[-1].append(text)


def download(packages: list[str], workdir: Path) -> dict[str, str]:
    """apt-get download + dpkg -x each package; return {package: version}."""
    subprocess.run(["apt-get", "download", *packages], cwd=workdir, check=True)
    versions = {}
    for deb in sorted(workdir.glob("*.deb")):
        name, version = deb.name.split("_")[:2]
        versions[name] = version
        subprocess.run(["dpkg", "-x", str(deb), str(workdir / "root")], check=True)
    return versions


def pages_for(lang: str, root: Path) -> list[Path]:
    doc = root / "usr/share/doc"
    guide = sorted((doc / INSTALL_GUIDE / INSTALL_GUIDE_DIR[lang]).glob("*.html"))
    edu = [p for pkg in PACKAGES[lang] for name in EDU_PAGES if (p := doc / pkg / name).exists()]
    gnome = sorted((root / "usr/share/help" / GNOME_HELP_DIR[lang] / "gnome-help").glob("*.page"))
    return guide + edu + gnome


def sections(page: Path) -> list[list[str]]:
    parser = SectionParser()
    parser.feed(page.read_text(encoding="utf-8"))
    parser.flush()
    found = [s for s in parser.sections if s]
    if page.suffix == ".page":  # a GNOME help topic is one short document
        return [[para for s in found for para in s]]
    return found


def build_language(lang: str, root: Path, english: set[str]) -> tuple[list[dict], set[str]]:
    seen: set[str] = set()
    docs = []
    for page in pages_for(lang, root):
        for section in sections(page):
            keep = []
            for para in section:
                if para in seen or (lang != "eng" and para in english):
                    continue
                if lang == "zho" and not HAN.search(para):
                    continue
                if len(para) < 3:
                    continue
                seen.add(para)
                keep.append(para)
            if len(keep) >= 2 or (keep and len(keep[0]) > 200):
                source = str(page.relative_to(root / "usr/share"))
                docs.append({"text": "\n".join(keep), "source": source})
    return docs, seen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("src/taam/sample_data"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        packages = [INSTALL_GUIDE, GNOME_HELP] + [p for pkgs in PACKAGES.values() for p in pkgs]
        versions = download(packages, work)
        english: set[str] = set()
        manifest = {"packages": versions, "languages": {}}
        for lang in ["eng", "nld", "zho"]:
            docs, paragraphs = build_language(lang, work / "root", english)
            if lang == "eng":
                english = paragraphs
            path = args.out / f"{lang}.jsonl"
            with path.open("w", encoding="utf-8") as f:
                for doc in docs:
                    f.write(json.dumps(doc, ensure_ascii=False) + "\n")
            data = path.read_bytes()
            manifest["languages"][lang] = {
                "file": path.name,
                "documents": len(docs),
                "text_bytes": sum(len(d["text"].encode()) for d in docs),
                "sha256": hashlib.sha256(data).hexdigest(),
            }
            print(lang, manifest["languages"][lang])
        (args.out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")


if __name__ == "__main__":
    main()
