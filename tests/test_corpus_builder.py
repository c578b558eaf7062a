"""scripts/build_corpus.py: catalogue parsing, cleaning and parallel documents (no network)."""

from __future__ import annotations

import importlib.util
import struct
import sys

import pytest

from tests_support import ROOT, compose_config


@pytest.fixture(scope="module")
def builder():
    spec = importlib.util.spec_from_file_location(
        "build_corpus", ROOT / "scripts" / "build_corpus.py"
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up while defined
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        del sys.modules[spec.name]


DUTCH = r"""# Dutch translation
msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\n"

#: app/templates/order.html:12
#, python-format
msgid "Your order <strong>%(code)s</strong> was paid."
msgstr "Uw bestelling <strong>%(code)s</strong> is betaald."

#: app/templates/order.html:30
msgid ""
"Please bring the ticket to the event. Read the "
"[terms](https://example.org/terms) first."
msgstr ""
"Neem het ticket mee naar het evenement. Lees eerst de "
"[voorwaarden](https://example.org/terms)."

#: app/models.py:7
#, fuzzy
msgid "Event"
msgstr "Evenement"

#: app/models.py:9
msgid "One seat"
msgid_plural "{num} seats"
msgstr[0] "Een plaats"
msgstr[1] "{num} plaatsen"

#: app/models.py:11
msgctxt "button"
msgid "_Save"
msgstr "_Opslaan"

#: app/models.py:13
msgid "PDF"
msgstr "PDF"

#. Default: "Show the help text"
#: app/help.pt:3
msgid "help_show"
msgstr "Toon de hulptekst"

#: app/help.pt:4
msgid "label_untranslated_id"
msgstr "Niet vertaald"

#~ msgid "Old message"
#~ msgstr "Oud bericht"
"""

CHINESE = r"""msgid ""
msgstr ""
"Content-Type: text/plain; charset=UTF-8\n"

#: app/templates/order.html:12
#, python-format
msgid "Your order <strong>%(code)s</strong> was paid."
msgstr "您的订单 <strong>%(code)s</strong> 已付款。"

#: app/templates/order.html:30
msgid ""
"Please bring the ticket to the event. Read the "
"[terms](https://example.org/terms) first."
msgstr "请携带门票参加活动。请先阅读[条款](https://example.org/terms)。"

#: app/models.py:7
msgid "Event"
msgstr "活动"

#: app/models.py:9
msgid "One seat"
msgid_plural "{num} seats"
msgstr[0] "{num} 个座位"

#: app/models.py:11
msgctxt "button"
msgid "_Save"
msgstr "保存(_S)"

#: app/models.py:13
msgid "PDF"
msgstr "PDF"

#. Default: "Show the help text"
#: app/help.pt:3
msgid "help_show"
msgstr "显示帮助文本"

#: app/help.pt:4
msgid "label_untranslated_id"
msgstr "這個沒有翻譯"
"""


def test_parse_po_reads_entries_flags_plurals_and_skips_header_and_obsolete(builder):
    entries = builder.parse_po(DUTCH)
    assert [e.msgid for e in entries] == [
        "Your order <strong>%(code)s</strong> was paid.",
        "Please bring the ticket to the event. Read the [terms](https://example.org/terms) first.",
        "Event",
        "One seat",
        "_Save",
        "PDF",
        "help_show",
        "label_untranslated_id",
    ]
    by_id = {e.msgid: e for e in entries}
    assert by_id["Event"].fuzzy and not by_id["Event"].translated
    assert by_id["One seat"].msgstr == "Een plaats"  # the singular of a plural entry
    assert by_id["_Save"].msgctxt == "button"
    assert by_id["help_show"].default == "Show the help text"
    assert by_id["Your order <strong>%(code)s</strong> was paid."].refs == [
        "app/templates/order.html:12"
    ]


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("Your order <strong>%(code)s</strong> was paid.", "Your order was paid."),
        ("您的订单 <strong>%(code)s</strong> 已付款。", "您的订单已付款。"),
        ("Read the [terms](https://example.org/terms) first.", "Read the terms first."),
        ("Line one<br/>Line  two &amp; more", "Line one\nLine two & more"),
        ("{num} seats, %d left, ${listname} list, %s", "seats, left, list,"),
        ("_Save", "Save"),
        ("保存(_S)", "保存"),
        ("Delete “%(name)s”?", "Delete?"),
        ("{% trans %}{{ count }}", ""),
        ("%(amount)s", ""),
        ("snake_case stays", "snake_case stays"),
    ],
)
def test_clean_message_strips_markup_and_placeholders(builder, raw, clean):
    assert builder.clean_message(raw) == clean


def test_parallel_messages_keep_what_both_languages_translated(builder):
    dutch, chinese = builder.parse_po(DUTCH), builder.parse_po(CHINESE)
    messages = builder.parallel_messages(dutch, chinese, "app/*/django.po")
    assert [m.texts for m in messages] == [
        # sorted by source file, then line
        ("Show the help text", "Toon de hulptekst", "显示帮助文本"),  # Default: text
        ("One seat", "Een plaats", "个座位"),
        ("Save", "Opslaan", "保存"),  # context kept apart, accelerators gone
        ("Your order was paid.", "Uw bestelling is betaald.", "您的订单已付款。"),
        (
            "Please bring the ticket to the event. Read the terms first.",
            "Neem het ticket mee naar het evenement. Lees eerst de voorwaarden.",
            "请携带门票参加活动。请先阅读条款。",
        ),
    ]
    # dropped: Event (fuzzy in Dutch), PDF (untranslated), label_untranslated_id (a message
    # id without English, and Traditional Chinese)
    assert [m.place for m in messages][:3] == ["app/help.pt", "app/models.py", "app/models.py"]


def test_documents_are_deduplicated_and_small_files_merged(builder, monkeypatch):
    messages = builder.parallel_messages(
        builder.parse_po(DUTCH), builder.parse_po(CHINESE), "app/*/django.po"
    )
    seen = (set(), set(), set())
    assert builder.deduplicate(messages + messages[:2], seen) == messages
    assert builder.deduplicate(messages, seen) == []  # a repeat goes from all three languages
    monkeypatch.setattr(builder, "MIN_DOC_BYTES", 25)
    docs = builder.documents(messages)
    # help.pt (18 English bytes) is too small alone: it joins models.py (12 more bytes)
    assert [(place, len(msgs)) for place, msgs in docs] == [
        ("app/help.pt", 3),
        ("app/templates/order.html", 2),
    ]
    monkeypatch.setattr(builder, "MIN_DOC_BYTES", 1000)  # nothing is large enough: one doc
    assert [len(msgs) for _, msgs in builder.documents(messages)] == [5]


def test_parse_mo_reads_contexts_and_plurals(builder):
    pairs = [("ctx\x04Open", "Openen"), ("One file\x00{n} files", "Een bestand\x00{n} bestanden")]
    pairs.sort()
    originals = [o.encode() for o, _ in pairs]
    translations = [t.encode() for _, t in pairs]
    header = 28
    table = header + 16 * len(pairs)
    offsets, blob = [], b""
    for text in originals + translations:
        offsets.append((len(text), table + len(blob)))
        blob += text + b"\x00"
    data = struct.pack("<7I", 0x950412DE, 0, len(pairs), header, header + 8 * len(pairs), 0, 0)
    data += b"".join(struct.pack("<2I", *o) for o in offsets) + blob
    entries = builder.parse_mo(data)
    assert [(e.msgctxt, e.msgid, e.msgstr) for e in entries] == [
        (None, "One file", "Een bestand"),
        ("ctx", "Open", "Openen"),
    ]


def test_data_config_reads_the_built_folders_with_the_sample_settings(monkeypatch):
    monkeypatch.setenv("TAAM_CORPUS_DIR", "/corpora/l10n")
    l10n, sample = compose_config(["data=l10n"]).data, compose_config([]).data
    assert dict(l10n.source) == {lang: f"/corpora/l10n/{lang}" for lang in ("eng", "nld", "zho")}
    for key in ("tokenizer", "dev_fraction", "heldout_fraction", "languages"):
        assert l10n[key] == sample[key]
