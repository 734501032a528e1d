"""The SQL side of the demo: a sqlite database in memory holding the merchant directory.

It also holds the partners' API keys, which is what makes the search endpoint's
SQL injection worth something to an attacker (``UNION SELECT ... FROM partner_keys``).
"""

from __future__ import annotations

import sqlite3
import threading
from typing import Any

PARTNER_API_KEY = "pk_live_demo_7f3a9c2e"

_SEED_MERCHANTS = (
    ("Corner Coffee", "food", "Lisbon"),
    ("Book Nook", "books", "Porto"),
    ("City Grocer", "food", "Lisbon"),
    ("Metro Transit", "travel", "Lisbon"),
    ("Fresh Bakery", "food", "Braga"),
    ("Gadget Hub", "electronics", "Porto"),
    ("Green Pharmacy", "health", "Faro"),
    ("Harbor Fuel", "travel", "Faro"),
)
COLUMNS = ("id", "name", "category", "city")


class Database:
    """One in-memory sqlite connection, shared by the server's threads under a lock."""

    def __init__(self) -> None:
        self._conn = sqlite3.connect(":memory:", check_same_thread=False)
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self._conn.executescript(
                """
                DROP TABLE IF EXISTS merchants;
                DROP TABLE IF EXISTS partner_keys;
                CREATE TABLE merchants (
                    id INTEGER PRIMARY KEY, name TEXT, category TEXT, city TEXT);
                CREATE TABLE partner_keys (partner TEXT, api_key TEXT);
                """
            )
            self._conn.executemany(
                "INSERT INTO merchants (name, category, city) VALUES (?, ?, ?)", _SEED_MERCHANTS
            )
            self._conn.execute(
                "INSERT INTO partner_keys VALUES ('merchant-directory', ?)", (PARTNER_API_KEY,)
            )
            self._conn.commit()

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        with self._lock:
            return self._conn.execute(sql, params).fetchall()

    def execute(self, sql: str, params: tuple[Any, ...] = ()) -> None:
        with self._lock:
            self._conn.execute(sql, params)
            self._conn.commit()
