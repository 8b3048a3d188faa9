"""The data directory is the service's own: another account on the machine reads none of the
database, the mailbox's codes, the ledger, the keys, the secrets or the face gallery."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import numpy as np
from sqlalchemy.engine import make_url

from civicstack.biometrics.faces import EMBEDDING_SIZE
from civicstack.biometrics.gallery import Gallery
from civicstack.services.site import PAYMENTS, RESULT_SIGNER
from tests.support.uploads import PDF
from tests.support.web import make_site


def mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_the_data_directory_and_every_file_the_app_writes_there_are_the_owners_alone(
        database_url: str, tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    data_dir.chmod(0o755)  # as an older version left it
    (data_dir / "mailbox").mkdir(mode=0o755)
    (data_dir / "mailbox" / "0912345678.txt").write_text("an older code\n")
    os.chmod(data_dir / "mailbox" / "0912345678.txt", 0o644)

    site = make_site(database_url, data_dir)
    site.services.channels["sms"].deliver("0912345678", "Ma xac thuc", "123456")
    site.services.channels["sms"].deliver("0987654321", "Ma xac thuc", "654321")
    site.services[PAYMENTS].charge("001090012345", 10_000, "a fee", "dossier:TEST:fee:1")
    site.services[RESULT_SIGNER].sign("so-tu-phap", "Sở Tư pháp", PDF)
    assert site.client.get("/oidc/jwks").status_code == 200
    gallery = Gallery(data_dir / "biometrics" / "gallery.faiss")
    gallery.add(1, np.ones(EMBEDDING_SIZE, dtype=np.float32))
    gallery.save()

    assert mode(data_dir) == 0o700
    written = list(data_dir.rglob("*"))
    assert {p.relative_to(data_dir).parts[0] for p in written} >= {
        "mailbox", "treasury", "biometrics"}
    assert {str(p.relative_to(data_dir)): mode(p) for p in written} == {
        str(p.relative_to(data_dir)): 0o700 if p.is_dir() else 0o600 for p in written}
    database = make_url(database_url).database
    if database_url.startswith("sqlite") and database:
        assert mode(Path(database)) == 0o600
