"""Publishing a run on the Hugging Face Hub: ``final/`` on ``main``, one branch per milestone.

The BabyLM evaluation pipeline loads every ``chck_<N>M`` revision of a repo by name, so each
milestone export becomes a branch of the same name. Pushing only adds files (never deletes),
skips files already there with the same content (git blob id, or the LFS SHA-256), and retries
transient Hub errors.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from huggingface_hub import CommitOperationAdd, HfApi
from huggingface_hub.errors import HfHubHTTPError, HTTPError, OfflineModeIsEnabled
from huggingface_hub.utils import logging as hf_logging
from rich.console import Console
from rich.table import Table
from transformers import AutoConfig

from taam.errors import TaamError
from taam.publish.export import STATE_FILE, milestone_dirs
from taam.publish.model_card import RunFacts, export_parameters, model_card

log = logging.getLogger(__name__)

CARD = "README.md"
TRANSIENT_STATUS = {408, 429, 500, 502, 503, 504}
# <namespace>/<name>: each part starts with a letter or digit; letters, digits, - _ . after.
REPO_ID = re.compile(r"[A-Za-z0-9][\w.-]{0,95}/[A-Za-z0-9][\w.-]{0,95}")


class HubUnreachable(TaamError, ConnectionError):
    """The Hub did not answer after every retry; re-running resumes where the push stopped."""


def check_repo_id(repo_id: object) -> str:
    """``repo_id`` if it is a Hub model id ``<user or org>/<name>``; else a one-line error."""
    text = "" if repo_id is None else str(repo_id)
    if not REPO_ID.fullmatch(text) or ".." in text or text.endswith((".", "-")):
        raise TaamError(
            f"repo_id {text!r} is not a Hub model id; use repo_id=<user or org>/<name> (letters, "
            f"digits, '-', '_', '.'), e.g. repo_id=me/taam-pstar."
        )
    return text


@dataclass
class BranchUpload:
    """What one branch receives: the export's files plus a card naming the repo."""

    branch: str
    folder: Path
    files: dict[str, int]  # path in repo -> size in bytes (the card included)
    card: str
    state: dict

    def source(self, name: str) -> bytes | str:
        """What to upload as ``name``: the card's text, or the export file's path."""
        return self.card.encode("utf-8") if name == CARD else str(self.folder / name)

    def content(self, name: str) -> bytes:
        source = self.source(name)
        return source if isinstance(source, bytes) else Path(source).read_bytes()


def plan_push(run_dir: str | Path, repo_id: str) -> list[BranchUpload]:
    """``main`` from ``final/``, then each milestone branch, each with its model card."""
    run_dir = Path(run_dir)
    final = run_dir / "final"
    if not (final / "config.json").is_file() or not (final / STATE_FILE).is_file():
        raise TaamError(
            f"{run_dir} has no complete final/ export (config.json and {STATE_FILE} are needed), "
            f"so there is nothing to push as main. Finish the run (python src/train.py "
            f"run_dir={run_dir} resume=true ...) and push again."
        )
    missing = [name for name in ("config.yaml", "ledger.json") if not (run_dir / name).is_file()]
    if missing:
        raise TaamError(
            f"{run_dir} lacks {' and '.join(missing)}, which the model card is written from; "
            f"point run_dir at a TAAM run directory."
        )
    milestones = milestone_dirs(run_dir)
    branches = [p.name for p in milestones]
    return [_upload("main", final, run_dir, repo_id, branches)] + [
        _upload(p.name, p, run_dir, repo_id, branches) for p in milestones
    ]


def _upload(
    branch: str, folder: Path, run_dir: Path, repo_id: str, branches: list[str]
) -> BranchUpload:
    state = json.loads((folder / STATE_FILE).read_text())
    facts = RunFacts.read(run_dir, AutoConfig.from_pretrained(folder), export_parameters(folder))
    card = model_card(state, branches, facts, repo_id=repo_id)
    files = {
        p.name: p.stat().st_size for p in sorted(folder.iterdir()) if p.is_file() and p.name != CARD
    }
    files[CARD] = len(card.encode("utf-8"))
    return BranchUpload(branch, folder, files, card, state)


def plan_table(plan: list[BranchUpload], repo_id: str, dry_run: bool) -> Table:
    mode = "dry run: nothing is sent" if dry_run else "uploading what the Hub lacks"
    table = Table(title=f"Push plan for {repo_id} ({mode})")
    for column in ("branch", "file", "bytes"):
        table.add_column(column, justify="right" if column == "bytes" else "left")
    for upload in plan:
        for i, (name, size) in enumerate(upload.files.items()):
            table.add_row(upload.branch if i == 0 else "", name, f"{size:,}")
    total = sum(sum(u.files.values()) for u in plan)
    table.add_row("total", f"{len(plan)} branches", f"{total:,}")
    return table


def is_transient(err: BaseException) -> bool:
    """Worth retrying: rate limits, server errors, dropped connections and time-outs."""
    if isinstance(err, OfflineModeIsEnabled):
        return False
    if isinstance(err, HfHubHTTPError):
        response = getattr(err, "response", None)
        return getattr(response, "status_code", None) in TRANSIENT_STATUS
    # huggingface_hub re-exports its transport's base error: one that is not an HfHubHTTPError
    # never got a response (refused, reset or timed-out connection).
    return isinstance(err, (ConnectionError, TimeoutError, HTTPError))


def with_retries(
    call: Callable[..., Any],
    *args: Any,
    attempts: int = 5,
    delay_s: float = 2.0,
    sleep: Callable[[float], None] = time.sleep,
    **kwargs: Any,
) -> Any:
    """``call(*args, **kwargs)``, retried with exponential back-off on transient errors.

    Transient errors that outlast every attempt end as :class:`HubUnreachable` (one line).
    """
    for attempt in range(1, attempts + 1):
        try:
            return call(*args, **kwargs)
        except OfflineModeIsEnabled:
            raise TaamError(
                "HF_HUB_OFFLINE is set, so nothing can be pushed; unset it to push, or add "
                "--dry-run to see the plan."
            ) from None
        except Exception as err:
            if not is_transient(err):
                raise
            if attempt == attempts:
                raise HubUnreachable(
                    f"the Hub did not answer {call.__name__} after {attempts} attempts ({err}); "
                    f"check the network and run the same command again (files already pushed are "
                    f"skipped)."
                ) from err
            wait = delay_s * 2 ** (attempt - 1)
            log.warning(
                "hub: %s failed (%s); retry %d/%d in %.0f s",
                call.__name__,
                err,
                attempt,
                attempts - 1,
                wait,
            )
            sleep(wait)
    raise AssertionError("unreachable")


def git_blob_id(data: bytes) -> str:
    """The id git (and the Hub) gives a file's content: sha1(b"blob <size>\\0" + data)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def remote_files(api: HfApi, repo_id: str, branch: str, retry=with_retries) -> dict[str, set[str]]:
    """path -> content ids (git blob id, LFS SHA-256) of the files on ``branch``."""
    entries = retry(api.list_repo_tree, repo_id, revision=branch, recursive=True)
    found = {}
    for entry in entries:
        if hasattr(entry, "blob_id"):  # files, not folders
            lfs = getattr(entry, "lfs", None)
            found[entry.path] = {entry.blob_id, getattr(lfs, "sha256", None)} - {None}
    return found


def is_there(data: bytes, ids: set[str]) -> bool:
    return git_blob_id(data) in ids or hashlib.sha256(data).hexdigest() in ids


def push(
    plan: list[BranchUpload],
    repo_id: str,
    api: HfApi,
    private: bool = False,
    attempts: int = 5,
    delay_s: float = 2.0,
) -> dict[str, list[str]]:
    """Create the repo and branches and upload what is missing; return files sent per branch.

    Each Hub call gets ``attempts`` tries, ``delay_s`` doubling between them.
    """

    def retry(call: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return with_retries(call, *args, attempts=attempts, delay_s=delay_s, **kwargs)

    retry(api.create_repo, repo_id, exist_ok=True, private=private, repo_type="model")
    refs = retry(api.list_repo_refs, repo_id)
    existing = {b.name for b in refs.branches}
    sent: dict[str, list[str]] = {}
    for upload in plan:
        if upload.branch not in existing:
            retry(api.create_branch, repo_id, branch=upload.branch, exist_ok=True)
        there = remote_files(api, repo_id, upload.branch, retry)
        missing = [n for n in upload.files if not is_there(upload.content(n), there.get(n, set()))]
        sent[upload.branch] = missing
        if not missing:
            log.info("hub: %s is up to date, skipped", upload.branch)
            continue
        operations = [CommitOperationAdd(name, upload.source(name)) for name in missing]
        message = f"{upload.branch}: TAAM checkpoint (step={upload.state['step']}, tokens={upload.state['exposures_tokens']})"
        retry(
            api.create_commit,
            repo_id,
            operations=operations,
            revision=upload.branch,
            commit_message=message,
        )
        log.info("hub: %s ← %d files", upload.branch, len(missing))
    return sent


def console_logging() -> None:
    """Log lines on stderr, each once: the Hub client's logger has a handler of its own, so it
    stops propagating to the root handler (which printed its retry warnings a second time)."""
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    hf_logging.disable_propagation()


def hub_api() -> HfApi:
    """An API client with the token from HF_TOKEN (or the cached login)."""
    token = os.environ.get("HF_TOKEN") or os.environ.get("HUGGING_FACE_HUB_TOKEN")
    api = HfApi(token=token)
    if token is None and api.token is None:
        raise TaamError(
            "no Hugging Face token: set HF_TOKEN (a token with write access) or run `hf auth login`; "
            "use dry_run=true to see the plan without one."
        )
    return api


def print_plan(plan: list[BranchUpload], repo_id: str, dry_run: bool) -> None:
    Console().print(plan_table(plan, repo_id, dry_run))
