"""One demo instance: its settings, state, database, tokens and rate limits."""

from __future__ import annotations

import secrets

from starlette.requests import Request

from apiward.demo.db import Database
from apiward.demo.ratelimit import Window
from apiward.demo.settings import WEAK_JWT_SECRET, Settings
from apiward.demo.store import Store
from apiward.demo.tokens import Tokens


class Demo:
    """Everything a request handler may need, hung on ``app.state.demo``."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.secure = settings.secure
        self.store = Store()
        self.db = Database()
        key = settings.jwt_secret
        if key is None:
            key = secrets.token_bytes(32) if settings.secure else WEAK_JWT_SECRET
        self.jwt_key = key
        self.tokens = Tokens(key, secure=settings.secure, ttl=settings.token_ttl)
        window = settings.burst_window
        self.login_limit = Window(settings.login_burst, window)
        self.signup_limit = Window(settings.signup_burst, window)
        self.transfer_limit = Window(settings.transfer_burst, window)

    def reset(self) -> None:
        """Seed state back, rate limits forgotten (``POST /admin/reset``)."""
        self.store.reset()
        self.db.reset()
        for limit in (self.login_limit, self.signup_limit, self.transfer_limit):
            limit.clear()


def demo(request: Request) -> Demo:
    """The instance serving ``request``."""
    instance: Demo = request.app.state.demo
    return instance
