"""Detectors over answers: pure functions from a response's text or headers to evidence.

The scan checks decide findings with these, so each one prefers missing a rare
form to firing on an ordinary answer: a stack trace needs a real frame or a
debugger's own wording, an SQL error a database's own message, a card number a
network prefix and a valid Luhn digit, a secret a value that is not a
placeholder. Every function returns the evidence it matched (an excerpt of at
most :data:`EXCERPT` characters, with secrets masked) or None / an empty list.
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import re
from collections.abc import Mapping
from typing import NamedTuple

__all__ = [
    "EXCERPT",
    "RECOMMENDED_HEADERS",
    "luhn_valid",
    "mask",
    "missing_security_headers",
    "sensitive_field",
    "sensitive_values",
    "server_banner",
    "sql_error",
    "stack_trace",
]

#: Longest excerpt a detector returns.
EXCERPT = 300
_MASK = "…[masked]"


# --------------------------------------------------------------------------- stack traces
class _Signature(NamedTuple):
    # a regex runs only when one of its literal needles is in the text: a substring
    # test costs ~0.2 ms per MB, a regex that cannot skip ahead ~50 ms
    needles: tuple[str, ...]
    pattern: re.Pattern[str]


def _signatures(*specs: tuple[tuple[str, ...] | str, str]) -> list[_Signature]:
    return [
        _Signature((needles,) if isinstance(needles, str) else needles, re.compile(pattern))
        for needles, pattern in specs
    ]


# Bodies are often JSON, so a trace arrives with its newlines as "\n" and its
# quotes as \": the patterns accept both forms instead of decoding the body.
_NL = r"(?:\r?\n|\\r\\n|\\n)"
_INDENT = r"(?:[ \t]|\\t)*"  # "\tat" in a JSON string is an escaped tab before "at"
_STACK = _signatures(
    # Python
    ("Traceback (most recent call last)", r"Traceback \(most recent call last\)"),
    (", line ", r"\bFile \\?\"[^\"\n]{1,300}?\\?\", line \d+, in [\w<>]"),
    # Java / Kotlin / Scala (module prefix as in java.base/java.lang.Thread.run)
    ("Exception in thread", r"\bException in thread \\?\"[^\"\n]{1,100}\\?\" [\w$.]+"),
    (
        (".java:", ".kt:", ".scala:", ".groovy:", ".clj:", "(Native Method)", "(Unknown Source)"),
        r"(?:\bat|\\tat) (?:[\w.$@-]{1,100}/){0,2}(?:[\w$]+\.)+[\w$<>-]+\("
        r"(?:[\w$-]+\.(?:java|kt|scala|groovy|clj):\d+|Native Method|Unknown Source)\)",
    ),
    ("Caused by: ", r"\bCaused by: (?:[\w$]+\.)+[\w$]*(?:Exception|Error)\b"),
    # .NET
    (":line ", r"\bat [\w.`<>\[\],+|]+\([^()\n]{0,300}\) in [^\n]{1,300}?:line \d+"),
    ("--- End of ", r"--- End of (?:inner exception )?stack trace"),
    ("Server Error in '", r"Server Error in '[^'\n]{0,100}' Application"),
    # two consecutive "at Type.method(...)" frames: .NET without symbols, Java, C#
    (
        "at ",
        r"(?:^|" + _NL + r")" + _INDENT + r"at (?:[\w$`<>\[\]+]+\.)+[\w$`<>\[\]+]+\("
        r"[^()\n]{0,300}\)[ \t]*" + _NL + _INDENT + r"at [\w$.`<>]+\(",
    ),
    # Node.js
    (
        (".js:", ".mjs:", ".cjs:", ".ts:", ".jsx:", ".tsx:"),
        r"\bat (?:async )?(?:[\w$.<>\[\] ]{1,120} \()?(?:file://)?(?:/|[A-Za-z]:\\{1,2})"
        r"[^\s()'\"]{1,300}?\.(?:js|mjs|cjs|ts|jsx|tsx):\d+:\d+\)?",
    ),
    ("node:internal/", r"\(node:internal/[\w/]+:\d+:\d+\)"),
    # PHP
    (
        " on line ",
        r"\b(?:Fatal error|Parse error|Warning|Notice|Deprecated)(?:</b>)?:\s+[^\n]{1,500}? in "
        r"(?:<b>)?[^\s<]{1,300}(?:</b>)? on line (?:<b>)?\d+",
    ),
    ("Uncaught ", r"\bUncaught [\w\\]+(?:Exception|Error)\b[^\n]{0,300}? in [^\s]{1,300}\.php:\d+"),
    ("Stack trace:", r"Stack trace:(?:\s|\\n|<br\s*/?>)*#0 "),
    (".php(", r"#\d+ [^\s()]{1,300}\.php\(\d+\): "),
    ('.php"', r"\"file\":\s*\"[^\"]{1,300}\.php\",\s*\"line\":\s*\d+"),
    # Ruby (the excerpt starts at the frame's line)
    (".rb:", r"\.rb:\d+:in [`'\u2018]"),
    ("Application Trace", r"\bApplication Trace \| Framework Trace"),
    # Go
    ("goroutine ", r"\bgoroutine \d+ \[[a-z ]{3,30}\]:"),
    (".go:", r"\.go:\d+ \+0x[0-9a-f]+"),
    ("panic: runtime error: ", r"\bpanic: runtime error: "),
    # debug pages: Werkzeug, Django, Rails
    (
        ("Werkzeug Debugger", "The debugger caught"),
        r"Werkzeug Debugger|The debugger caught an exception in your WSGI application",
    ),
    ("DEBUG = True", r"<code>DEBUG = True</code> in your Django settings file"),
    ("Django Version:", r"\bDjango Version:</th>"),
    ("Rails.root: ", r"\bRails\.root: "),
)


def stack_trace(text: str) -> str | None:
    """The excerpt of ``text`` that carries a stack trace or a framework's debug page.

    Recognises Python, Java/Kotlin, .NET, Node.js, PHP, Ruby and Go traces (by a
    frame, an exception header or "Caused by") and the Werkzeug, Django and Rails
    debug pages. An error message alone (``{"detail": "Not found"}``, an exception
    class name without a frame) is not a trace.
    """
    return _first(_STACK, text)


# --------------------------------------------------------------------------- SQL errors
_SQL = _signatures(
    # SQLite
    ("sqlite3.", r"\bsqlite3\.(?:Operational|Integrity|Programming|Database|Interface)Error\b"),
    ("SQLITE_", r"\bSQLITE_(?:ERROR|CONSTRAINT|MISMATCH|RANGE)\b"),
    ("unrecognized token: ", r"\bunrecognized token: \\?[\"']"),
    (": syntax error", r"\bnear \\?\"[^\"\n]{1,100}\\?\": syntax error"),
    ("SQLite", r"\bSQLite3?::\w*Exception\b|\bSQLiteException\b|\bSQLite error\b"),
    # MySQL / MariaDB
    ("in your SQL syntax", r"You have an error in your SQL syntax"),
    (
        " server version",
        r"check the manual that (?:corresponds to|fits) your (?:MySQL|MariaDB) server version",
    ),
    (
        ("com.mysql.", "MySQLSyntaxErrorException", "MySqlException", "MySqlClientException"),
        r"\bcom\.mysql\.(?:cj\.)?jdbc\b|\bMySQLSyntaxErrorException\b|\bMySql(?:Client)?Exception\b",
    ),
    (
        ("Warning: mysql", "ER_PARSE_ERROR", "ER_BAD_FIELD_ERROR"),
        r"\bWarning: mysqli?_\w+\(\)|\bER_PARSE_ERROR\b|\bER_BAD_FIELD_ERROR\b",
    ),
    # PostgreSQL
    ("syntax error at or near", r"\bsyntax error at or near \\?\""),
    ("unterminated quoted ", r"\bunterminated quoted (?:string|identifier) at or near"),
    ("invalid input syntax for", r"\binvalid input syntax for (?:type )?\w+"),
    (
        ("PG::", "psycopg"),
        r"\bPG::\w+Error\b|\bpsycopg2?\.(?:errors\.)?\w+Error\b|\bpsycopg\.errors\.\w+",
    ),
    (
        ("PSQLException", "Npgsql.PostgresException"),
        r"\borg\.postgresql\.util\.PSQLException\b|\bNpgsql\.PostgresException\b",
    ),
    ("Warning: pg_", r"\bWarning: pg_\w+\(\)"),
    # Microsoft SQL Server
    ("Unclosed quotation mark", r"\bUnclosed quotation mark after the character string\b"),
    ("Incorrect syntax near", r"\bIncorrect syntax near\b"),
    ("OLE DB Provider for", r"\bMicrosoft OLE DB Provider for (?:SQL Server|ODBC Drivers)\b"),
    (("[Microsoft][ODBC", "[SQL Server]"), r"\[Microsoft\]\[ODBC [^\]\n]{1,60}\]|\[SQL Server\]"),
    (".SqlClient.SqlException", r"\b(?:System|Microsoft)\.Data\.SqlClient\.SqlException\b"),
    # Oracle
    ("ORA-", r"\bORA-\d{5}: "),
    ("quoted string not properly terminated", r"\bquoted string not properly terminated\b"),
    (("oracle.jdbc.", "PLS-"), r"\boracle\.jdbc\.\w+|\bPLS-\d{5}: "),
    # other engines and ORMs that quote the database's error
    (("DB2 SQL error", "SQLCODE=-"), r"\bDB2 SQL error\b|\bSQLCODE=-\d+"),
    (
        ("Dynamic SQL Error", "Syntax error in query expression"),
        r"\bDynamic SQL Error\b|\bSyntax error in query expression\b",
    ),
    ("Microsoft JET Database Engine", r"\bMicrosoft JET Database Engine\b"),
    ("SQLSTATE[", r"\bSQLSTATE\[\w{5}\]"),
    (
        ("java.sql.", "SQLGrammarException"),
        r"\bjava\.sql\.SQL\w*Exception\b|\borg\.hibernate\.exception\.SQLGrammarException\b",
    ),
    (
        ("sqlalchemy.exc.", "ActiveRecord::StatementInvalid"),
        r"\bsqlalchemy\.exc\.\w+Error\b|\bActiveRecord::StatementInvalid\b",
    ),
    ("SequelizeDatabaseError", r"\bSequelizeDatabaseError\b"),
    ("SQL syntax", r"\b(?:error|invalid)\b[^\n]{0,40}\bSQL syntax\b"),
)


def sql_error(text: str) -> str | None:
    """The excerpt of ``text`` that quotes a database error.

    Signatures of SQLite, MySQL/MariaDB, PostgreSQL, SQL Server, Oracle, DB2,
    Firebird, Access and the drivers and ORMs that pass their messages on. A
    generic "syntax error" (a GraphQL or filter parser's) is not one.
    """
    return _first(_SQL, text)


_LINE_BREAKS = ("\n", "\\n", '"', "'", ">")
_LEADING_NEWLINES = re.compile(r"(?:\r?\n|\\r\\n|\\n)+")


def _first(signatures: list[_Signature], text: str) -> str | None:
    """The excerpt at the earliest match of any signature, from its line's start if near."""
    best: re.Match[str] | None = None
    for sig in signatures:
        if any(needle in text for needle in sig.needles):
            m = sig.pattern.search(text)
            if m and (best is None or m.start() < best.start()):
                best = m
    if best is None:
        return None
    start = best.start()
    # a Ruby or Go frame matches at its file's extension: show its line from the start
    window = max(0, start - 150)
    ends = [text.rfind(b, window, start) + len(b) for b in _LINE_BREAKS if b in text[window:start]]
    start = max(ends, default=0 if window == 0 else start)
    head = _LEADING_NEWLINES.match(text, start)
    start = head.end() if head else start
    return text[start : start + EXCERPT].strip()


# --------------------------------------------------------------------------- field names
_NOT_A_SECRET_PREFIX = frozenset(
    {"has", "is", "requires", "require", "required", "must", "allow", "allows", "enable"}
    | {"enabled", "use", "uses", "needs", "show", "can", "should", "with", "no", "min", "max"}
)
_PASSWORD_WORDS = frozenset({"password", "passwd", "pwd", "passphrase"})
_HASH_WORDS = frozenset({"hash", "hashed", "digest", "salt", "crypt", "encrypted", "bcrypt", "enc"})
_MFA_WORDS = frozenset({"mfa", "totp", "otp", "2fa", "tfa", "twofactor"})
# tokens that page, order or deduplicate requests, or prevent CSRF: meant to be handed out
_NOT_AUTH_TOKEN = frozenset(
    {"next", "prev", "previous", "page", "paging", "continuation", "cursor", "sync", "skip"}
    | {"pagination", "resume", "change", "creation", "idempotency", "client", "csrf", "xsrf"}
)
_EXACT = {
    **dict.fromkeys(("pass", "dbpass", "userpass", "adminpass", "rootpass"), "password"),
    **dict.fromkeys(("mfasecret", "totpsecret", "otpsecret", "2fasecret", "mfaseed"), "mfa-secret"),
    **dict.fromkeys(("totpseed", "twofactorsecret", "recoverycodes", "backupcodes"), "mfa-secret"),
    **dict.fromkeys(("otp", "otpcode", "totp", "totpcode", "mfacode", "2facode"), "otp"),
    **dict.fromkeys(("twofactorcode", "onetimecode", "onetimepassword"), "otp"),
    **dict.fromkeys(("ssn", "ssnnumber", "socialsecurity", "socialsecuritynumber"), "ssn"),
    "socialsecurityno": "ssn",
    "jwt": "token",
    **dict.fromkeys(("cardnumber", "cardno", "cardnum", "creditcard", "ccnumber", "ccnum"), "card"),
    **dict.fromkeys(("pan", "primaryaccountnumber"), "card"),
    **dict.fromkeys(("cvv", "cvv2", "cvc", "cvc2", "csc", "securitycode"), "cvv"),
    **dict.fromkeys(("cardsecuritycode", "cardverificationvalue", "cardverificationcode"), "cvv"),
    **dict.fromkeys(("pin", "cardpin", "atmpin", "pinnumber"), "pin"),
    **dict.fromkeys(("privkey", "signingkey", "encryptionkey", "masterkey", "hmackey"), "secret"),
}


def _words(name: str) -> list[str]:
    spaced = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    spaced = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", spaced)
    return [w for w in re.split(r"[^A-Za-z0-9]+", spaced.lower()) if w]


@functools.lru_cache(maxsize=4096)
def sensitive_field(name: str) -> str | None:
    """The kind of secret a field NAMED ``name`` holds, or None.

    Case, ``_``, ``-``, ``.`` and camelCase are normalised (``passwordHash``,
    ``X-API-Key``, ``config.JWT_SECRET``). Kinds: ``password``, ``password-hash``,
    ``secret``, ``mfa-secret``, ``private-key``, ``api-key``, ``token``, ``ssn``,
    ``card``, ``cvv``, ``pin``, ``otp``. Names that describe a secret rather than
    hold one do not count: ``token_type``, ``expires_in``, ``password_policy``,
    ``password_changed_at``, ``has_password``, ``csrf_token``, ``next_page_token``,
    ``ssn_last4``, ``card_last4``, ``public_key``, ``max_tokens``.
    """
    words = _words(name)
    if not words or words[0] in _NOT_A_SECRET_PREFIX:
        return None
    compact, last = "".join(words), words[-1]
    hashed = words[0] in {"hashed", "encrypted"}
    if compact in _EXACT:
        return _EXACT[compact]
    if ("card" in words or "cc" in words) and last in {"number", "no", "num", "pan"}:
        return "card"
    if _PASSWORD_WORDS & set(words) or "pass" in words:
        if last in _HASH_WORDS or hashed:
            return "password-hash"
        if last in _PASSWORD_WORDS or last in {"confirmation", "confirm", "repeat"}:
            return "password"
        return None
    if hashed:
        return None  # a token's or key's hash cannot be cracked back like a password's
    if last in {"secret", "seed"} and _MFA_WORDS & set(words):
        return "mfa-secret"
    if last == "secret" or compact.endswith(("secretkey", "secretaccesskey")):
        return "secret"
    if compact.endswith("privatekey"):
        return "private-key"
    if compact.endswith(("apikey", "accesskey", "subscriptionkey")):
        return "api-key"
    if last == "token" and not _NOT_AUTH_TOKEN & set(words):
        return "token"
    return None


# --------------------------------------------------------------------------- secret values
class _Hit(NamedTuple):
    kind: str
    start: int  # the secret's span in the text: what mask() hides
    end: int
    label: str  # shown before the masked value: a field name, a PEM header


_B64 = r"[./A-Za-z0-9]"
_HASHES = re.compile(
    "|".join(
        (
            r"\$2[abxy]?\$\d{2}\$" + _B64 + r"{53}",  # bcrypt
            r"\$argon2(?:id|i|d)\$(?:v=\d+\$)?m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+",
            r"\$[56]\$(?:rounds=\d+\$)?" + _B64 + r"{1,16}\$" + _B64 + r"{43}(?:" + _B64 + "{43})?",
            r"\$1\$" + _B64 + r"{1,8}\$" + _B64 + r"{22}",  # md5-crypt
            r"\$pbkdf2(?:-sha\d+)?\$\d+\$" + _B64 + r"+\$" + _B64 + "+",  # passlib
            r"\bpbkdf2_sha(?:1|256|512)\$\d+\$[^$\s\"']+\$[A-Za-z0-9+/=]{20,}",  # Django
            # Werkzeug
            r"\b(?:pbkdf2:sha\d+(?::\d+)?|scrypt:\d+:\d+:\d+)\$[^$\s\"']+\$[0-9a-f]{32,}",
        )
    )
)
_JWT = re.compile(r"(?<![\w-])eyJ[\w-]{8,}\.eyJ[\w-]{8,}\.[\w-]*(?![\w.-])")
_AWS_KEY = re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA|ABIA|ACCA|A3T[A-Z0-9])[A-Z0-9]{16}(?![A-Z0-9])")
_PEM = re.compile(
    r"(-----BEGIN (?:[A-Z0-9]+ ){0,3}PRIVATE KEY(?: BLOCK)?-----)(?:\s|\\[rn])*([\s\S]{0,20000}?"
    r"(?:-----END [A-Z0-9 ]{1,40}-----|$))"
)
_SSN = re.compile(r"(?<![\w.+-])(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?![\w-])")
_CARD = re.compile(
    r"(?<![\w.+-])(?:\d{13,19}|\d{4}(?:[ -]\d{4}){2}[ -]\d{1,7}|\d{4}[ -]\d{6}[ -]\d{5})"
    r"(?![\w-]|[.,]\d)"
)
_KEY = r"[A-Za-z_$][\w.$-]{0,63}"
_PAIRS = [
    # JSON, also JSON quoted inside a JSON string (\"key\": \"value\"); the value is
    # read in a lookahead so that the scan goes on inside it, where such JSON hides
    re.compile(
        r"(?P<q>\\?\")(?P<key>" + _KEY + r")(?P=q)\s*:\s*"
        r"(?=(?P=q)(?P<value>(?:[^\"\\\n]|\\.){0,2000}?)(?P=q)|(?P<num>-?\d[\d.eE+-]{0,30}))"
    ),
    re.compile(r"'(?P<key>" + _KEY + r")'\s*:\s*(?='(?P<value>(?:[^'\\\n]|\\.){0,2000})')"),
    # key=value: .env files, query strings, logs
    re.compile(
        r"(?<![\w.$-])(?P<key>" + _KEY + r")[ \t]*=[ \t]*"
        r"(?:\"(?P<dq>[^\"\n]{0,2000})\"|'(?P<sq>[^'\n]{0,2000})'|(?P<value>[^\s\"'&,;<>]+))"
    ),
    # key: value on its own line: YAML, HTTP headers
    re.compile(
        r"(?m)^[ \t]*(?P<key>" + _KEY + r")[ \t]*:[ \t]+"
        r"(?P<value>[^\s#\"'{\[][^\r\n]*?)[ \t]*\r?$"
    ),
]
_PLACEHOLDER = re.compile(
    r"(?i:[*xX•#._ -]*|null|none|nil|true|false|undefined|redacted|masked|hidden|removed"
    r"|filtered|string|\$\{.*\}|\{.*\}|<[^>]*>|%\w+%|\[.*\]|\$\w+"
    r"|(?:your|my|example|sample|dummy|placeholder)[\w.-]*)"
    r"|[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+"  # YOUR_API_KEY, EAP_PASSWORD
)
# values that name where the secret is, not the secret: code, an environment variable, a URL
_REFERENCE = re.compile(
    r"(?:process\.env|os\.environ|os\.getenv|System\.getenv|ENV\[|\$ENV)|[()]|^[a-z][\w+.-]*://"
)
_CARD_WORDS = re.compile(r"(?i)\b(?:card|visa|mastercard|amex|pan)\b")
_URL_CREDENTIALS = re.compile(
    r"\b(?P<user>[a-z][a-z0-9+.-]{1,20}://[^\s:/@\"'<>]{1,64}):"
    r"(?P<password>[^\s@/\"'<>]{1,128})@[\w.-]+"
)
_EXAMPLE_PASSWORDS = frozenset({"password", "passwd", "pass", "pwd", "yourpassword", "secret"})
# fields whose numbers count or name things: not a card or SSN even when one fits
_NUMBERING_FIELD = re.compile(
    r"(?i)(?:id|ids|uuid|ts|time|timestamp|at|date|nonce|seq|sequence|count|size|total|"
    r"amount|version|etag|hash|phone|tel|msisdn|mobile)[\"']?\s*[:=]\s*[\"']?$"
)
_NETWORKS = (  # (first digits range, lengths): Visa, Mastercard, Amex, Discover, JCB, ...
    ((4, 4), (13, 16, 19)),
    ((51, 55), (16,)),
    ((2221, 2720), (16,)),
    ((34, 34), (15,)),
    ((37, 37), (15,)),
    ((6011, 6011), (16, 17, 18, 19)),
    ((644, 649), (16, 17, 18, 19)),
    ((65, 65), (16, 17, 18, 19)),
    ((3528, 3589), (16, 17, 18, 19)),
    ((300, 305), (14, 15, 16, 17, 18, 19)),
    ((36, 36), (14, 15, 16, 17, 18, 19)),
    ((38, 39), (14, 15, 16, 17, 18, 19)),
    ((62, 62), (16, 17, 18, 19)),
    ((6304, 6304), (16, 17, 18, 19)),
    ((6759, 6759), (16, 17, 18, 19)),
)


def luhn_valid(digits: str) -> bool:
    """Whether the digit string passes the Luhn check (ISO/IEC 7812)."""
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _card(digits: str, *, any_network: bool = False) -> bool:
    if not 13 <= len(digits) <= 19 or not luhn_valid(digits) or len(set(digits)) == 1:
        return False
    if any_network:
        return True
    for (low, high), lengths in _NETWORKS:
        width = len(str(low))
        if low <= int(digits[:width]) <= high and len(digits) in lengths:
            return True
    return False


def _jwt(token: str) -> bool:
    try:
        header = json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))
    except (ValueError, binascii.Error):
        return False
    return isinstance(header, dict) and isinstance(header.get("alg"), str)


_FREE_FORM = frozenset(
    {"password", "password-hash", "secret", "mfa-secret", "api-key", "token", "private-key"}
)


def _value_kind(kind: str, value: str, field: str = "") -> str | None:
    """The kind to report for ``value`` found under ``field``, of ``kind``, or None."""
    plain = value.strip()
    if _PLACEHOLDER.fullmatch(plain) or _MASK in plain or "*****" in plain:
        return None
    if kind in _FREE_FORM and (_REFERENCE.search(plain) or _words(plain) == _words(field)):
        return None
    digits = re.sub(r"[ -]", "", plain)
    if kind == "card":
        return kind if digits.isdigit() and _card(digits, any_network=True) else None
    if kind == "ssn":
        parts = re.fullmatch(r"(\d{3})-?(\d{2})-?(\d{4})", plain)
        return kind if parts and _SSN.fullmatch("-".join(parts.groups())) else None
    if kind in ("cvv", "pin", "otp"):
        sizes = {"cvv": (3, 4), "pin": (4, 12), "otp": (4, 10)}[kind]
        return kind if plain.isdigit() and sizes[0] <= len(plain) <= sizes[1] else None
    # a value with spaces is a message ("This field is required."), not a secret
    shortest = {"token": 12, "password-hash": 16}.get(kind, 6)
    if any(c.isspace() for c in plain) or len(plain) < shortest:
        return None
    if kind == "password" and re.fullmatch(r"[0-9a-fA-F]{32}(?:[0-9a-fA-F]{8,96})?", plain):
        return "password-hash"
    return kind


def _hits(text: str, *, every_field: bool = False) -> list[_Hit]:
    """Secrets in ``text``, most specific detector first, none overlapping another.

    ``every_field`` (for masking) also takes a sensitive field's value that
    would not be reported: a short one, a sentence, a number.
    """
    found: list[_Hit] = []
    taken: list[tuple[int, int]] = []

    def add(kind: str, start: int, end: int, label: str = "") -> None:
        if start < end and not any(s < end and start < e for s, e in taken):
            taken.append((start, end))
            found.append(_Hit(kind, start, end, label))

    # the needles skip a regex pass over bodies that cannot match (most of them)
    if "PRIVATE KEY" in text:
        for m in _PEM.finditer(text):
            add("private-key", m.start(2), m.end(2), m.group(1))
    if "$" in text:
        for m in _HASHES.finditer(text):
            add("password-hash", m.start(), m.end())
    if "eyJ" in text:
        for m in _JWT.finditer(text):
            if _jwt(m.group()):
                add("jwt", m.start(), m.end())
    if any(prefix in text for prefix in ("AKIA", "ASIA", "ABIA", "ACCA", "A3T")):
        for m in _AWS_KEY.finditer(text):
            add("aws-access-key", m.start(), m.end())
    for m in _SSN.finditer(text):
        if not _NUMBERING_FIELD.search(text, max(0, m.start() - 80), m.start()):
            add("ssn", m.start(), m.end())
    for m in _CARD.finditer(text):
        digits = re.sub(r"[ -]", "", m.group())
        # 16 bare digits pass Luhn one time in ten: an order or tracking number
        # counts only where the text speaks of a card; grouped digits look like one
        if (
            _card(digits)
            and (digits != m.group() or _CARD_WORDS.search(text, max(0, m.start() - 40), m.start()))
            and not _NUMBERING_FIELD.search(text, max(0, m.start() - 80), m.start())
        ):
            add("card", m.start(), m.end())
    if "://" in text and "@" in text:
        for m in _URL_CREDENTIALS.finditer(text):
            password = m.group("password")
            if password.lower() not in _EXAMPLE_PASSWORDS and _value_kind("password", password):
                add("password", m.start("password"), m.end("password"), m.group("user"))
    for regex in _PAIRS if "=" in text else _PAIRS[:2] + _PAIRS[3:]:
        for m in regex.finditer(text):
            field = sensitive_field(m.group("key"))
            if field is None:
                continue
            group, value = next(
                (g, v)
                for g in ("value", "dq", "sq", "num")
                if g in regex.groupindex and (v := m.group(g)) is not None
            )
            reported = _value_kind(field, value, m.group("key"))
            if every_field and reported is None and value.lower() not in ("true", "false", "null"):
                reported = None if _MASK in value else field
            if reported is not None:
                add(reported, m.start(group), m.end(group), m.group("key"))
    return sorted(found, key=lambda h: h.start)


def _masked(value: str) -> str:
    # short values keep less, so neither a PIN nor most of a short password shows;
    # a JWT keeps nothing: "eyJ" starts every one, and logs are checked for it
    if len(value) < 8 or value.startswith("eyJ"):
        return _MASK
    return value[: min(4, len(value) // 4)] + _MASK


def sensitive_values(text: str) -> list[tuple[str, str]]:
    """Secrets and personal data in ``text``: (kind, masked excerpt) pairs.

    By value: password hashes (bcrypt, argon2, sha-crypt, md5-crypt, PBKDF2 in
    Django, passlib and Werkzeug forms, scrypt) as ``password-hash``; ``jwt``
    (the header must decode to JSON with an ``alg``); ``card`` (13-19 digits
    with a card network's prefix and length and a valid Luhn digit, grouped in
    fours or, when bare, after the word card, visa, mastercard, amex or pan);
    ``ssn`` (###-##-####, not 000/666/9xx, 00 or 0000); ``aws-access-key``;
    ``private-key`` (a PEM block); ``password`` in a URL
    (``postgres://app:s3cr3t@db``). By field (JSON, ``key=value``, ``key: value``
    lines), for the names :func:`sensitive_field` flags: the value unless it is a
    placeholder (``null``, ``***``, ``<redacted>``, ``${VAR}``), a sentence, or
    too short (6 characters, 12 for tokens, 16 for hashes); a hex digest under a password field
    is a ``password-hash``. Numbers under ``id``, ``*_at``, ``timestamp``,
    ``phone`` ... fields are not cards or SSNs. Whether a token is expected (a
    login answer) is for the caller to judge.
    """
    out: list[tuple[str, str]] = []
    for hit in _hits(text):
        shown = _masked(text[hit.start : hit.end])
        pair = (hit.kind, f"{hit.label}: {shown}" if hit.label else shown)
        if pair not in out:
            out.append(pair)
    return out


# --------------------------------------------------------------------------- masking
_CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})
_HEADER_LINE = re.compile(
    r"(?im)^[ \t]*(?P<name>[A-Za-z][\w-]{0,63})[ \t]*:[ \t]*"
    r"(?:(?:Bearer|Basic|Digest|Token|Negotiate|NTLM|ApiKey)[ \t]+)?"
    r"(?P<value>\S[^\r\n]*?)[ \t]*\r?$"
)
_JSON_CREDENTIAL = re.compile(
    r"(?i)\"(?:proxy-)?(?:authorization|cookie|set-cookie)\"\s*:\s*"
    r"\"(?:(?:Bearer|Basic|Digest|Token) )?(?P<value>(?:[^\"\\\n]|\\.)+)\""
)
_COOKIE_VALUE = re.compile(r"(?:^|;)\s*[^=;\s]+=([^;]*)")


def mask(text: str) -> str:
    """``text`` with every secret masked, keeping at most its first 4 characters.

    Masks what :func:`sensitive_values` finds, the value of any field that
    :func:`sensitive_field` flags (short or not), and the credentials in
    ``Authorization``/``Proxy-Authorization`` (after the scheme), ``Cookie`` and
    ``Set-Cookie`` (each cookie's value) header lines or JSON fields. A value
    keeps a quarter of its length, at most 4 characters, and nothing when it is
    shorter than 8 or a JWT (whose first characters are the same in every
    token). Masking a masked text changes nothing.
    """
    spans = [(h.start, h.end) for h in _hits(text, every_field=True)]
    for m in _HEADER_LINE.finditer(text):
        name = m.group("name").lower()
        if name in ("cookie", "set-cookie"):
            for i, c in enumerate(_COOKIE_VALUE.finditer(m.group("value"))):
                # Set-Cookie: its cookie, not the attributes (Path=/, Max-Age=...)
                if name == "cookie" or i == 0:
                    spans.append((m.start("value") + c.start(1), m.start("value") + c.end(1)))
        elif name in _CREDENTIAL_HEADERS or sensitive_field(name):
            spans.append(m.span("value"))
    spans.extend(m.span("value") for m in _JSON_CREDENTIAL.finditer(text))
    out: list[str] = []
    last = 0
    # what is masked already stays as it is: hiding twice does not shorten it more
    for start, end in _merged([(s, e) for s, e in spans if _MASK not in text[s:e]]):
        out += [text[last:start], _masked(text[start:end])]
        last = end
    return "".join(out) + text[last:]


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(s for s in spans if s[0] < s[1]):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


# --------------------------------------------------------------------------- headers
# Headers that name a product: a version number in them is the disclosure.
_PRODUCT_HEADERS = ("server", "x-powered-by", "x-powered-cms", "x-server", "x-generator")
# Headers whose name is the product: any digit in them is a version.
_VERSION_HEADERS = (
    "x-aspnet-version",
    "x-aspnetmvc-version",
    "x-php-version",
    "x-owa-version",
    "microsoftsharepointteamservices",
    "x-generator",
)
_PRODUCT_VERSION = re.compile(
    r"[A-Za-z][\w.+-]*(?:/v?\d+(?:\.\d+)*|\(v?\d+(?:\.[\w-]+)+\)| v?\d+\.\d+(?:\.\d+)*)(?!\w)"
)


def server_banner(headers: Mapping[str, str]) -> str | None:
    """The headers that disclose software versions, as ``Name: value; ...``, or None.

    ``Server``, ``X-Powered-By``, ``X-Server``, ``X-Powered-CMS`` count when they
    carry a product with a version (``nginx/1.25.3``, ``PHP/8.1.2``,
    ``Jetty(9.4.44)``); a bare product (``nginx``, ``uvicorn``, ``Express``) is
    not a finding. ``X-AspNet-Version``, ``X-AspNetMvc-Version``, ``X-Generator``
    and the like count whenever they hold a number.
    """
    shown: list[str] = []
    for name, value in headers.items():
        lower = name.lower()
        if (lower in _VERSION_HEADERS and re.search(r"\d", value)) or (
            lower in _PRODUCT_HEADERS and _PRODUCT_VERSION.search(value)
        ):
            shown.append(f"{name}: {value}")
    return "; ".join(shown)[:EXCERPT] if shown else None


#: What :func:`missing_security_headers` expects, as remediation text.
RECOMMENDED_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
}


def missing_security_headers(
    headers: Mapping[str, str],
    *,
    https: bool,
    authenticated: bool = False,
    content_type: str | None = None,
) -> list[str]:
    """Security headers an API answer lacks (or sets to no effect), by name.

    Policy, after the OWASP REST Security Cheat Sheet ("Security Headers") and
    the OWASP Secure Headers Project:

    - ``X-Content-Type-Options: nosniff`` on every answer, so a browser never
      sniffs JSON into HTML or script;
    - ``Cache-Control`` with ``no-store`` on answers to ``authenticated``
      requests, so personal data is not left in browser or proxy caches;
    - ``Strict-Transport-Security`` with a positive ``max-age`` when the API is
      reached over ``https`` (browsers ignore it over plain HTTP);
    - ``Content-Security-Policy``, and framing protection (``X-Frame-Options``
      DENY/SAMEORIGIN or a CSP ``frame-ancestors``), on HTML answers only: the
      cheat sheet notes these protect rendered HTML and give little to an API
      that never returns it, so asking them of JSON would be noise.

    ``content_type`` defaults to the answer's ``Content-Type``.
    """
    have = {name.lower(): value for name, value in headers.items()}
    missing: list[str] = []
    if have.get("x-content-type-options", "").strip().lower() != "nosniff":
        missing.append("X-Content-Type-Options")
    cache = {d.strip().lower() for d in have.get("cache-control", "").split(",")}
    if authenticated and "no-store" not in cache:
        missing.append("Cache-Control")
    if https:
        age = re.search(r"(?i)max-age\s*=\s*\"?(\d+)", have.get("strict-transport-security", ""))
        if age is None or int(age.group(1)) == 0:
            missing.append("Strict-Transport-Security")
    kind = (content_type if content_type is not None else have.get("content-type", "")).lower()
    if "text/html" in kind or "application/xhtml+xml" in kind:
        csp = have.get("content-security-policy", "").strip()
        if not csp:
            missing.append("Content-Security-Policy")
        framing = have.get("x-frame-options", "").strip().lower() in ("deny", "sameorigin")
        if not framing and "frame-ancestors" not in csp.lower():
            missing.append("X-Frame-Options")
    return missing
