"""Settings: every knob comes from a CIVICSTACK_* environment variable with a safe demo default."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import Field, IPvAnyNetwork, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CIVICSTACK_", extra="ignore")

    data_dir: Path = Field(default=Path(".data"), description="Keys, mailbox, SQLite file.")
    database_url: str = Field(
        default="",
        description="SQLAlchemy URL; empty means an SQLite file inside data_dir.",
    )
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Where citizens reach the portal; also the OpenID Connect issuer.",
    )
    demo_relying_party: bool = Field(
        default=False, description="Serve the demo bank at /demo/bank (make demo turns it on).")
    log_level: str = "INFO"
    log_json: bool = True
    default_locale: str = "vi"
    session_cookie_secure: bool = False
    hsts_seconds: int = Field(
        default=0, ge=0, le=2 * 365 * 24 * 3600,
        description="Served over HTTPS only: browsers are told (Strict-Transport-Security, "
                    "subdomains included) to use nothing else for this many seconds; 31536000 "
                    "is a year. 0, the demo's plain HTTP, sends no such header.")
    trusted_proxies: Annotated[tuple[IPvAnyNetwork, ...], NoDecode] = Field(
        default=(),
        description="Comma-separated addresses or networks (CIDR) of the reverse proxies in "
                    "front of the app; a request from one of them is taken to come from the "
                    "address it names in X-Forwarded-For. Empty: the socket's peer is the "
                    "client.")
    session_idle_minutes: int = Field(
        default=30, ge=1, le=24 * 60,
        description="A browser session ends after this long without a request (NIST SP "
                    "800-63B-4 asks at most 1 hour at AAL2).")
    session_absolute_hours: int = Field(
        default=12, ge=1, le=24 * 7,
        description="A browser session ends this long after sign-in, however active.")
    max_body_bytes: int = Field(
        default=30 * 1024 * 1024, ge=64 * 1024,
        description="Largest request body the server reads; a larger one is refused (413) "
                    "before it is read. Above the largest form: five 5 MB files and its "
                    "fields.")
    import_batch_size: int = Field(default=5000, ge=100, le=100_000)
    password_hashing_slots: int = Field(
        default=0, ge=0, le=1024,
        description="Most argon2id password hashes computed at once in one process; 0: one "
                    "per core the process may run on (more only share the cores, slower).")
    face_match_threshold: float = Field(
        default=0.5, gt=0, lt=1.2,
        description="Largest embedding distance accepted as the same face (docs/biometrics.md).")
    travel_purge_hours: int = Field(
        default=24, ge=0, le=24 * 30,
        description="Hours after departure when a flight's data and face copies are deleted.")

    security_failed_logins: int = Field(
        default=50, ge=1, description="Alert at this many failed sign-ins in 15 minutes.")
    security_lockouts: int = Field(
        default=10, ge=1, description="Alert at this many accounts locked in an hour.")
    security_rate_limit_refusals: int = Field(
        default=100, ge=1, description="Alert at this many rate-limited requests in 15 minutes.")
    security_exchange_refusals: int = Field(
        default=20, ge=1, description="Alert at this many refused exchange requests in an hour.")
    security_chain_check_hours: float = Field(
        default=6, gt=0, le=24 * 7,
        description="How often the server verifies the logs' hash chains; a verification older "
                    "than twice this raises an alert.")
    security_contact: str = Field(
        default="", description="E-mail address that receives security alerts (outbox).")

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @property
    def issuer(self) -> str:
        return self.public_url.rstrip("/")

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return normalise_database_url(self.database_url)
        return f"sqlite:///{(self.data_dir / 'civicstack.db').resolve()}"


def normalise_database_url(url: str) -> str:
    """Accept plain postgres URLs and pin them to the psycopg 3 driver we ship."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@lru_cache
def get_settings() -> Settings:
    return Settings()
