"""The reason an official or a citizen gives for an act: spaces collapsed, cut to what its
column holds, and refused when it is too short to mean anything."""

from __future__ import annotations

from civicstack.kit.errors import Invalid

MIN_REASON_LENGTH = 5


def stated_reason(text: str, *, max_length: int, required: bool = True) -> str:
    cleaned = " ".join(text.split())[:max_length]
    if required and len(cleaned) < MIN_REASON_LENGTH:
        raise Invalid("reason", "give a reason of at least 5 characters")
    return cleaned
