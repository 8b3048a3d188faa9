"""The root key every test instance is given (tests/conftest.py puts it in the environment, as a
deployment would), and the stored secrets under it for tests that build a domain's site without
an app."""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from civicstack.kit.db import make_session_factory
from civicstack.kit.keyprovider import decode_root_key
from civicstack.kit.secrets import SecretStore

TEST_ROOT_KEY = "uSdXDUNUNtvBUrUNJIPOmJHyhpW-jn4NAWv4_Ek6jZc"
# Tests' stores adopt no older version's files: an empty folder stands for the data directory.
# The process that makes it removes it when it ends; the processes it starts (pytest-xdist's
# workers, the scripts a test runs and may kill) are handed the same folder in the environment,
# so that none of them leaves one behind.
_NO_OLDER_FILES_VARIABLE = "CIVICSTACK_TEST_NO_DATA_DIR"
if os.environ.get(_NO_OLDER_FILES_VARIABLE):
    NO_OLDER_FILES = Path(os.environ[_NO_OLDER_FILES_VARIABLE])
else:
    NO_OLDER_FILES = Path(tempfile.mkdtemp(prefix="civicstack-no-data-dir-"))
    os.environ[_NO_OLDER_FILES_VARIABLE] = str(NO_OLDER_FILES)
    atexit.register(shutil.rmtree, NO_OLDER_FILES, ignore_errors=True)


def secret_store(database: Session | sessionmaker[Session]) -> SecretStore:
    """The secrets of the test database `database` is a session (or a session factory) of."""
    factory = database if isinstance(database, sessionmaker) else \
        make_session_factory(database.get_bind().engine)
    return SecretStore(factory, decode_root_key(TEST_ROOT_KEY, "the tests"), NO_OLDER_FILES)
