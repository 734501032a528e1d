"""Sign-up, login and password reset."""

from __future__ import annotations

import secrets
import time

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from apiward.demo import validate
from apiward.demo.http import ApiError, client_key, read_json, throttle
from apiward.demo.state import demo
from apiward.demo.store import check_password, hash_password
from apiward.demo.views import user_json

RESET_TTL = 900.0
# compared against when the user does not exist, so both paths cost one hash
_DUMMY_HASH = hash_password("not-a-real-password")


async def register(request: Request) -> Response:
    instance = demo(request)
    secure = instance.secure
    throttle(instance, instance.signup_limit, client_key(request))
    data = await read_json(request)
    username = validate.text(data, "username", secure=secure, max_len=32, pattern=validate.USERNAME)
    email = validate.text(data, "email", secure=secure, max_len=254, pattern=validate.EMAIL)
    password = validate.password(data, "password", secure=secure)
    display_name = validate.text(data, "display_name", secure=secure, max_len=64, default=username)
    if instance.store.user_by_name(username) is not None:
        raise ApiError(409, "username is taken")
    user = instance.store.add_user(username, email, password, display_name)
    return JSONResponse(user_json(user, secure=secure), status_code=201)


async def login(request: Request) -> Response:
    instance = demo(request)
    settings = instance.settings
    throttle(instance, instance.login_limit, client_key(request))
    data = await read_json(request)
    username = validate.text(data, "username", secure=instance.secure, max_len=64)
    password = validate.text(data, "password", secure=instance.secure, max_len=128)
    user = instance.store.user_by_name(username)
    if not instance.secure:
        # two different answers: a free oracle for which usernames exist
        if user is None:
            raise ApiError(404, "no such user")
        if not check_password(password, user.password_hash):
            user.failed_logins += 1
            raise ApiError(401, "wrong password")
        return _token(instance.tokens.issue(user), settings.token_ttl)
    now = time.time()
    if user is not None and user.locked_until > now:
        raise ApiError(429, "too many failed attempts, try again later", {"Retry-After": "300"})
    valid = check_password(password, user.password_hash if user else _DUMMY_HASH)
    if user is None or not valid:
        if user is not None:
            user.failed_logins += 1
            if user.failed_logins >= settings.lockout_failures:
                user.locked_until = now + settings.lockout_seconds
        raise ApiError(401, "invalid username or password")
    user.failed_logins = 0
    return _token(instance.tokens.issue(user), settings.token_ttl)


def _token(token: str, ttl: int) -> Response:
    return JSONResponse({"access_token": token, "token_type": "Bearer", "expires_in": ttl})


async def password_reset(request: Request) -> Response:
    instance = demo(request)
    throttle(instance, instance.signup_limit, client_key(request))
    data = await read_json(request)
    email = validate.text(data, "email", secure=instance.secure, max_len=254)
    user = instance.store.user_by_email(email)
    token = secrets.token_urlsafe(24)
    if user is not None:
        instance.store.reset_tokens[token] = (user.id, time.time() + RESET_TTL)
    body: dict[str, str] = {"status": "if the address is registered, a reset link is on its way"}
    if user is not None:
        instance.store.outbox.append((user.email, token))
        if not instance.secure:
            # left in from debugging the mailer: the token that should only go by email
            body["reset_token"] = token
    return JSONResponse(body, status_code=202)


async def password_reset_confirm(request: Request) -> Response:
    instance = demo(request)
    data = await read_json(request)
    token = validate.text(data, "token", secure=instance.secure, max_len=64)
    new_password = validate.password(data, "new_password", secure=instance.secure)
    user_id, expires = instance.store.reset_tokens.pop(token, (0, 0.0))
    user = instance.store.users.get(user_id)
    if user is None or expires < time.time():
        raise ApiError(400, "invalid or expired reset token")
    user.password_hash = hash_password(new_password)
    user.failed_logins, user.locked_until = 0, 0.0
    return Response(status_code=204)


def routes(secure: bool) -> list[BaseRoute]:
    return [
        Route("/auth/register", register, methods=["POST"]),
        Route("/auth/login", login, methods=["POST"]),
        Route("/auth/password-reset", password_reset, methods=["POST"]),
        Route("/auth/password-reset/confirm", password_reset_confirm, methods=["POST"]),
    ]
