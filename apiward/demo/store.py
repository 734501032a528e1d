"""The demo bank's in-memory state: users, accounts, transfers, password-reset tokens.

Everything is reset to the seed by :meth:`Store.reset` (``POST /admin/reset``), so
a scanner or a test can start each probe from the same known state.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass, field
from decimal import Decimal

# low on purpose: the demo hashes on every login and a test suite logs in a lot
_ITERATIONS = 10_000
SIGNUP_BONUS = Decimal("10.00")


@dataclass(frozen=True, slots=True)
class SeedUser:
    """A user every fresh instance has, with a known password (listed in the manifest)."""

    id: int
    username: str
    password: str
    role: str
    email: str
    display_name: str
    ssn: str


SEED_USERS = (
    SeedUser(
        1, "alice", "Alice-Passw0rd!", "user", "alice@demobank.example", "Alice", "123-45-6789"
    ),
    SeedUser(2, "bob", "Bob-Passw0rd!!", "user", "bob@demobank.example", "Bob", "987-65-4321"),
    SeedUser(
        3, "admin", "Admin-Passw0rd!", "admin", "admin@demobank.example", "Admin", "555-01-0001"
    ),
)
# (account id, owner id, nickname, balance)
SEED_ACCOUNTS = (
    (1, 1, "checking", "2500.00"),
    (2, 1, "savings", "10000.00"),
    (3, 2, "checking", "1200.00"),
    (4, 3, "operations", "50000.00"),
)


def hash_password(password: str) -> str:
    salt = secrets.token_hex(8)
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), _ITERATIONS)
    return f"pbkdf2_sha256${_ITERATIONS}${salt}${digest.hex()}"


def check_password(password: str, stored: str) -> bool:
    _, iterations, salt, expected = stored.split("$")
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), int(iterations))
    return hmac.compare_digest(digest.hex(), expected)


@dataclass(slots=True)
class User:
    id: int
    username: str
    email: str
    password_hash: str
    role: str
    ssn: str
    display_name: str
    failed_logins: int = 0
    locked_until: float = 0.0
    avatar: bytes | None = field(default=None, repr=False)
    avatar_type: str = "application/octet-stream"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


@dataclass(slots=True)
class Account:
    id: int
    owner_id: int
    iban: str
    nickname: str
    balance: Decimal
    currency: str = "EUR"


@dataclass(frozen=True, slots=True)
class Transfer:
    id: int
    from_account: int
    to_account: int
    amount: Decimal
    memo: str
    created_at: float


class Store:
    """All mutable state of one demo instance."""

    def __init__(self) -> None:
        self.users: dict[int, User] = {}
        self.accounts: dict[int, Account] = {}
        self.transfers: list[Transfer] = []
        self.reset_tokens: dict[str, tuple[int, float]] = {}
        # secure mode "emails" reset tokens: they land here, never in a response
        self.outbox: list[tuple[str, str]] = []
        self.reset()

    def reset(self) -> None:
        """Back to the seed: three users, four accounts, a page or two of transfers."""
        self.users.clear()
        self.accounts.clear()
        self.transfers.clear()
        self.reset_tokens.clear()
        self.outbox.clear()
        for seed in SEED_USERS:
            self.users[seed.id] = User(
                seed.id,
                seed.username,
                seed.email,
                hash_password(seed.password),
                seed.role,
                seed.ssn,
                seed.display_name,
            )
        for account_id, owner, nickname, balance in SEED_ACCOUNTS:
            self.accounts[account_id] = Account(
                account_id, owner, _iban(account_id), nickname, Decimal(balance)
            )
        start = time.time() - 86_400 * 30
        for i in range(15):
            source, target = (1, 3) if i % 3 else (3, 1)
            self.transfers.append(
                Transfer(
                    i + 1, source, target, Decimal(10 + i), f"invoice {i + 1}", start + i * 3600
                )
            )

    def user_by_name(self, username: str) -> User | None:
        return next((u for u in self.users.values() if u.username == username), None)

    def user_by_email(self, email: str) -> User | None:
        return next((u for u in self.users.values() if u.email == email), None)

    def add_user(self, username: str, email: str, password: str, display_name: str) -> User:
        """A new customer with a checking account holding the signup bonus."""
        user = User(
            max(self.users) + 1, username, email, hash_password(password), "user", "", display_name
        )
        self.users[user.id] = user
        account_id = max(self.accounts) + 1
        self.accounts[account_id] = Account(
            account_id, user.id, _iban(account_id), "checking", SIGNUP_BONUS
        )
        return user

    def accounts_of(self, user_id: int) -> list[Account]:
        return [a for a in self.accounts.values() if a.owner_id == user_id]

    def transfers_of(self, user_id: int) -> list[Transfer]:
        mine = {a.id for a in self.accounts_of(user_id)}
        return [t for t in self.transfers if t.from_account in mine or t.to_account in mine]

    def transfer(self, source: Account, target: Account, amount: Decimal, memo: str) -> Transfer:
        source.balance -= amount
        target.balance += amount
        record = Transfer(len(self.transfers) + 1, source.id, target.id, amount, memo, time.time())
        self.transfers.append(record)
        return record


def _iban(account_id: int) -> str:
    return f"XX00DEMO{account_id:010d}"
