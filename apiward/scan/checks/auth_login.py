"""API2: login and sign-up weaknesses: user enumeration, no lockout, weak passwords.

Only the enumeration check sends a wrong password for a configured identity,
once: the lockout check hammers a throwaway account it registers itself, so the
identities the scan uses are never locked out.
"""

from __future__ import annotations

import secrets

from apiward.core import Owasp, Severity
from apiward.scan.check import Issue, Phase, check
from apiward.scan.checks.auth_common import normalized
from apiward.scan.checks.auth_flows import (
    LoginForm,
    login_form,
    register,
    signup_operation,
    strong_password,
)
from apiward.scan.context import ScanContext
from apiward.scan.http import Exchange

__all__ = ["login_no_lockout", "login_user_enumeration", "weak_password_accepted"]

_GUESSES = 12  # more than any lockout threshold worth the name (3 to 10)
_LOCKED = (423, 429)
_WEAK_PASSWORDS = ("1", "123456")


def _unknown_name(known: str) -> str:
    tag = secrets.token_hex(4)
    return f"apiward.nobody.{tag}@example.com" if "@" in known else f"apiward_nobody_{tag}"


def _wrong_password() -> str:
    return f"Wrong-Passw0rd-{secrets.token_hex(4)}"


@check(
    "login-user-enumeration",
    title="Login tells whether an account exists",
    category=Owasp.API2,
    cwe=204,
    severity=Severity.MEDIUM,
    remediation=(
        "Answer a failed login the same way whether the account exists or not: same status, "
        "same message, same headers (and about the same time: check a dummy hash for unknown "
        "users)."
    ),
)
async def login_user_enumeration(ctx: ScanContext) -> None:
    """Logs in with a wrong password as two made-up users and as a configured identity.

    The login operation and a real username come from the identities' login flow
    (or an operation that looks like login). It fires when the real user's answer
    differs from the made-up users' (which must agree with each other): another
    status, or a body that differs once times, ids and the echoed name are blanked.
    The configured identity gets one wrong password, far below any lockout.
    """
    form = login_form(ctx)
    known = form.known_name if form else None
    if form is None or known is None:
        return
    wrong = _wrong_password()
    first, second = _unknown_name(known), _unknown_name(known)
    unknown = await form.attempt(ctx, first, wrong)
    real = await form.attempt(ctx, known, wrong)
    again = await form.attempt(ctx, second, wrong)
    answers = (unknown, real, again)
    if any(a.status in (0, *_LOCKED) for a in answers) or form.logged_in(real):
        return  # throttled, unreachable or a wrong password accepted: nothing to compare
    if unknown.status != again.status:
        return
    if real.status != unknown.status:
        how, confidence = (
            f"{real.status} for an existing user, {unknown.status} otherwise",
            "certain",
        )
    else:
        if normalized(unknown, first, wrong) != normalized(again, second, wrong):
            return  # the answer varies by itself: no oracle to trust
        if normalized(real, known, wrong) == normalized(unknown, first, wrong):
            return
        how, confidence = "a different message for an existing user", "firm"
    ctx.report(
        Issue(
            f"{form.op.key} answers a wrong password with {how}: anyone can test which "
            "accounts exist",
            operation=form.op,
            exchanges=[unknown, real],
            identity=ctx.anonymous.name,
            confidence=confidence,
            notes=["a user that does not exist", "an existing user, wrong password"],
        )
    )


@check(
    "login-no-lockout",
    title="Unlimited password guesses on an account",
    category=Owasp.API2,
    cwe=307,
    severity=Severity.MEDIUM,
    remediation=(
        "Slow down or lock an account after a few failed logins (e.g. 5 in 15 minutes), and "
        "limit login attempts per client; answer 429 with Retry-After while locked."
    ),
    phase=Phase.NOISY,
)
async def login_no_lockout(ctx: ScanContext) -> None:
    """Registers a throwaway account, guesses its password 12 times, then logs in right.

    Needs a sign-up operation (it never targets a configured identity); the
    account must log in once before the guesses. It fires when the right password
    still logs in after the wrong ones and no 423/429 came back: an attacker can
    guess without limit.
    """
    form, signup = login_form(ctx), signup_operation(ctx)
    if form is None or signup is None or ctx.client.remaining < _GUESSES + 5:
        return
    account = await register(ctx, signup, strong_password())
    name = account.login_name(form) if account else None
    if account is None or not account.created or name is None:
        return
    first = await form.attempt(ctx, name, account.password)
    if not form.logged_in(first):
        return  # e.g. the account needs its email verified first
    last: Exchange | None = None
    for _ in range(_GUESSES):
        last = await form.attempt(ctx, name, _wrong_password())
        if last.status in (0, *_LOCKED) or form.logged_in(last):
            return
    final = await form.attempt(ctx, name, account.password)
    if not form.logged_in(final) or last is None:
        return
    ctx.report(
        Issue(
            f"{form.op.key}: after {_GUESSES} wrong passwords in a row, the right one still "
            "logged in, and nothing was slowed down or locked",
            operation=form.op,
            exchanges=[final, last, account.answer],
            identity=ctx.anonymous.name,
            confidence="certain",
            notes=[
                "the right password, after the wrong ones",
                f"the last of {_GUESSES} wrong passwords",
                "the throwaway account the check registered",
            ],
        )
    )


@check(
    "weak-password-accepted",
    title="Sign-up accepts a trivial password",
    category=Owasp.API2,
    cwe=521,
    severity=Severity.MEDIUM,
    remediation=(
        "Require passwords of at least 8 (better 12) characters and refuse common and breached "
        "ones (NIST SP 800-63B), in the API itself, not only in the web form."
    ),
    phase=Phase.WRITE,
)
async def weak_password_accepted(ctx: ScanContext) -> None:
    """Signs up throwaway accounts with the passwords "1", then "123456".

    It fires when the sign-up operation accepts one (2xx, not an error in
    disguise) and, when a login operation is known, the new account logs in with
    it: then the account really has that password.
    """
    signup = signup_operation(ctx)
    if signup is None:
        return
    form = login_form(ctx)
    for password in _WEAK_PASSWORDS:
        account = await register(ctx, signup, password)
        if account is None or account.answer.status in (0, *_LOCKED):
            return
        if not account.created:
            continue
        exchanges = [account.answer]
        proved = await _logs_in(ctx, form, account.login_name(form) if form else None, password)
        if form is not None and proved is None:
            return  # signed up, yet cannot log in: maybe not with that password after all
        if proved is not None:
            exchanges.append(proved)
        ctx.report(
            Issue(
                f"{signup.key} accepted the password {password!r} ({_characters(password)})"
                + (" and the new account logs in with it" if proved else ""),
                operation=signup,
                exchanges=exchanges,
                identity=ctx.anonymous.name,
                confidence="certain" if proved else "firm",
                notes=["sign-up with a trivial password", "login with it"],
            )
        )
        return


def _characters(text: str) -> str:
    return f"{len(text)} character{'s' if len(text) != 1 else ''}"


async def _logs_in(
    ctx: ScanContext, form: LoginForm | None, name: str | None, password: str
) -> Exchange | None:
    if form is None or name is None:
        return None
    answer = await form.attempt(ctx, name, password)
    return answer if form.logged_in(answer) else None
