"""The local broker's cluster id (no broker needed)."""

from __future__ import annotations

import base64
import uuid

from gateway.devservices.local_kafka import new_cluster_id


def test_cluster_id_never_starts_with_a_dash() -> None:
    # 0xF8 puts 62, URL-safe base64's "-", in the first character.
    dashed = uuid.UUID(bytes=b"\xf8" + bytes(15))
    plain = uuid.UUID(bytes=b"\x10" + bytes(15))
    assert base64.urlsafe_b64encode(dashed.bytes).startswith(b"-")
    given = iter([dashed, dashed, plain])

    assert new_cluster_id(lambda: next(given)) == base64.urlsafe_b64encode(plain.bytes).decode().rstrip("=")


def test_cluster_id_is_22_url_safe_characters() -> None:
    text = new_cluster_id()
    assert len(text) == 22
    assert uuid.UUID(bytes=base64.urlsafe_b64decode(text + "==")).version == 4
