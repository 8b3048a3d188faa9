"""Secrets made on first run: many instances starting at once all read the one whole secret,
and a secret file left empty or short stops the start instead of weakening every seal."""

from __future__ import annotations

import hashlib
import multiprocessing
import os
import stat
from multiprocessing.synchronize import Barrier
from pathlib import Path

import pytest

from civicstack.config import Settings
from civicstack.kit.appservices import AppServices
from civicstack.kit.secrets import UnusableSecret, load_or_create_secret

STARTS = 50
# A secret this long keeps its writer busy for milliseconds, as a slow disk or a busy machine
# does: the others arrive while it is being written.
LONG_SECRET_BYTES = 4_000_000


def _first_start(data_dir: Path, everyone_ready: Barrier, answers: multiprocessing.Queue[str],
                 ) -> None:
    everyone_ready.wait()  # all at once, as when every worker of a new deployment starts
    try:
        secret = load_or_create_secret(data_dir, "session-key", LONG_SECRET_BYTES)
    except UnusableSecret as exc:
        answers.put(f"refused: {exc}")
        return
    answers.put(hashlib.sha256(secret.encode()).hexdigest() if secret else "empty")


def test_simultaneous_first_starts_all_read_the_same_whole_secret(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    everyone_ready = context.Barrier(STARTS)
    answers: multiprocessing.Queue[str] = context.Queue()
    starts = [context.Process(target=_first_start, args=(tmp_path, everyone_ready, answers))
              for _ in range(STARTS)]
    for start in starts:
        start.start()
    read = [answers.get(timeout=60) for _ in starts]
    for start in starts:
        start.join()
    assert "empty" not in read
    assert len(set(read)) == 1, sorted(set(read))
    stored = (tmp_path / "secrets" / "session-key").read_bytes()
    assert read[0] == hashlib.sha256(stored).hexdigest()
    assert [p.name for p in (tmp_path / "secrets").iterdir()] == ["session-key"]  # no leftovers


def test_the_secret_and_its_folder_are_the_owners_alone(tmp_path: Path) -> None:
    load_or_create_secret(tmp_path, "totp-key")
    assert stat.S_IMODE(os.stat(tmp_path / "secrets").st_mode) == 0o700
    assert stat.S_IMODE(os.stat(tmp_path / "secrets" / "totp-key").st_mode) == 0o600


@pytest.mark.parametrize("stored", ["", "\n", "short-secret"])
def test_an_empty_or_short_secret_stops_the_start_with_a_clear_message(
        tmp_path: Path, stored: str) -> None:
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "apikey-pepper").write_text(stored)
    with pytest.raises(UnusableSecret, match=r"apikey-pepper has .* fewer than 32: refusing"):
        AppServices.start(Settings(data_dir=tmp_path, database_url="sqlite://"))
