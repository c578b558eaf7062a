import numpy as np
import pytest
from transformers import AutoTokenizer

from taam.data.sources import Document, load_sample
from taam.data.tokenizer import balanced_sample, token_byte_lengths, train_tokenizer


@pytest.fixture(scope="module")
def tokenizer():
    docs = {lang: load_sample(lang)[:80] for lang in ("eng", "nld", "zho")}
    return train_tokenizer(balanced_sample(docs, 60_000), vocab_size=1024)


def test_balanced_sample_takes_equal_bytes_per_language():
    docs = {
        "a": [Document("x" * 100, str(i)) for i in range(50)],
        "b": [Document("y" * 100, "b")] * 3,
    }
    texts = balanced_sample(docs, 10_000)
    assert sum(len(t) for t in texts if t[0] == "x") == 300  # limited by the smallest language
    assert sum(len(t) for t in texts if t[0] == "y") == 300


@pytest.mark.parametrize(
    "text",
    [
        "Het installatieprogramma vraagt of u de schijf wilt partitioneren.  Zeer goed!\n",
        "安装程序会询问您是否要对磁盘进行分区。\t全角：ＡＢＣ，emoji 🙂",
        "  leading spaces, ünïcödé, tabs\tand\r\nnewlines  ",
    ],
)
def test_round_trip_is_exact(tokenizer, text, tmp_path):
    tokenizer.save_pretrained(tmp_path)
    loaded = AutoTokenizer.from_pretrained(tmp_path)
    for tok in (tokenizer, loaded):
        ids = tok(text)["input_ids"]
        assert ids[0] == tok.bos_token_id  # BOS at every document start
        assert tok.decode(ids, skip_special_tokens=True) == text
        assert tok.decode(tok(text, add_special_tokens=False)["input_ids"]) == text


def test_special_tokens_are_defined(tokenizer):
    assert (
        tokenizer.bos_token == "<s>"
        and tokenizer.eos_token == "</s>"
        and tokenizer.pad_token == "<pad>"
    )
    assert len({tokenizer.bos_token_id, tokenizer.eos_token_id, tokenizer.pad_token_id}) == 3


def test_token_byte_lengths_sum_to_utf8_bytes(tokenizer):
    lengths = token_byte_lengths(tokenizer)
    for text in ["Dit is een test.", "这是一个测试。", "mixed 中文 and Nederlands"]:
        ids = tokenizer(text)["input_ids"]  # BOS counts 0 bytes
        assert int(lengths[np.array(ids)].sum()) == len(text.encode("utf-8"))
