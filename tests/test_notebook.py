"""notebooks/analysis.ipynb: committed without outputs, and executed on a tiny sweep."""

from __future__ import annotations

import os

import nbformat
import pytest
from ipykernel.kernelspec import write_kernel_spec
from nbclient import NotebookClient

from taam.run.identity import RunIdentity
from taam.run.training import train
from tests_support import ROOT, compose_config

NOTEBOOK = ROOT / "notebooks" / "analysis.ipynb"


def test_the_committed_notebook_has_no_outputs():
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert code and all(cell.outputs == [] and cell.execution_count is None for cell in code)
    [parameters] = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert "TAAM_SWEEP_DIR" in parameters.source


def run_path_cells(monkeypatch, sweep_dir: str, run_dirs: list[str] | None = None) -> dict:
    """The parameter and path cells, run as Jupyter would: from notebooks/."""
    monkeypatch.chdir(NOTEBOOK.parent)
    monkeypatch.setenv("TAAM_SWEEP_DIR", sweep_dir)
    cells = nbformat.read(NOTEBOOK, as_version=4).cells
    namespace: dict = {}
    for tag in ("parameters", "paths"):
        [cell] = [c for c in cells if tag in c.metadata.get("tags", [])]
        exec(cell.source, namespace)
        if tag == "parameters" and run_dirs is not None:
            namespace["RUN_DIRS"] = run_dirs
    return namespace


def test_notebook_paths_are_read_from_the_repository_root(monkeypatch, tmp_path):
    cells = run_path_cells(monkeypatch, "runs/sweeps/2026-11-26_12-00-00")
    assert cells["sweep"] == ROOT / "runs/sweeps/2026-11-26_12-00-00"
    assert cells["title"] == "2026-11-26_12-00-00"
    assert run_path_cells(monkeypatch, str(tmp_path))["sweep"] == tmp_path  # absolute: as given
    cells = run_path_cells(monkeypatch, "", run_dirs=["runs/a"])
    assert cells["from_root"]("runs/a") == ROOT / "runs/a" and cells["sweep"] is None


@pytest.mark.slow
def test_the_notebook_runs_on_a_tiny_sweep(tiny_overrides, tmp_path, monkeypatch):
    sweep_dir = tmp_path / "sweep"
    for method in ("odm", "exp3"):
        for seed in (1, 2):
            cfg = compose_config([*tiny_overrides, f"method={method}", f"seed={seed}"])
            cfg.run_dir = str(sweep_dir / RunIdentity.of(cfg).name())
            train(cfg)
    # the parameter cell reads it; a relative path is read from the repository root
    monkeypatch.setenv("TAAM_SWEEP_DIR", os.path.relpath(sweep_dir, ROOT))
    # The python3 kernel is this interpreter, whatever kernels the user's Jupyter dirs hold.
    write_kernel_spec(tmp_path / "jupyter" / "kernels" / "python3")
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},
    )
    client.execute()
    outputs = [out for cell in notebook.cells if cell.cell_type == "code" for out in cell.outputs]
    assert not [out for out in outputs if out.output_type == "error"]
    assert sum("image/png" in out.get("data", {}) for out in outputs) == 2  # π and BPB figures
    printed = "".join(out.get("text", "") for out in outputs)
    assert "4 runs, 2 methods: Exp3-cld-dev, ODM-train" in printed
    [table] = [
        out.data["text/markdown"] for out in outputs if "text/markdown" in out.get("data", {})
    ]
    assert "| Exp3-cld-dev | 2 |" in table and "| ODM-train | 2 |" in table
