"""Password storage (argon2id) and the refusal of weak passwords.

Parameters are OWASP's argon2id baseline: 19 MiB, 2 passes, 1 lane. RFC 9106's 64 MiB x 3
costs ~215 ms per sign-in on our 2-vCPU reference machine (4.7 sign-ins/s per core), too slow
for a national front door; this choice gives ~7x the capacity (docs/benchmarks.md). One lane
keeps a sign-in on one core, so capacity scales with cores. Stored hashes carry their
parameters, and `needs_rehash` upgrades them at the next sign-in if these change.

Hashes wait for one of a few slots, one per core by default: the web server runs sign-ins in
its thread pool (40 threads), and argon2 releases the interpreter lock, so a surge would run
dozens of 19 MiB hashes on two cores at once, each evicting the others' memory from the cache:
11 % fewer sign-ins per CPU-second at 8 concurrent users than one at a time (docs/benchmarks.md).
"""

from __future__ import annotations

import os
from functools import lru_cache
from threading import BoundedSemaphore

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from civicstack.config import get_settings
from civicstack.kit.i18n import N_, Message
from civicstack.kit.text import fold

SLOTS_VARIABLE = "CIVICSTACK_PASSWORD_HASHING_SLOTS"
MIN_LENGTH = 10
MAX_LENGTH = 128
# Local favourites that the leaked-password corpus below under-represents.
COMMON = frozenset({
    "123456789", "1234567890", "12345678910", "password", "password1", "password123",
    "qwertyuiop", "qwerty123", "1q2w3e4r5t", "iloveyou", "abc123456", "0123456789",
    "matkhau123", "matkhau", "vietnam123", "anhyeuem", "anhyeuem123", "hanoi123", "saigon123",
    "1111111111", "0000000000", "1234512345", "abcdefghij", "passw0rd", "admin12345",
})


@lru_cache(maxsize=1)
def breached() -> frozenset[str]:
    """The 30,000 most used passwords of public breach corpora (zxcvbn's list, shipped in the
    package: nothing is fetched at run time), with our local favourites."""
    from zxcvbn.frequency_lists import FREQUENCY_LISTS

    return frozenset(FREQUENCY_LISTS["passwords"]) | COMMON


def _leaked(folded: str) -> bool:
    """A breached password, or one with digits and symbols stuck on ("sunshine1990!")."""
    base = folded.rstrip("0123456789!@#$%^&*.?_-")
    return folded in breached() or (len(base) >= 4 and base in breached())


@lru_cache(maxsize=1)
def hasher() -> PasswordHasher:
    return PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1, hash_len=32,
                          salt_len=16, type=Type.ID)


def cores() -> int:
    """The cores this process may run on (a container's or taskset's share, not the host's)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def share_cores_among(processes: int) -> None:
    """Before `processes` serving processes start on this machine: each gets its share of the
    cores as hashing slots (at least one), unless the deployment chose a number. Each process
    counting every core as its own would run processes x cores hashes at once."""
    if processes > 1 and not get_settings().password_hashing_slots:
        os.environ[SLOTS_VARIABLE] = str(max(1, cores() // processes))
        get_settings.cache_clear()


@lru_cache(maxsize=1)
def hashing_slots() -> BoundedSemaphore:
    return BoundedSemaphore(get_settings().password_hashing_slots or cores())


def hash_password(password: str) -> str:
    with hashing_slots():
        return hasher().hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    try:
        with hashing_slots():
            return hasher().verify(stored_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return hasher().check_needs_rehash(stored_hash)


def weakness(password: str, personal: list[str]) -> str | None:
    """Why this password must be refused, or None. `personal` holds the owner's ID number,
    birth date and names: a password built from them is guessed first."""
    if not MIN_LENGTH <= len(password) <= MAX_LENGTH:
        return Message(N_("use between %(least)d and %(most)d characters"),
                       least=MIN_LENGTH, most=MAX_LENGTH)
    folded = fold(password).replace(" ", "")
    if _leaked(folded) or len(set(folded)) < 4:
        return Message(N_("this password is too common or appears in leaked password lists"))
    for fact in personal:
        token = fold(fact).replace(" ", "").replace("-", "")
        if len(token) >= 4 and token in folded:
            return Message(N_("do not build the password from your name, birth date or ID "
                              "number"))
    return None
