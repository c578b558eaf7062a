"""push.py against a fake HfApi (the Hub is unreachable here), and its dry-run plan."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import httpx2
import pytest
from huggingface_hub.errors import HfHubHTTPError

from taam.errors import TaamError
from taam.publish.hub import (
    HubUnreachable,
    check_repo_id,
    git_blob_id,
    is_transient,
    plan_push,
    plan_table,
    push,
    with_retries,
)
from tests_support import ROOT, write_export, write_run_files

STATE = {
    "step": 10,
    "method": "Uniform",
    "reward": None,
    "seed": 1,
    "languages": ["eng", "nld"],
    "budget_words_m": 0.27,
    "pi": {"eng": 0.5, "nld": 0.5},
    "exposures_tokens": 1_000_000,
    "wall_clock_s": 1.0,
    "run_dir": "runs/x",
    "per_language": {
        lang: {"exposures_tokens": 500_000, "unique_tokens_seen": 50_000, "epochs": 1.0}
        for lang in ("eng", "nld")
    },
}


def http_error(status: int) -> HfHubHTTPError:
    request = httpx2.Request("POST", "http://hub.invalid/api/repos/create")
    return HfHubHTTPError(
        f"{status} from the Hub", response=httpx2.Response(status, request=request)
    )


def export(folder: Path, step: int) -> None:
    """An export whose weights are one tensor of 100 + step parameters (each step differs)."""
    write_export(folder, {**STATE, "step": step}, 100 + step)


@pytest.fixture
def run_dir(tmp_path):
    write_run_files(tmp_path)
    export(tmp_path / "final", 30)
    export(tmp_path / "checkpoints" / "chck_2M", 20)
    export(tmp_path / "checkpoints" / "chck_1M", 10)
    return tmp_path


class FakeHub:
    """Records calls; holds branches and files like the Hub would."""

    def __init__(self, fail_first: int = 0):
        self.calls: list[tuple] = []
        self.files: dict[str, dict[str, bytes]] = {}
        self.fail_first = fail_first

    def _maybe_fail(self):
        if self.fail_first:
            self.fail_first -= 1
            raise http_error(503)

    def create_repo(self, repo_id, **kw):
        self._maybe_fail()
        self.calls.append(("create_repo", repo_id, kw))
        self.files.setdefault("main", {})

    def list_repo_refs(self, repo_id):
        return SimpleNamespace(branches=[SimpleNamespace(name=b) for b in self.files])

    def create_branch(self, repo_id, branch, exist_ok=False):
        self.calls.append(("create_branch", branch))
        self.files.setdefault(branch, dict(self.files["main"]))

    def list_repo_tree(self, repo_id, revision, recursive):
        return [
            SimpleNamespace(path=p, blob_id=git_blob_id(d)) for p, d in self.files[revision].items()
        ]

    def create_commit(self, repo_id, operations, revision, commit_message):
        self.calls.append(
            (
                "create_commit",
                revision,
                sorted(op.path_in_repo for op in operations),
                commit_message,
            )
        )
        for op in operations:
            data = op.path_or_fileobj
            self.files[revision][op.path_in_repo] = (
                data if isinstance(data, bytes) else Path(data).read_bytes()
            )

    def delete_file(self, *a, **k):  # pragma: no cover - must never be called
        raise AssertionError("push deleted something")


def test_push_creates_repo_main_and_one_branch_per_milestone(run_dir):
    hub = FakeHub()
    sent = push(plan_push(run_dir, "me/run"), "me/run", hub)
    assert hub.calls[0][0] == "create_repo"
    assert [c[1] for c in hub.calls if c[0] == "create_branch"] == ["chck_1M", "chck_2M"]
    commits = [c for c in hub.calls if c[0] == "create_commit"]
    assert [c[1] for c in commits] == ["main", "chck_1M", "chck_2M"]
    # main gets everything; a branch starts as a copy of main and gets what differs (the card
    # names the branch's own step)
    assert commits[0][2] == ["README.md", "config.json", "model.safetensors", "taam_state.json"]
    assert commits[1][2] == ["README.md", "model.safetensors", "taam_state.json"]
    assert "step=20" in commits[2][3]
    weights = (run_dir / "checkpoints/chck_2M/model.safetensors").read_bytes()
    assert sent["main"] and hub.files["chck_2M"]["model.safetensors"] == weights
    assert "**Parameters**: 130" in hub.files["main"]["README.md"].decode()
    assert json.loads(hub.files["chck_1M"]["taam_state.json"])["step"] == 10


def test_rerun_skips_what_is_there(run_dir):
    hub = FakeHub()
    push(plan_push(run_dir, "me/run"), "me/run", hub)
    hub.calls.clear()
    sent = push(plan_push(run_dir, "me/run"), "me/run", hub)
    assert not [c for c in hub.calls if c[0] == "create_commit"]
    assert all(files == [] for files in sent.values())


def test_transient_errors_are_retried_and_others_are_not():
    hub, waits = FakeHub(fail_first=2), []
    with_retries(hub.create_repo, "me/run", sleep=waits.append)
    assert waits == [2.0, 4.0] and hub.calls[0][0] == "create_repo"
    assert not is_transient(ValueError("bad"))
    forbidden = http_error(403)
    assert not is_transient(forbidden)
    with pytest.raises(HfHubHTTPError):
        with_retries(lambda: (_ for _ in ()).throw(forbidden), sleep=waits.append)


def test_a_run_without_final_says_what_is_missing(tmp_path):
    with pytest.raises(TaamError, match=r"no complete final/ export .*resume=true"):
        plan_push(tmp_path, "me/run")


def test_dry_run_prints_the_exact_plan(run_dir):
    out = subprocess.run(
        [
            sys.executable,
            str(ROOT / "src/push.py"),
            f"run_dir={run_dir}",
            "repo_id=me/run",
            "--dry-run",
        ],
        capture_output=True,
        text=True,
        check=True,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "200", "HF_HUB_OFFLINE": "1"},
    ).stdout
    assert "me/run" in out and "(dry run:" in out  # the title wraps at the table width
    for branch in ("main", "chck_1M", "chck_2M"):
        assert branch in out
    size = (run_dir / "final/model.safetensors").stat().st_size
    assert f"{size:,}" in out and "model.safetensors" in out and "README.md" in out
    assert out.index("chck_1M") < out.index("chck_2M")


def test_a_real_push_plan_does_not_claim_to_be_a_dry_run(run_dir):
    title = plan_table(plan_push(run_dir, "me/run"), "me/run", dry_run=False).title
    assert "dry run" not in title and "uploading" in title


@pytest.mark.parametrize("repo_id", ["../../etc", "a/b/c", "", "noslash", "me/..", "me/x-", None])
def test_invalid_repo_ids_are_refused(repo_id):
    with pytest.raises(TaamError, match=r"is not a Hub model id; use repo_id=<user or org>/<name>"):
        check_repo_id(repo_id)


def test_valid_repo_ids_pass():
    for repo_id in ("me/run", "BabyLM-community/taam_pstar-1.0", "a1/b"):
        assert check_repo_id(repo_id) == repo_id


def test_dropped_connections_are_retried_then_one_clear_error():
    request = httpx2.Request("POST", "http://hub.invalid/api/repos/create")
    calls, waits = [], []

    def refuses(*args, **kwargs):
        calls.append(1)
        raise httpx2.ConnectError("[Errno 111] Connection refused", request=request)

    with pytest.raises(HubUnreachable, match=r"did not answer refuses after 3 attempts .*again"):
        with_retries(refuses, attempts=3, delay_s=1.0, sleep=waits.append)
    assert len(calls) == 3 and waits == [1.0, 2.0]


def test_each_hub_warning_is_printed_once():
    code = (
        "import logging; from taam.publish.hub import console_logging; console_logging(); "
        "logging.getLogger('huggingface_hub.utils._http').warning('Retrying in 1s [Retry 1/5].')"
    )
    err = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True).stderr
    assert err.count("Retrying in 1s") == 1, err
