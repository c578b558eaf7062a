"""Resume between two window boundaries continues bit-identically (window sums and E[n_i]
are in last.ckpt): a run killed after step 7 (checkpoint every 7 steps, windows of 5) and
resumed equals the uninterrupted 15-step run in π, exposures and final weights. With the dev
signal (evaluated at steps 5, 10 and 15) the kill falls between two dev evaluations: the
training draws since the last one and the dev cost travel in last.ckpt as well."""

from __future__ import annotations

import pytest

from tests_support import assert_resume_is_bit_identical

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    "method",
    [
        ["method=pstar", "reward=normalized_excess_loss", "signal=train"],
        ["method=pstar", "reward=cross_lingual_deficit", "signal=train"],
        ["method=exp3", "reward=normalized_excess_loss", "signal=train"],
        ["method=odm"],
        ["method=pstar", "signal.every=5"],  # the default: v2 on the dev signal
        ["method=pstar", "objective=mean", "signal.every=5"],
        ["method=odm_validation", "signal.every=5"],
    ],
    ids=[
        "pstar-nel",
        "pstar-cld",
        "exp3-nel",
        "odm",
        "pstar-dev",
        "pstar-nel-dev",
        "odm-validation",
    ],
)
def test_mid_window_resume_is_bit_identical(tiny_overrides, tmp_path, method):
    assert_resume_is_bit_identical([*tiny_overrides, *method], tmp_path, steps=15)
