"""Small rules shared by the import, activation and console."""

from __future__ import annotations

from edusim_common.text import fold_letters
from fake_educonnect.models import AttachmentStatus

LIVE_ATTACHMENTS = frozenset(
    {AttachmentStatus.proposed, AttachmentStatus.attached, AttachmentStatus.blocked}
)
"""Attachment statuses that keep an account alive (if the child is enrolled)."""


def match_key(nom: str, prenom: str) -> str:
    """What two records of the same parent share: folded family name and first name."""
    return f"{fold_letters(nom)}|{fold_letters(prenom)}"
