import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from taam.data.sources import DataError, load_folder, load_hf, load_sample, load_source


def test_embedded_sample_has_three_languages_of_real_text():
    for lang, needle in [("eng", " the "), ("nld", " de "), ("zho", "的")]:
        docs = load_sample(lang)
        assert len(docs) > 300
        assert sum(d.nbytes for d in docs) > 500_000
        assert sum(needle in d.text for d in docs) > 100


def test_folder_reads_txt_jsonl_parquet(tmp_path):
    (tmp_path / "a.txt").write_text("first doc\n\nsecond doc\n", encoding="utf-8")
    (tmp_path / "b.jsonl").write_text(json.dumps({"text": "third"}) + "\n\n", encoding="utf-8")
    pq.write_table(pa.table({"text": ["fourth", ""]}), tmp_path / "c.parquet")
    assert [d.text for d in load_folder(tmp_path)] == ["first doc", "second doc", "third", "fourth"]


def test_missing_folder(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load_folder(tmp_path / "nope")


def test_language_without_documents(tmp_path):
    (tmp_path / "empty.txt").write_text("\n\n  \n", encoding="utf-8")
    with pytest.raises(DataError, match="'nld' has no documents"):
        load_source("nld", str(tmp_path))


def test_invalid_utf8_names_file_and_byte_count(tmp_path):
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("café olé".encode("latin-1"))
    with pytest.raises(DataError, match=r"latin1.txt is not valid UTF-8: 2 of its 8 bytes"):
        load_folder(tmp_path)


def test_jsonl_without_text_field(tmp_path):
    (tmp_path / "x.jsonl").write_text(json.dumps({"body": "x"}) + "\n", encoding="utf-8")
    with pytest.raises(DataError, match=r"x.jsonl:1 has no 'text' field"):
        load_folder(tmp_path)


def test_hf_dataset_saved_to_disk(tmp_path):
    import datasets

    ds = datasets.DatasetDict(
        {"train": datasets.Dataset.from_dict({"text": ["een", "twee", ""], "doc-id": [1, 2, 3]})}
    )
    ds.save_to_disk(str(tmp_path / "babylm-nld"))
    assert [d.text for d in load_hf(str(tmp_path / "babylm-nld"))] == ["een", "twee"]
    assert [d.text for d in load_source("nld", f"hf:{tmp_path / 'babylm-nld'}")] == ["een", "twee"]


def test_hub_id_while_offline_says_how_to_use_a_local_copy(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(DataError, match=r"unreachable or offline.*save_to_disk"):
        load_hf("BabyLM-community/babylm-nld")
