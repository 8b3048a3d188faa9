"""The root key every test instance is given (tests/conftest.py puts it in the environment, as a
deployment would), and the stored secrets under it for tests that build a domain's site without
an app."""

from __future__ import annotations

import tempfile
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from civicstack.kit.db import make_session_factory
from civicstack.kit.keyprovider import decode_root_key
from civicstack.kit.secrets import SecretStore

TEST_ROOT_KEY = "uSdXDUNUNtvBUrUNJIPOmJHyhpW-jn4NAWv4_Ek6jZc"
# Tests' stores adopt no older version's files: an empty folder stands for the data directory.
NO_OLDER_FILES = Path(tempfile.mkdtemp(prefix="civicstack-no-data-dir-"))


def secret_store(database: Session | sessionmaker[Session]) -> SecretStore:
    """The secrets of the test database `database` is a session (or a session factory) of."""
    factory = database if isinstance(database, sessionmaker) else \
        make_session_factory(database.get_bind().engine)
    return SecretStore(factory, decode_root_key(TEST_ROOT_KEY, "the tests"), NO_OLDER_FILES)
