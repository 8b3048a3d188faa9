"""The running system's long-lived objects in one typed place: what every domain shares
(settings, the database, the stored secrets and signing keys with the root key that seals
them, the secrets that seal and pepper, the message channels, the limiters
and the refusals tallied but not yet shared, the worker's jobs) and what each domain provides
at install time under a typed key of its own."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Annotated, Any, Generic, TypeVar, cast

from fastapi import Depends, FastAPI, Request
from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from civicstack.config import Settings
from civicstack.kit import keys
from civicstack.kit.db import (
    ServingLimits,
    make_engine,
    make_session_factory,
    read_only_session_factory,
)
from civicstack.kit.delivery import channels_from
from civicstack.kit.keyprovider import key_provider
from civicstack.kit.outbox import DeliveryChannel
from civicstack.kit.private_files import private_folder
from civicstack.kit.ratelimit import FailureLimiter
from civicstack.kit.secrets import SecretStore
from civicstack.kit.tally import Tally, flush

T = TypeVar("T")
PEPPER = "apikey-pepper"
TOTP_KEY = "totp-key"
logger = logging.getLogger(__name__)
keys.declare_secret(PEPPER)
keys.declare_secret(TOTP_KEY)


@dataclass(frozen=True)
class ServiceKey(Generic[T]):
    """Names one domain's long-lived object; `services[KEY]` is typed as the object's type."""

    name: str


class JobReach(Enum):
    """Where a job runs, and how many copies at once."""

    # In the worker (or the app, where jobs_in_app), one instance at a time: an advisory lock
    # makes a second instance skip it while the first runs.
    SITE = "site"
    # In the worker, on every instance at once: the job claims its own rows (SKIP LOCKED).
    SITE_CONCURRENT = "site, concurrent"
    # In every process, for what that process holds in memory (its refusal tallies).
    PROCESS = "process"


@dataclass
class Job:
    """A background job the worker runs every `every_s` seconds, outside any request."""

    name: str
    every_s: float
    run: Callable[[AppServices], object]
    reach: JobReach = JobReach.SITE
    due_at: float = 0.0


@dataclass(eq=False)
class AppServices:
    settings: Settings
    engine: Engine
    session_factory: sessionmaker[Session]
    secrets: SecretStore  # every instance's same secrets and signing keys (kit/secrets.py)
    channels: dict[str, DeliveryChannel]  # the outbox's channels by name ("sms", "email")
    # Reads that may be stale, on the read replica when one is set (kit/db.py).
    read_session_factory: sessionmaker[Session]
    limiters: dict[str, FailureLimiter] = field(default_factory=dict)
    tallies: dict[str, Tally] = field(default_factory=dict)
    jobs: list[Job] = field(default_factory=list)
    shutdown_hooks: list[Callable[[AppServices], None]] = field(default_factory=list)
    # Paths whose handler reads the browser session in its own transaction (kit/websession.py).
    sessions_read_by_handler: set[str] = field(default_factory=set)
    _factories: dict[ServiceKey[Any], Callable[[AppServices], Any]] = field(default_factory=dict)
    _built: dict[ServiceKey[Any], Any] = field(default_factory=dict)

    @classmethod
    def start(cls, settings: Settings) -> AppServices:
        private_folder(settings.data_dir)
        limits = ServingLimits.from_settings(settings)
        engine = make_engine(settings.resolved_database_url, limits)
        secrets = SecretStore(make_session_factory(engine), key_provider(settings),
                              settings.data_dir)
        try:
            # A wrong root key stops the start here; the first secret is made (or read) by
            # one instance for all, before any other.
            secrets.check_root_key()
            secrets.secret(PEPPER)
            keys.provision(secrets)
        except OperationalError:
            # The database may come up after the server (503s until then): the same checks
            # are made when a secret is first read, each record's root key before it opens.
            logger.warning("database unreachable at start: root key not yet checked")
        return cls(settings, engine, secrets.factory, secrets, channels_from(settings),
                   read_only_session_factory(engine, settings.resolved_read_replica_url, limits))

    @property
    def pepper(self) -> str:
        """Operator keys and one-time codes are stored as HMACs under it."""
        return self.secrets.secret(PEPPER)

    @property
    def totp_key(self) -> str:
        """Seals the authenticator secrets."""
        return self.secrets.secret(TOTP_KEY)

    def flush_tallies(self) -> int:
        """Add this process's pending refusal counts to the shared ones (kit/tally)."""
        return flush(list(self.tallies.values()), self.session_factory)

    def provide(self, key: ServiceKey[T], factory: Callable[[AppServices], T]) -> None:
        """Made at first use, once: a CLI command that never needs it never pays for it."""
        if key in self._factories:
            raise ValueError(f"{key.name} is provided twice")
        self._factories[key] = factory

    def __getitem__(self, key: ServiceKey[T]) -> T:
        if key not in self._built:
            self._built[key] = self._factories[key](self)
        return cast(T, self._built[key])

    def __setitem__(self, key: ServiceKey[T], value: T) -> None:
        """Put another object behind a key (a test's stricter payment channel, as FastAPI's
        dependency_overrides do for dependencies)."""
        self._built[key] = value

    def built(self, key: ServiceKey[T]) -> T | None:
        """The object if something already made it (a shutdown must not build one to save)."""
        return cast(T | None, self._built.get(key))


def open_secret_store(settings: Settings, factory: sessionmaker[Session]) -> SecretStore:
    """The stored secrets under the deployment's root key; an instance given another root key
    than the one everything was sealed under refuses to start here (WrongRootKey)."""
    store = SecretStore(factory, key_provider(settings), settings.data_dir)
    store.check_root_key()
    keys.provision(store)
    return store


def services_of(app: FastAPI) -> AppServices:
    services: AppServices = app.state.services
    return services


async def app_services(request: Request) -> AppServices:
    # async: a sync dependency would cost a thread hop of its own, for an attribute's read.
    return services_of(request.app)


Services = Annotated[AppServices, Depends(app_services)]
