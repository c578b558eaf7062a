import pytest

from taam.languages import (
    LanguageError,
    byte_premiums,
    check_code,
    hub_language,
    language_table,
    measure_byte_premium,
    uriel_code,
)


def test_shipped_byte_premiums_are_the_published_values():
    bp = byte_premiums(["eng", "nld", "zho", "zho_Hans", "zho_Hant"])
    assert bp["eng"].value == 1.0
    assert bp["nld"].value == pytest.approx(1.0516)
    assert bp["zho"].value == pytest.approx(0.9894)  # the BabyLM 2026 site's value
    assert bp["zho_Hans"].value == pytest.approx(0.9360)
    assert bp["zho_Hant"].value == pytest.approx(0.9894)
    assert all(p.source for p in bp.values())


def test_override_wins_and_is_labelled():
    bp = byte_premiums(["zho"], {"zho": 0.936})
    assert bp["zho"].value == 0.936 and bp["zho"].source == "user override"


def test_unknown_language_names_the_fix():
    with pytest.raises(LanguageError, match=r"no byte premium .*'xyz'.*byte_premium\.xyz"):
        byte_premiums(["xyz"])
    with pytest.raises(LanguageError, match="not an ISO 639-3"):
        check_code("english")


def test_measure_byte_premium_from_parallel_text():
    assert measure_byte_premium("ab" * 10, "a" * 10) == 2.0
    assert measure_byte_premium(["你好"], ["hello"]) == pytest.approx(6 / 5)


def test_uriel_code_maps_chinese_to_mandarin():
    assert (
        uriel_code("zho") == "cmn"
        and uriel_code("zho_Hans") == "cmn"
        and uriel_code("nld") == "nld"
    )


def test_every_fact_of_a_language_comes_from_its_one_row():
    nld = language_table()["nld"]
    assert (nld.uriel, nld.iso639_1, nld.hub) == ("nld", "nl", "nl")
    assert nld.byte_premium == byte_premiums(["nld"])["nld"]
    assert hub_language("zho_Hans") == "zh" and hub_language("xyz") == "xyz"
    with pytest.raises(LanguageError, match=r"no byte premium .*'deu'"):
        byte_premiums(["deu"])  # a row without a measured value asks the config for one
