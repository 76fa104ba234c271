"""The trainer's words for a run: counts agree with their number (« 1 compte créé »)."""

from __future__ import annotations

from typing import Any

from edusim.scenario.render import run_text


def _run(**counts: int) -> dict[str, Any]:
    return {
        "id": 4,
        "kind": "nightly",
        "status": "succeeded",
        "cutoff": "2026-09-02T04:00:00+00:00",
        "counts": counts,
    }


def test_one_is_singular_and_more_plural() -> None:
    one = run_text(_run(created=1, proposals_added=1, links_removed=1, deactivated=1, excluded=1))
    assert one == (
        "synchronisation de la nuit n°4 (changements jusqu'au 02/09 06:00): 1 compte créé, "
        "1 exclu, 1 enfant proposé, 1 lien retiré, 1 compte désactivé"
    )
    many = run_text(_run(created=2, matched=3, deactivation_pending=2, restored=2))
    assert many.endswith(
        ": 2 comptes créés, 3 rapprochés d'un compte existant, 2 désactivations en attente, "
        "2 comptes rétablis"
    )
    assert "(s)" not in one + many


def test_nothing_to_change_counts_the_responsables_sent() -> None:
    assert run_text(_run(responsables_sent=1)).endswith("1 responsable envoyé, rien à changer")
    assert run_text(_run(responsables_sent=5)).endswith("5 responsables envoyés, rien à changer")
    assert run_text(_run()).endswith("0 responsable envoyé, rien à changer")
