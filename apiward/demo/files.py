"""A pretend file system for statements: path traversal without touching the real disk.

Paths are resolved like the OS would (``..``, absolute paths), but the files are
these few strings, so ``../../../../etc/passwd`` gives the classic signal safely.
"""

from __future__ import annotations

import posixpath

from apiward.demo.db import PARTNER_API_KEY
from apiward.demo.settings import WEAK_JWT_SECRET

STATEMENTS = "/srv/demobank/statements"

_FILES = {
    f"{STATEMENTS}/alice/2024-01.txt": "2024-01, alice\nOpening 2400.00\nClosing 2500.00\n",
    f"{STATEMENTS}/alice/2024-02.txt": "2024-02, alice\nOpening 2500.00\nClosing 2500.00\n",
    f"{STATEMENTS}/bob/2024-01.txt": "2024-01, bob\nOpening 1000.00\nClosing 1200.00\n",
    "/srv/demobank/config/settings.env": (
        f"JWT_SECRET={WEAK_JWT_SECRET.decode()}\nDATABASE_URL=sqlite:///:memory:\n"
        f"PARTNER_API_KEY={PARTNER_API_KEY}\n"
    ),
    "/etc/passwd": (
        "root:x:0:0:root:/root:/bin/bash\n"
        "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
        "www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\n"
    ),
    "/etc/hostname": "demobank\n",
}


def read_file(path: str, cwd: str = "/") -> str | None:
    """The content at ``path`` (relative to ``cwd``), or None."""
    return _FILES.get(posixpath.normpath(posixpath.join(cwd, path)))


def statements_of(username: str) -> list[str]:
    prefix = f"{STATEMENTS}/{username}/"
    return sorted(p.removeprefix(prefix) for p in _FILES if p.startswith(prefix))
