import json

import pytest
from rich.console import Console

from taam.data.budget import (
    build_ledger,
    check_ledger,
    english_equivalent_words,
    select_documents,
    split_shares,
)
from taam.data.prepare import ledger_table
from taam.data.sources import DataError, Document
from taam.languages import byte_premiums


def docs(n: int, nbytes: int, prefix: str = "x") -> list[Document]:
    return [Document(prefix * nbytes, f"doc{i}") for i in range(n)]


def test_english_equivalent_words_formula():
    # 5.43 MB of English = 1M words; Dutch needs 5.43 × 1.0516 MB for the same million.
    assert english_equivalent_words(5.43e6, 1.0) == pytest.approx(1e6)
    assert english_equivalent_words(5.43e6 * 1.0516, 1.0516) == pytest.approx(1e6)
    assert english_equivalent_words(1000, 0.9894) == pytest.approx(1000 / (5.43 * 0.9894))


def test_shares_equal_and_weighted():
    assert split_shares(["a", "b"], 10, "equal").tolist() == [5, 5]
    assert split_shares(["a", "b"], 9, {"a": 1, "b": 2}).tolist() == [3, 6]
    with pytest.raises(DataError, match="no weight for b"):
        split_shares(["a", "b"], 9, {"a": 1})


def test_selection_fills_each_share_without_exceeding_it():
    premiums = byte_premiums(["eng", "nld"])
    data = {"eng": docs(100, 543), "nld": docs(100, 571)}  # 100 eng-words per eng doc
    sel = select_documents(data, premiums, total_words=4000, heldout_fraction=0.1, seed=3)
    for lang, s in sel.languages.items():
        used = sum(english_equivalent_words(d.nbytes, premiums[lang].value) for d in s.train)
        assert used <= 2000 + 1e-9
        assert used > 2000 - 110  # within one document of the share
        assert len(s.heldout) >= 1
        assert not {d.origin for d in s.train} & {d.origin for d in s.heldout}


def test_selection_is_seeded_and_deterministic():
    premiums = byte_premiums(["eng"])
    data = {"eng": [Document("w " * (i + 1), f"d{i}") for i in range(200)]}
    a = select_documents(data, premiums, total_words=1000, unit="words", seed=1)
    b = select_documents(data, premiums, total_words=1000, unit="words", seed=1)
    c = select_documents(data, premiums, total_words=1000, unit="words", seed=2)
    origins = lambda s: [d.origin for d in s.languages["eng"].train]  # noqa: E731
    assert origins(a) == origins(b) != origins(c)


def test_budget_larger_than_data_says_how_much_there_is():
    premiums = byte_premiums(["eng"])
    with pytest.raises(DataError, match=r"holds only 1,842 .*10,000 bytes in 10 documents"):
        select_documents({"eng": docs(10, 1000)}, premiums, total_words=5000)


def test_ledger_totals_and_all_three_units():
    premiums = byte_premiums(["eng", "zho"])
    data = {"eng": [Document("one two three", "e")], "zho": [Document("你好世界", "z")]}
    sel = select_documents(
        data,
        premiums,
        total_words=4,
        unit="words",
        allocation={"eng": 3, "zho": 1},
        heldout_fraction=0.0,
    )
    ledger = build_ledger(sel, premiums, {"eng": 5, "zho": 4})
    eng, zho = ledger["languages"]["eng"], ledger["languages"]["zho"]
    assert (eng["bytes"], eng["words"], eng["tokens"]) == (13, 3, 5)
    assert (zho["bytes"], zho["words"], zho["tokens"]) == (12, 1, 4)
    assert zho["english_equivalent_words"] == pytest.approx(12 / (5.43 * 0.9894))
    assert ledger["totals"]["bytes"] == 25 and ledger["totals"]["words"] == 4
    assert ledger["used"] == 4 and ledger["within_budget"]
    json.dumps(ledger)  # written as ledger.json


def test_a_broken_ledger_stops_the_run():
    ledger = {"within_budget": False, "used": 120e6, "budget": 100e6, "counted_column": "words"}
    with pytest.raises(DataError, match="breaks the budget"):
        check_ledger(ledger)


def test_the_dev_split_is_inside_the_share_and_leaves_the_heldout_split_alone():
    """dev_fraction takes dev documents after the held-out ones; training fills the rest of
    the share, so train + dev keep the budget and the held-out split is the same with or
    without a dev split; the ledger counts the dev text against the budget."""
    premiums = byte_premiums(["eng", "nld"])
    data = {"eng": docs(100, 543, "e"), "nld": docs(100, 571, "n")}
    plain = select_documents(data, premiums, total_words=4000, heldout_fraction=0.1, seed=3)
    with_dev = select_documents(
        data, premiums, total_words=4000, heldout_fraction=0.1, seed=3, dev_fraction=0.1
    )
    for lang in ("eng", "nld"):
        a, b = plain.languages[lang], with_dev.languages[lang]
        assert [d.origin for d in a.heldout] == [d.origin for d in b.heldout]
        dev, train, held = ({d.origin for d in getattr(b, s)} for s in ("dev", "train", "heldout"))
        assert dev and not dev & train and not dev & held
        bp = premiums[lang].value
        dev_words = sum(english_equivalent_words(d.nbytes, bp) for d in b.dev)
        used = dev_words + sum(english_equivalent_words(d.nbytes, bp) for d in b.train)
        assert 200 <= dev_words < 200 + 110 and 2000 - 110 < used <= 2000 + 1e-9
    ledger = build_ledger(with_dev, premiums, {"eng": 10, "nld": 10}, {"eng": 1, "nld": 2})
    totals = ledger["totals"]
    assert ledger["used"] == pytest.approx(
        totals["english_equivalent_words"] + totals["dev_english_equivalent_words"]
    )
    assert ledger["within_budget"] and totals["dev_tokens"] == 3
    console = Console(width=160, record=True)
    console.print(ledger_table(ledger))
    rows = {
        line.split("│")[1].strip(): line
        for line in console.export_text().splitlines()
        if "│" in line
    }
    assert {"training", "dev split", "budgeted"} <= set(rows)  # the console shows what it counts
    assert f"{ledger['used']:,.0f}" in rows["budgeted"]
    with pytest.raises(DataError, match="dev_fraction"):
        select_documents(data, premiums, total_words=4000, dev_fraction=1.0)


def test_heldout_unused_holds_out_what_the_budget_leaves_and_changes_nothing_else():
    premiums = byte_premiums(["eng", "nld"])
    data = {"eng": docs(100, 543, "e"), "nld": docs(100, 571, "n")}
    kwargs = {"total_words": 4000, "heldout_fraction": 0.1, "seed": 3, "dev_fraction": 0.1}
    split = select_documents(data, premiums, **kwargs)
    wide = select_documents(data, premiums, **kwargs, heldout_unused=True)
    for lang in ("eng", "nld"):
        a, b = split.languages[lang], wide.languages[lang]
        assert [d.origin for d in a.train] == [d.origin for d in b.train]
        assert [d.origin for d in a.dev] == [d.origin for d in b.dev]
        assert [d.origin for d in b.heldout[: len(a.heldout)]] == [d.origin for d in a.heldout]
        seen = {d.origin for d in a.train + a.dev}
        assert {d.origin for d in b.heldout} == {d.origin for d in data[lang]} - seen
        assert len(b.heldout) > 5 * len(a.heldout)
