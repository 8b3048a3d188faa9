"""How a domain joins the running system (warehouse's `includeme`): its `install(installer)`
adds routers, a CLI group, worker jobs and event subscriptions, and provides its long-lived
objects. The same install serves the web app and the CLI; each uses what concerns it."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import typer
from fastapi import APIRouter, FastAPI
from sqlalchemy.orm import Session
from starlette.types import ASGIApp

from civicstack.config import Settings
from civicstack.kit import events, keys
from civicstack.kit.appservices import AppServices, Job, JobReach, ServiceKey

T = TypeVar("T")
F = TypeVar("F")


class Installer:
    def __init__(self, settings: Settings, *, app: FastAPI | None = None,
                 services: AppServices | None = None, cli: typer.Typer | None = None) -> None:
        self.settings = settings
        self._app, self._services, self._cli = app, services, cli

    def router(self, router: APIRouter, prefix: str = "") -> None:
        if self._app is not None:
            self._app.include_router(router, prefix=prefix)

    def mount(self, path: str, make: Callable[[AppServices], ASGIApp]) -> None:
        if self._app is not None and self._services is not None:
            self._app.mount(path, make(self._services))

    def command_group(self, group: typer.Typer, name: str) -> None:
        if self._cli is not None:
            self._cli.add_typer(group, name=name)

    def job(self, name: str, every_s: float, run: Callable[[AppServices], object],
            reach: JobReach = JobReach.SITE) -> None:
        if self._services is not None:
            self._services.jobs.append(Job(name, every_s, run, reach))

    def on_shutdown(self, hook: Callable[[AppServices], None]) -> None:
        if self._services is not None:
            self._services.shutdown_hooks.append(hook)

    def session_read_by_handler(self, path: str) -> None:
        """The browser session at `path` is left unread by the middleware: its handler reads it
        in its own transaction (websession.read_in), a thread hop and a transaction fewer."""
        if self._services is not None:
            self._services.sessions_read_by_handler.add(path)

    def provide(self, key: ServiceKey[T], factory: Callable[[AppServices], T]) -> None:
        if self._services is not None:
            self._services.provide(key, factory)

    def secret(self, name: str) -> None:
        """A stored secret the domain reads (SecretStore.secret): made at start."""
        keys.declare_secret(name)

    def signing_keys(self, ring: str, algorithms: tuple[str, ...] = keys.ALGORITHMS) -> None:
        """A ring of signing keys the domain signs with (kit/keys.py): made at start."""
        keys.declare_ring(ring, algorithms)

    def subscribe(self, event: str, handler: events.Handler) -> None:
        events.subscribe(event, handler)

    def subscribe_to(self, kind: type[F], handler: Callable[[Session, F], object]) -> None:
        events.subscribe_to(kind, handler)
