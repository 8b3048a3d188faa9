"""Signing keys on disk: made on first use, rotated with the old ones kept for verification,
and dropped only after every token they signed has expired."""

from __future__ import annotations

import json
import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

from joserfc import jwt

from civicstack.kit.keys import KeyRing, read_keys, rotate


def test_first_use_makes_one_active_key_per_algorithm_readable_only_by_the_owner(
        tmp_path: Path) -> None:
    ring = KeyRing(tmp_path / "keys")
    published = ring.public_jwks()["keys"]
    assert sorted(k["alg"] for k in published) == ["ES256", "RS256"]
    assert all("d" not in k and k["kid"] for k in published)
    for path in (tmp_path / "keys").glob("*.json"):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600


def test_rotation_signs_with_the_new_key_and_still_verifies_the_old(tmp_path: Path) -> None:
    ring = KeyRing(tmp_path / "keys")
    old_key = ring.signing_key("ES256")
    old_token = jwt.encode({"alg": "ES256", "kid": old_key.kid}, {"sub": "a"}, old_key)
    rotation = rotate(tmp_path / "keys", keep_retired_for=timedelta(days=1))
    new_key = ring.signing_key("ES256")  # the running ring notices without a restart
    assert new_key.kid in rotation.new_kids
    assert old_key.kid in rotation.retired_kids
    assert {k["kid"] for k in ring.public_jwks()["keys"]} >= {old_key.kid, new_key.kid}
    assert jwt.decode(old_token, ring.verification_keys()).claims == {"sub": "a"}


def test_keys_retired_longer_than_the_retention_are_removed(tmp_path: Path) -> None:
    folder = tmp_path / "keys"
    first = rotate(folder, keep_retired_for=timedelta(days=1))
    _age_retirement(folder, first.new_kids, days=0)
    rotate(folder, keep_retired_for=timedelta(days=1))  # retires the first generation
    _age_retirement(folder, first.new_kids, days=2)
    third = rotate(folder, keep_retired_for=timedelta(days=1))
    assert set(third.removed_kids) == set(first.new_kids)
    assert not {k.kid for k in read_keys(folder)} & set(first.new_kids)


def _age_retirement(folder: Path, kids: tuple[str, ...], days: int) -> None:
    for kid in kids:
        path = folder / f"{kid}.json"
        document = json.loads(path.read_text())
        if document["retired_at"]:
            document["retired_at"] = (datetime.now(UTC) - timedelta(days=days)).isoformat()
            path.write_text(json.dumps(document))
