"""Every runtime flaw of the manifest: present in vulnerable mode, absent in secure mode."""

from __future__ import annotations

import pytest

from apiward.demo import load_manifest
from tests.demo.proofs import PROOFS
from tests.demo.targets import Target

RUNTIME = load_manifest().runtime


def test_every_runtime_entry_has_a_proof_and_every_proof_an_entry() -> None:
    ids = {e.id for e in RUNTIME}
    assert sorted(ids - PROOFS.keys()) == [], "entries without a proof"
    assert sorted(PROOFS.keys() - ids) == [], "proofs without an entry"


@pytest.mark.parametrize("entry_id", [e.id for e in RUNTIME])
def test_flaw(entry_id: str, target: Target) -> None:
    observed = PROOFS[entry_id](target)
    assert observed == target.mode
