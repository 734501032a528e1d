"""A deliberately vulnerable bank API to learn on, and the ground truth for apiward's tools.

``create_app(secure=False)`` builds it (``secure=True``: every planted flaw fixed),
:func:`serve` runs it on loopback in a background thread, :func:`run` in the
foreground, and :func:`load_manifest` lists every planted flaw with its proof.
Never expose the vulnerable mode beyond 127.0.0.1.
"""

from apiward.demo.app import create_app
from apiward.demo.manifest import Entry, Manifest, demo_file, load_manifest
from apiward.demo.server import run, serve, serve_app
from apiward.demo.settings import Settings
from apiward.demo.truth import RuntimeMatch, match_runtime_entries

__all__ = [
    "Entry",
    "Manifest",
    "RuntimeMatch",
    "Settings",
    "create_app",
    "demo_file",
    "load_manifest",
    "match_runtime_entries",
    "run",
    "serve",
    "serve_app",
]
