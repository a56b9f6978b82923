"""Pseudonymous subject keys: a keyed hash of the national person reference.

The key orders one person's events on the canonical topic without carrying the national identifier. It is
an HMAC so that nobody without the deployment's secret can compute it from a known identifier.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable


def pseudonymiser(secret: bytes, member_state: str) -> Callable[[str], str]:
    """A function from national person reference to subject key, for one Member State and secret."""
    prefix = f"{member_state}:".encode()
    cache: dict[str, str] = {}

    def key(person_ref: str) -> str:
        # Stories repeat a person across many records; the cache saves the HMAC on each repeat.
        found = cache.get(person_ref)
        if found is None:
            found = hmac.new(secret, prefix + person_ref.encode(), hashlib.sha256).hexdigest()[:32]
            if len(cache) < 100_000:
                cache[person_ref] = found
        return found

    return key
