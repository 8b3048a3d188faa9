"""The running system's long-lived objects in one typed place: what every domain shares
(settings, the database, the secrets that seal and pepper, the message channels, the limiters
and the refusals tallied but not yet shared, the worker's jobs) and what each domain provides
at install time under a typed key of its own."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Annotated, Any, Generic, TypeVar, cast

from fastapi import Depends, FastAPI, Request
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from civicstack.config import Settings
from civicstack.kit.db import ServingLimits, make_engine, make_session_factory
from civicstack.kit.delivery import channels_from
from civicstack.kit.outbox import DeliveryChannel
from civicstack.kit.private_files import private_folder
from civicstack.kit.ratelimit import FailureLimiter
from civicstack.kit.secrets import load_or_create_secret
from civicstack.kit.tally import Tally, flush

T = TypeVar("T")


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
    pepper: str  # operator keys and one-time codes are stored as HMACs under it
    totp_key: str  # seals the authenticator secrets
    channels: dict[str, DeliveryChannel]  # the outbox's channels by name ("sms", "email")
    limiters: dict[str, FailureLimiter] = field(default_factory=dict)
    tallies: dict[str, Tally] = field(default_factory=dict)
    jobs: list[Job] = field(default_factory=list)
    shutdown_hooks: list[Callable[[AppServices], None]] = field(default_factory=list)
    _factories: dict[ServiceKey[Any], Callable[[AppServices], Any]] = field(default_factory=dict)
    _built: dict[ServiceKey[Any], Any] = field(default_factory=dict)

    @classmethod
    def start(cls, settings: Settings) -> AppServices:
        private_folder(settings.data_dir)
        engine = make_engine(settings.resolved_database_url, ServingLimits.from_settings(settings))
        return cls(settings, engine, make_session_factory(engine),
                   load_or_create_secret(settings.data_dir, "apikey-pepper"),
                   load_or_create_secret(settings.data_dir, "totp-key"),
                   channels_from(settings))

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


def services_of(app: FastAPI) -> AppServices:
    services: AppServices = app.state.services
    return services


def app_services(request: Request) -> AppServices:
    return services_of(request.app)


Services = Annotated[AppServices, Depends(app_services)]
