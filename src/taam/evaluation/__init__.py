"""Evaluation of a run's checkpoints: held-out bits per byte and minimal-pair accuracy per
language, scored as the BabyLM pipeline does (``python src/eval.py run_dir=...``).

Modules: ``scoring`` (batched, windowed summed log-probabilities), ``heldout`` (BPB),
``minimal_pairs`` (formats, loading, the tie rule), ``checkpoints`` (which and how to load),
``runner`` (caching and outputs), ``report`` (tables), ``curves`` (figures).
"""

from taam.errors import EvalError
from taam.evaluation.runner import evaluate

__all__ = ["EvalError", "evaluate"]
