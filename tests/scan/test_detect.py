"""The response detectors: they fire on real-looking evidence, not on ordinary answers."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from apiward.demo import serve
from apiward.scan.detect import (
    EXCERPT,
    luhn_valid,
    mask,
    missing_security_headers,
    sensitive_field,
    sensitive_values,
    server_banner,
    sql_error,
    stack_trace,
)

# Ordinary API answers: no detector may fire on any of them.
ORDINARY = [
    '{"detail":"Not found"}',
    '{"error":"invalid_grant","error_description":"The provided authorization grant is invalid"}',
    json.dumps(
        {
            "type": "https://example.com/probs/out-of-credit",
            "title": "You do not have enough credit.",
            "detail": "Your current balance is 30, but that costs 50.",
            "instance": "/account/12345/msgs/abc",
        }
    ),
    '{"detail":[{"loc":["body","file"],"msg":"field required","type":"value_error.missing"}]}',
    '{"message":"Not Found","documentation_url":"https://docs.github.com/rest"}',
    '{"message":"Meeting at Room.B(2nd floor) at 10:30"}',
    '{"error":"Exception: user not found"}',
    '{"file":"report.pdf","line":3,"stack":"production"}',
    '{"errors":[{"message":"Syntax Error: Expected Name, found <EOF>.",'
    '"locations":[{"line":1,"column":9}]}]}',
    '{"error":"Invalid filter syntax near \'name\'"}',
    '{"error":"Unexpected token } in JSON at position 10"}',
    '{"message":"Order ORA-12345 shipped"}',
    '{"error":"the body is not valid JSON"}',
    "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway"
    "</h1></center><hr><center>nginx</center></body></html>",
    "<html><body><h1>Whitelabel Error Page</h1><p>This application has no explicit mapping "
    "for /error, so you are seeing this as a fallback.</p></body></html>",
    json.dumps(
        {
            "access_token_expires_in": 3600,
            "token_type": "Bearer",
            "expires_in": 900,
            "password_policy": "min8chars",
            "password_changed_at": "2024-05-01T10:00:00Z",
            "has_password": True,
            "password": None,
            "secret_question": "Name of your first pet?",
            "next_page_token": "CiAKGjBpNDd2Nmp2Zml2cXRwYjBpOXA",
            "ssn_last4": "6789",
            "card_last4": "4242",
            "public_key": "MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=",
            "commit_hash": "9fceb02d0ae598e95dc970b74767f19372d61af8",
            "sha256": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            "created_ms": 1700000000000,
            "id": 4111111111111111,
            "order_ref": "4532015112830366",
            "amount": 0.4111111111111111,
            "phone": "555-123-4567",
            "date": "2024-01-15",
        }
    ),
    '{"password": "********", "api_key": "<your-api-key>", "secret": "${CLIENT_SECRET}", '
    '"token": "[FILTERED]", "client_secret": "REDACTED"}',
    '{"password": "This field is required.", "api_key": "must be 32 characters long"}',
    json.dumps(
        {
            "access_token": "{{YOUR_ACCESS_TOKEN}}",
            "apiKey": "process.env.API_KEY",
            "api_key": "YOUR_API_KEY",
            "client_secret": "EXAMPLE_CLIENT_SECRET",
            "privatekey": "privatekey",
            "secret": "https://vault.example/v1/secrets/app",
            "hashed_token": "25f94a2a5c7fbaf499c665bc73d67c1c87e496da8985131633ee0a95819db2e8",
            "$skipToken": "eyAiU2tpcFRva2VuIjogMTAwIH0",
            "ChangeToken": "abcd12f2-46da-4fdb-b8d5-fbd4c466928f",
        }
    ),
    "Connect with postgres://user:password@localhost:5432/app (example)",
]


@pytest.mark.parametrize("text", ORDINARY)
def test_detectors_stay_quiet_on_ordinary_answers(text: str) -> None:
    assert stack_trace(text) is None
    assert sql_error(text) is None
    assert sensitive_values(text) == []


# ------------------------------------------------------------------ stack traces
PYTHON_TRACE = """Traceback (most recent call last):
  File "/srv/app/views.py", line 42, in get_user
    return db.fetch(user_id)
  File "/srv/app/db.py", line 17, in fetch
    raise KeyError(key)
KeyError: 'u-1'
"""
TRACES = {
    "python": PYTHON_TRACE,
    "python in JSON": json.dumps({"error": "KeyError: 'u-1'", "traceback": PYTHON_TRACE}),
    "python frame": '  File "/usr/lib/python3.11/json/decoder.py", line 355, in raw_decode\n',
    "spring trace": json.dumps(
        {
            "timestamp": "2024-05-01T10:00:00.000+00:00",
            "status": 500,
            "error": "Internal Server Error",
            "trace": 'java.lang.NullPointerException: Cannot invoke "User.getName()"\n'
            "\tat com.acme.bank.web.UserController.show(UserController.java:42)\n"
            "\tat java.base/jdk.internal.reflect.DirectMethodHandleAccessor.invoke"
            "(DirectMethodHandleAccessor.java:103)\n",
            "path": "/users/7",
        }
    ),
    "java main": 'Exception in thread "main" java.lang.IllegalStateException: boom',
    "java caused by": "Caused by: org.postgresql.util.PSQLException: connection refused",
    "dotnet": "System.NullReferenceException: Object reference not set to an instance of an "
    "object.\r\n   at Acme.Api.Controllers.UsersController.Get(Int32 id) in "
    "C:\\src\\Acme.Api\\Controllers\\UsersController.cs:line 27\r\n",
    "dotnet release": "System.InvalidOperationException: Sequence contains no elements\n"
    "   at System.Linq.ThrowHelper.ThrowNoElementsException()\n"
    "   at Acme.Api.Services.UserService.First()\n",
    "aspnet ysod": "<h1>Server Error in '/' Application.<hr width=100% size=1 color=silver></h1>",
    "node": "TypeError: Cannot read properties of undefined (reading 'id')\n"
    "    at /app/routes/users.js:14:23\n"
    "    at Layer.handle [as handle_request] (/app/node_modules/express/lib/router/layer.js:95:5)",
    "node anonymous": "    at Object.<anonymous> (/srv/index.js:1:7)",
    "node internal": "    at Module._compile (node:internal/modules/cjs/loader:1256:14)",
    "php fatal": "<br />\n<b>Fatal error</b>:  Uncaught Error: Call to undefined function foo() "
    "in /var/www/html/index.php:3\nStack trace:\n#0 {main}\n  thrown in "
    "<b>/var/www/html/index.php</b> on line <b>3</b><br />",
    "php warning": "Warning: Undefined variable $user in /var/www/html/profile.php on line 12",
    "laravel debug": json.dumps(
        {
            "message": "SQLSTATE[HY000] [2002] Connection refused",
            "exception": "Illuminate\\Database\\QueryException",
            "file": "/var/www/vendor/laravel/framework/src/Illuminate/Database/Connection.php",
            "line": 760,
        }
    ),
    "ruby": "app/controllers/users_controller.rb:12:in `show'",
    "ruby 3.4": "/app/models/user.rb:7:in 'User#name'",
    "go": "panic: runtime error: invalid memory address or nil pointer dereference\n"
    "[signal SIGSEGV: segmentation violation code=0x1 addr=0x0 pc=0x4553a2]\n\n"
    "goroutine 1 [running]:\nmain.main()\n\t/app/main.go:12 +0x1d\n",
    "werkzeug": "<title>KeyError: 'user' // Werkzeug Debugger</title>",
    "django": "<p>You&#x27;re seeing this error because you have <code>DEBUG = True</code> in "
    "your Django settings file.</p>",
}


@pytest.mark.parametrize("name", list(TRACES))
def test_stack_trace_fires_on_real_traces(name: str) -> None:
    excerpt = stack_trace(TRACES[name])
    assert excerpt is not None
    assert 0 < len(excerpt) <= EXCERPT
    assert excerpt in TRACES[name]


def test_stack_trace_excerpt_starts_at_the_frame_line() -> None:
    assert stack_trace(TRACES["ruby"]) == "app/controllers/users_controller.rb:12:in `show'"
    assert stack_trace(PYTHON_TRACE) == PYTHON_TRACE.strip()


# ------------------------------------------------------------------ SQL errors
SQL_ERRORS = {
    "sqlite": 'sqlite3.OperationalError: unrecognized token: "\' ORDER BY id LIMIT 50"',
    "sqlite near": '{"error":"near \\"ORDER\\": syntax error"}',
    "sqlalchemy": '(sqlite3.OperationalError) near "\'": syntax error',
    "mysql": "You have an error in your SQL syntax; check the manual that corresponds to your "
    "MySQL server version for the right syntax to use near ''' at line 1",
    "mariadb": "check the manual that corresponds to your MariaDB server version",
    "mysql jdbc": "com.mysql.cj.jdbc.exceptions.SQLSyntaxErrorException: Unknown column",
    "postgres": 'ERROR:  syntax error at or near "\'"\n'
    "LINE 1: SELECT * FROM users WHERE id = '1''",
    "postgres quote": 'unterminated quoted string at or near "\'"',
    "postgres type": 'invalid input syntax for type integer: "abc"',
    "psycopg": "psycopg2.errors.SyntaxError: syntax error",
    "mssql": "Unclosed quotation mark after the character string ''.\r\nIncorrect syntax near ''.",
    "mssql client": "System.Data.SqlClient.SqlException (0x80131904): Incorrect syntax",
    "oracle": "ORA-01756: quoted string not properly terminated",
    "oracle end": "ORA-00933: SQL command not properly ended",
    "pdo": "SQLSTATE[42000]: Syntax error or access violation: 1064",
    "hibernate": "org.hibernate.exception.SQLGrammarException: could not extract ResultSet",
    "generic": "Error: invalid SQL syntax in statement",
}


@pytest.mark.parametrize("name", list(SQL_ERRORS))
def test_sql_error_fires_on_database_messages(name: str) -> None:
    excerpt = sql_error(SQL_ERRORS[name])
    assert excerpt is not None
    assert excerpt in SQL_ERRORS[name]


# ------------------------------------------------------------------ secrets by value
BCRYPT = "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"
ARGON2 = (
    "$argon2id$v=19$m=65536,t=3,p=4$MIIRqgvgQbgj220jfp0MPA"
    "$YfwJSVjtjSU0zzV/P3S9nnQ/USre2wvJMjfCIjrTQbg"
)
SHA512_CRYPT = (
    "$6$rounds=5000$usesomesillystri$D4IrlXatmP7rx3P3InaxBeoomnAihCKRVQP22JZ6EY47Wc6Bkro"
    "IuUUBOov1i.S5KPgErtP/EN5mcO.ChWQW21"
)
DJANGO = "pbkdf2_sha256$600000$G1Qb1p4mVBGZl3LJ$Pq0pvX1Xm0Oq9y1T0FkJ2bq3M6H1uR8vGm7nJ5m9Kc0="
DEMO_HASH = (
    "pbkdf2_sha256$10000$27992c044fe838c3$13ac272e8dacb9971ddb7a98830d20e73b0b62c42b7ebb946d25b"
    "a7155d4e86d"
)
WERKZEUG = "scrypt:32768:8:1$k3ZvVpHRuVvXfEXe$" + "0b3f" * 32
JWT = (
    "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSIsInVpZCI6MSwicm9sZSI6InVzZXIifQ"
    ".2f7uDNgrNb_bRXanmloYYJhsMnNzaYIFvr6Flm1kz2I"
)
PEM_BODY = "MIIEowIBAAKCAQEAu1SU1LfVLPHCozMxH2Mo4lgOEePzNm0tRgeLezV6ffAt0gunVTLw"
PEM = f"-----BEGIN RSA PRIVATE KEY-----\n{PEM_BODY}\n-----END RSA PRIVATE KEY-----"

SECRETS = [  # (text, kind, the secret that must not survive masking)
    (json.dumps({"hash": BCRYPT}), "password-hash", BCRYPT),
    (json.dumps({"h": ARGON2}), "password-hash", ARGON2),
    (f"root:{SHA512_CRYPT}:19000:0:99999:7:::", "password-hash", SHA512_CRYPT),
    (json.dumps({"password": DJANGO}), "password-hash", DJANGO),
    (json.dumps({"password_hash": DEMO_HASH}), "password-hash", DEMO_HASH),
    (json.dumps({"pw": WERKZEUG}), "password-hash", WERKZEUG),
    (
        '{"password": "5f4dcc3b5aa765d61d8327deb882cf99"}',
        "password-hash",
        "5f4dcc3b5aa765d61d8327deb882cf99",
    ),
    (f"Authorization: Bearer {JWT}", "jwt", JWT),
    ('{"card": "4111 1111 1111 1111", "exp": "12/29"}', "card", "4111 1111 1111 1111"),
    ("card 4111111111111111 was declined", "card", "4111111111111111"),
    ('{"card_number": "4000056655665556"}', "card", "4000056655665556"),
    ('{"creditCardNo": 6011000990139424}', "card", "6011000990139424"),
    ('{"ssn": "078-05-1120"}', "ssn", "078-05-1120"),
    ('{"social_security_number": "123456789"}', "ssn", "123456789"),
    ("aws_access_key_id = AKIAIOSFODNN7EXAMPLE", "aws-access-key", "AKIAIOSFODNN7EXAMPLE"),
    (json.dumps({"key": PEM}), "private-key", PEM_BODY[:40]),
    ("STRIPE_SECRET_KEY=sk_live_51HxQ2bLkdIwHu7ix", "secret", "sk_live_51HxQ2bLkdIwHu7ix"),
    ("GET /v1/data?api_key=abcd1234efgh5678&page=2", "api-key", "abcd1234efgh5678"),
    ("oauth:\n  client_secret: 8f9a7c6b5d4e3f2a\n", "secret", "8f9a7c6b5d4e3f2a"),
    ('{"config": {"JWT_SECRET": "secret"}}', "secret", '"secret"'),
    ("{'password': 'Hunter2-Hunter2'}", "password", "Hunter2-Hunter2"),
    ('{"refresh_token": "def50200a1b2c3d4e5f6a7b8"}', "token", "def50200a1b2c3d4e5f6a7b8"),
    ('{"cvv": "123"}', "cvv", '"123"'),
    ('{"mfaSecret": "JBSWY3DPEHPK3PXP"}', "mfa-secret", "JBSWY3DPEHPK3PXP"),
    (
        "DATABASE_URL=postgres://bank:s3cr3t-Pa55@db.internal:5432/bank",
        "password",
        "s3cr3t-Pa55",
    ),
    (
        '{"detail": "{\\"password\\": \\"Alice-Passw0rd!\\"}"}',
        "password",
        "Alice-Passw0rd!",
    ),
]


@pytest.mark.parametrize(("text", "kind", "secret"), SECRETS)
def test_sensitive_values_finds_and_masks(text: str, kind: str, secret: str) -> None:
    found = sensitive_values(text)
    assert kind in [k for k, _ in found], found
    for _, excerpt in found:
        assert "…[masked]" in excerpt
        assert secret not in excerpt
    assert secret not in mask(text)


def test_hash_samples_are_well_formed() -> None:
    assert len(BCRYPT) == 60
    assert len(SHA512_CRYPT.rsplit("$", 1)[1]) == 86


def test_card_numbers_need_a_valid_luhn_digit() -> None:
    assert luhn_valid("4111111111111111")
    assert luhn_valid("378282246310005")
    assert not luhn_valid("4111111111111112")
    assert sensitive_values('{"card": "4111 1111 1111 1112"}') == []
    assert sensitive_values('{"card_number": "4111111111111112"}') == []
    assert sensitive_values("card 4111111111111112 declined") == []


def test_cards_need_a_card_network_when_unlabelled() -> None:
    # Luhn-valid, grouped like a card, but no network starts with 9
    assert sensitive_values("ref 9111 1111 1111 1113") == []
    assert [k for k, _ in sensitive_values("ref 3782 822463 10005")] == ["card"]  # Amex 4-6-5


def test_ssn_rules() -> None:
    for invalid in ("000-12-3456", "666-12-3456", "912-34-5678", "123-00-4567", "123-45-0000"):
        assert sensitive_values(f'{{"n": "{invalid}"}}') == [], invalid
    assert sensitive_values('{"user_id": "123-45-6789"}') == []
    assert [k for k, _ in sensitive_values("SSN on file: 123-45-6789.")] == ["ssn"]


def test_jwt_needs_a_header_with_alg() -> None:
    # {"sub":"1"} as header: base64url and dotted, but not a JWT
    fake = "eyJzdWIiOiIxMjM0NSJ9.eyJzdWIiOiIxMjM0NSJ9.c2lnbmF0dXJl"
    assert sensitive_values(f'{{"v": "{fake}"}}') == []
    unsigned = "eyJhbGciOiJub25lIn0.eyJzdWIiOiJhZG1pbiJ9."
    assert [k for k, _ in sensitive_values(f'{{"v": "{unsigned}"}}')] == ["jwt"]


def test_pem_excerpt_names_the_key_type() -> None:
    [(kind, excerpt)] = sensitive_values(PEM)
    assert kind == "private-key"
    assert excerpt.startswith("-----BEGIN RSA PRIVATE KEY-----: ")
    public = "-----BEGIN PUBLIC KEY-----\nMIIBIjANBg\n-----END PUBLIC KEY-----"
    assert sensitive_values(public) == []


# ------------------------------------------------------------------ field names
@pytest.mark.parametrize(
    ("name", "kind"),
    [
        ("password", "password"),
        ("Password", "password"),
        ("passwd", "password"),
        ("pwd", "password"),
        ("newPassword", "password"),
        ("db-password", "password"),
        ("password_hash", "password-hash"),
        ("passwordHash", "password-hash"),
        ("hashed_password", "password-hash"),
        ("secret", "secret"),
        ("client_secret", "secret"),
        ("config.JWT_SECRET", "secret"),
        ("aws_secret_access_key", "secret"),
        ("token", "token"),
        ("access_token", "token"),
        ("refreshToken", "token"),
        ("reset-token", "token"),
        ("id_token", "token"),
        ("api_key", "api-key"),
        ("apikey", "api-key"),
        ("X-API-Key", "api-key"),
        ("APIKey", "api-key"),
        ("private_key", "private-key"),
        ("privateKey", "private-key"),
        ("ssn", "ssn"),
        ("SSN", "ssn"),
        ("social_security", "ssn"),
        ("card_number", "card"),
        ("cardNumber", "card"),
        ("cardnumber", "card"),
        ("pan", "card"),
        ("cvv", "cvv"),
        ("cvc", "cvv"),
        ("pin", "pin"),
        ("otp", "otp"),
        ("mfa_secret", "mfa-secret"),
        ("totpSecret", "mfa-secret"),
    ],
)
def test_sensitive_field_names(name: str, kind: str) -> None:
    assert sensitive_field(name) == kind


@pytest.mark.parametrize(
    "name",
    [
        "token_type",
        "expires_in",
        "password_policy",
        "password_changed_at",
        "passwordExpiresAt",
        "has_password",
        "is_secret",
        "secret_question",
        "secretName",
        "csrf_token",
        "next_page_token",
        "max_tokens",
        "tokens",
        "ssn_last4",
        "card_last4",
        "public_key",
        "client_id",
        "access_key_id",
        "key",
        "username",
        "email",
        "pincode_hint",
        "boarding_pass",
        "",
    ],
)
def test_sensitive_field_ignores_names_that_only_describe_secrets(name: str) -> None:
    assert sensitive_field(name) is None


# ------------------------------------------------------------------ masking
def test_mask_hides_credentials_in_headers() -> None:
    token = "eyJ0eXAiOiJKV1QiLCJhbGciOiJIUzI1NiJ9.secretsecret.signature"
    text = (
        "GET /users/me HTTP/1.1\n"
        f"Authorization: Bearer {token}\n"
        "Cookie: session=9f8e7d6c5b4a3928; theme=dark\n"
        "X-Api-Key: pk_live_demo_7f3a9c2e\n"
        "Accept: application/json\n\n"
        "HTTP/1.1 200 OK\n"
        "Set-Cookie: sid=a1b2c3d4e5f6a7b8c9d0; Path=/; HttpOnly\n"
    )
    masked = mask(text)
    for secret in (token, "9f8e7d6c5b4a3928", "pk_live_demo_7f3a9c2e", "a1b2c3d4e5f6a7b8c9d0"):
        assert secret not in masked
    assert "Authorization: Bearer …[masked]" in masked
    assert "Path=/; HttpOnly" in masked
    assert "Accept: application/json" in masked


def test_mask_hides_sensitive_json_fields_of_any_length() -> None:
    text = json.dumps(
        {"user": "alice", "pin": "1234", "password": "pw", "authorization": "Basic YWxpY2U6cHc="}
    )
    masked = json.loads(mask(text))
    assert masked["user"] == "alice"
    assert masked["pin"] == masked["password"] == "…[masked]"  # short: nothing kept
    assert "YWxpY2U6cHc=" not in masked["authorization"]


def test_mask_keeps_at_most_four_characters_and_is_stable() -> None:
    text = json.dumps({"access_token": JWT, "api_key": "0123456789abcdef0123"})
    masked = mask(text)
    assert json.loads(masked) == {"access_token": "…[masked]", "api_key": "0123…[masked]"}
    assert "eyJ" not in masked  # a JWT keeps nothing: every one starts the same
    assert mask(masked) == masked


def test_mask_leaves_ordinary_text_alone() -> None:
    for text in ORDINARY[:15]:
        assert mask(text) == text


# ------------------------------------------------------------------ headers
@pytest.mark.parametrize(
    "headers",
    [
        {"Server": "nginx/1.25.3"},
        {"Server": "Apache/2.4.41 (Ubuntu)"},
        {"Server": "Microsoft-IIS/10.0"},
        {"server": "uvicorn/0.29.0 CPython/3.11.7"},
        {"Server": "Jetty(9.4.44.v20210927)"},
        {"X-Powered-By": "PHP/8.1.2"},
        {"x-aspnet-version": "4.0.30319"},
        {"X-AspNetMvc-Version": "5.2"},
        {"X-Generator": "Drupal 10 (https://www.drupal.org)"},
    ],
)
def test_server_banner_fires_on_versions(headers: dict[str, str]) -> None:
    banner = server_banner(headers)
    assert banner is not None
    [(name, value)] = headers.items()
    assert banner == f"{name}: {value}"


@pytest.mark.parametrize(
    "headers",
    [
        {"Server": "nginx"},
        {"Server": "uvicorn"},
        {"X-Powered-By": "Express"},
        {"Server": "cloudflare"},
        {"Server": "ECS (dcb/7F3B)"},
        {"Server": "AmazonS3"},
        {"Via": "1.1 varnish"},
        {"Content-Type": "application/json; version=2.0"},
        {},
    ],
)
def test_server_banner_ignores_bare_products(headers: dict[str, str]) -> None:
    assert server_banner(headers) is None


def test_server_banner_lists_every_disclosing_header() -> None:
    headers = httpx.Headers({"Server": "gunicorn/21.2.0", "X-Powered-By": "Flask/3.0.0"})
    assert server_banner(headers) == "server: gunicorn/21.2.0; x-powered-by: Flask/3.0.0"


SECURE = {
    "Content-Type": "application/json",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": "no-store",
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
}


def test_missing_security_headers_policy() -> None:
    assert missing_security_headers(SECURE, https=True, authenticated=True) == []
    assert missing_security_headers({}, https=False) == ["X-Content-Type-Options"]
    assert missing_security_headers({}, https=True, authenticated=True) == [
        "X-Content-Type-Options",
        "Cache-Control",
        "Strict-Transport-Security",
    ]
    weak = {
        **SECURE,
        "Cache-Control": "private, max-age=0",
        "Strict-Transport-Security": "max-age=0",
    }
    assert missing_security_headers(weak, https=True, authenticated=True) == [
        "Cache-Control",
        "Strict-Transport-Security",
    ]
    # JSON needs no CSP or framing protection; HTML does
    assert missing_security_headers(SECURE, https=True, content_type="text/html") == [
        "Content-Security-Policy",
        "X-Frame-Options",
    ]
    html = {**SECURE, "Content-Type": "text/html; charset=utf-8"}
    assert (
        missing_security_headers(
            {**html, "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'"},
            https=True,
        )
        == []
    )
    assert missing_security_headers({**html, "X-Frame-Options": "DENY"}, https=True) == [
        "Content-Security-Policy"
    ]


# ------------------------------------------------------------------ the demo bank
@pytest.fixture(scope="module")
def demo() -> Iterator[dict[str, httpx.Client]]:
    with serve(False) as vulnerable, serve(True) as secure:
        clients = {
            "vulnerable": httpx.Client(base_url=vulnerable),
            "secure": httpx.Client(base_url=secure),
        }
        yield clients
        for client in clients.values():
            client.close()


def _login(client: httpx.Client) -> dict[str, str]:
    answer = client.post("/auth/login", json={"username": "alice", "password": "Alice-Passw0rd!"})
    return {"Authorization": f"Bearer {answer.json()['access_token']}"}


@pytest.mark.parametrize("mode", ["vulnerable", "secure"])
def test_detectors_on_the_demo_bank(demo: dict[str, httpx.Client], mode: str) -> None:
    client = demo[mode]
    vulnerable = mode == "vulnerable"
    broken = client.post(
        "/auth/login", content=b"{bad json", headers={"Content-Type": "application/json"}
    )
    assert (stack_trace(broken.text) is not None) is vulnerable
    assert (server_banner(broken.headers) is not None) is vulnerable
    search = client.get("/search", params={"q": "'"})
    assert (sql_error(search.text) is not None) is vulnerable
    me = client.get("/users/me", headers=_login(client))
    kinds = {kind for kind, _ in sensitive_values(me.text)}
    assert kinds == ({"ssn", "password-hash"} if vulnerable else set())
    missing = missing_security_headers(me.headers, https=False, authenticated=True)
    assert missing == (["X-Content-Type-Options", "Cache-Control"] if vulnerable else [])
    debug = client.get("/debug")
    kinds = {kind for kind, _ in sensitive_values(debug.text)}
    assert kinds == ({"secret", "api-key"} if vulnerable else set())
    if vulnerable:
        assert "pk_live_demo_7f3a9c2e" not in mask(debug.text)
