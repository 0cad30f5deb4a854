"""Tags compare without case: ``Work``, ``work`` and ``#WORK`` are one tag.

An account holds one spelling per tag: the first one written (the facade maps
every later spelling onto it, :meth:`~trace_core.ports.EntryRepository.tag_spellings`
finds it), so lists show one row per tag and filters match whatever the case.
"""

from __future__ import annotations

import unicodedata

__all__ = ["tag_key"]


def tag_key(tag: str) -> str:
    """Return the name two spellings of one tag share: NFC, case-folded, no ``#``."""
    text = unicodedata.normalize("NFC", tag.strip()).removeprefix("#").strip()
    return text.casefold()
