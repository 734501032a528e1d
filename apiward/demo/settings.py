"""What a demo instance is configured with: its mode, secrets and limits."""

from __future__ import annotations

from dataclasses import dataclass, field

#: The vulnerable mode's HMAC key: the first word of every JWT secret wordlist.
WEAK_JWT_SECRET = b"secret"

#: Where the partner merchant feed lives unless configured. On loopback (port 9, discard:
#: refused at once) so that an unconfigured sync never sends traffic off this machine.
DEFAULT_PARTNER_FEED = "http://127.0.0.1:9/merchants.json"


@dataclass(frozen=True, slots=True)
class Settings:
    """One demo instance's configuration. ``secure`` switches every planted flaw off.

    ``jwt_secret`` defaults to :data:`WEAK_JWT_SECRET` in vulnerable mode and to 32
    random bytes in secure mode; tests pass one to mint tokens the server accepts.
    """

    secure: bool = False
    jwt_secret: bytes | None = field(default=None, repr=False)
    partner_feed_url: str = DEFAULT_PARTNER_FEED
    avatar_hosts: frozenset[str] = frozenset({"images.demobank.example"})
    cors_origins: tuple[str, ...] = ("http://localhost:3000",)
    token_ttl: int = 900
    max_body_bytes: int = 64 * 1024
    max_page_size: int = 100
    # secure-mode bursts, per client address (login, signup) or per user (transfers)
    login_burst: int = 10
    signup_burst: int = 3
    transfer_burst: int = 5
    burst_window: float = 60.0
    lockout_failures: int = 5
    lockout_seconds: float = 300.0
