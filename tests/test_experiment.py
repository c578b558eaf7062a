"""experiment=babylm2026: the published full-scale configuration composes and validates."""

import pytest

from taam.data.datamodule import TaamDataModule
from taam.data.prepare import prepare_data
from taam.data.sources import DataError, load_sample
from taam.data.tokenizer import balanced_sample, train_tokenizer
from taam.model.build import build_model, count_parameters
from taam.publish.export import babylm_milestones, milestone_name
from taam.run.identity import RunIdentity
from taam.run.rundir import resolve_run_dir
from tests_support import compose_config


@pytest.fixture(scope="module")
def cfg():
    return compose_config(["experiment=babylm2026", "method=pstar", "seed=1337"])


def test_babylm2026_is_the_published_configuration(cfg):
    assert list(cfg.data.languages) == ["eng", "nld", "zho"]
    assert {k: str(v) for k, v in cfg.data.source.items()} == {
        lang: f"hf:BabyLM-community/babylm-{lang}" for lang in ("eng", "nld", "zho")
    }
    assert cfg.data.budget.total_words_m == 100 and cfg.data.budget.unit == "bytes"
    assert cfg.train.global_batch * cfg.model.seq_len == 32_768
    planned = TaamDataModule.from_config(cfg).planned_exposures()
    assert cfg.train.max_steps == 20_000 and planned == 655_360_000
    assert cfg.train.epoch_cap == 10
    assert milestone_name(babylm_milestones(planned / 1e6)[-1]) == "chck_600M"
    assert cfg.trainer.precision == "bf16-mixed" and cfg.trainer.accelerator == "gpu"
    assert resolve_run_dir(cfg, RunIdentity.of(cfg)).name.endswith(
        "_babylm2026_Pstar-cld-dev_seed1337"
    )


def test_babylm2026_model_has_about_100m_parameters(cfg):
    docs = {lang: load_sample(lang) for lang in cfg.data.languages}
    tok = train_tokenizer(balanced_sample(docs, 2_000_000), cfg.data.tokenizer.vocab_size)
    assert len(tok) == 16_384
    model = build_model(tok, **cfg.model)
    assert 90e6 < count_parameters(model) < 110e6
    assert model.config.max_position_embeddings == 512


def test_babylm2026_data_step_stops_short_of_downloading_with_a_clear_message(
    cfg, monkeypatch, tmp_path
):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(DataError, match=r"BabyLM-community/babylm-eng.*save_to_disk"):
        prepare_data(cfg.data, cfg.model.seq_len, tmp_path)
