"""Settings: every knob comes from a CIVICSTACK_* environment variable with a safe demo default."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlencode, urlsplit

from pydantic import Field, IPvAnyNetwork, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CIVICSTACK_", extra="ignore")

    data_dir: Path = Field(default=Path(".data"), description="Keys, mailbox, SQLite file.")
    database_url: str = Field(
        default="",
        description="SQLAlchemy URL; empty means an SQLite file inside data_dir.",
    )
    read_replica_url: str = Field(
        default="",
        description="A PostgreSQL standby for reads that may be a few seconds stale (public "
                    "statistics, the catalogue API, the readiness ranking); several hosts with "
                    "target_session_attrs=prefer-standby are accepted. Empty: the primary "
                    "serves them (docs/high-availability.md).")
    root_key: SecretStr = Field(
        default=SecretStr(""),
        description="The root key (32 random bytes, base64url) that seals every secret and "
                    "signing key stored in the database; every instance is given the same one "
                    "(docs/keys.md).")
    root_key_file: Path | None = Field(
        default=None, description="A file holding the root key, instead of root_key.")
    require_root_key: bool = Field(
        default=False,
        description="Production: refuse to start unless root_key or root_key_file is given. "
                    "Off (the demo), a root key is made once in data_dir/root-key.")
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
    face_index_lists: int = Field(
        default=0, ge=0, le=1_000_000,
        description="0: the national face gallery scans every template (exact). N > 0: "
                    "`biometrics rebuild-index` partitions it into N lists (IVF) once it "
                    "holds 39 templates per list; about 4*sqrt(templates) (docs/biometrics.md).")
    face_index_probes: int = Field(
        default=64, ge=1, le=65_536,
        description="Lists a partitioned gallery scans per query: more finds more look-alikes "
                    "and costs more time (docs/benchmarks.md).")
    face_index_rerank: int = Field(
        default=0, ge=0, le=1024,
        description="0: the national face gallery's exhaustive scan alone. N > 0 (with "
                    "face_index_lists 0): `biometrics rebuild-index` adds a 64-byte coarse copy "
                    "of every template; a query for k faces reranks the coarse scan's N*k "
                    "nearest by exact distance, missing none within 1.5x the threshold on the "
                    "measured population; 8 gave de-duplication's query 3.2 ms at 1M against the "
                    "scan's 12 ms (docs/benchmarks.md).")
    travel_purge_hours: int = Field(
        default=24, ge=0, le=24 * 30,
        description="Hours after departure when a flight's data and face copies are deleted; "
                    "also how long a rail or parking gate's decision keeps its pass and face "
                    "distance.")
    travel_trip_days: int = Field(
        default=90, ge=1, le=3 * 365,
        description="Days after which rail trips and parking sessions are deleted (kept as "
                    "anonymous daily counts per site), and passes this long after their last "
                    "valid day.")

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
    log_key_file: Path | None = Field(
        default=None,
        description="The audit and exchange logs' Ed25519 checkpoint key, outside the "
                    "database; made on first run. Empty: data_dir/transparency/log.key.")
    log_key_name: str = Field(
        default="civicstack.local/log",
        description="The logs' key name; each log's checkpoints carry the origin NAME/audit or "
                    "NAME/exchange. Never change it once checkpoints are published.")
    log_witness_dir: Path | None = Field(
        default=None,
        description="Where checkpoints are witnessed: a folder on other storage than the "
                    "database's (another host's share, an object-store mount). Empty: "
                    "data_dir/witness, fine for a demo only.")
    log_witness_database_url: str = Field(
        default="",
        description="A second witness: another database (run by other administrators than "
                    "the primary's) that keeps every checkpoint in append-only tables. "
                    "Empty: none.")
    log_seal_seconds: float = Field(
        default=2, gt=0, le=300,
        description="How often the worker seals new log entries into a signed checkpoint.")
    security_contact: str = Field(
        default="", description="E-mail address that receives security alerts (outbox).")

    # Serving and the database (docs/deployment.md).
    jobs_in_app: bool = Field(
        default=True,
        description="The web process runs the background jobs itself (the demo, one process). "
                    "Set false where `civicstack worker` runs them.")
    shutdown_timeout_s: int = Field(
        default=20, ge=1, le=600,
        description="On SIGTERM, requests in flight get this long to finish.")
    db_pool_size: int = Field(default=10, ge=1, le=200,
                              description="Connections each process keeps open (PostgreSQL).")
    db_max_overflow: int = Field(
        default=10, ge=0, le=200,
        description="Connections a process may open beyond the pool under a burst.")
    db_pool_timeout_s: float = Field(
        default=10, gt=0, le=300,
        description="How long a request waits for a free connection before failing.")
    db_statement_timeout_ms: int = Field(
        default=30_000, ge=0,
        description="PostgreSQL cancels a statement running longer (0: never). `registry "
                    "import` and `db upgrade` lift it for their own connections.")
    db_lock_timeout_ms: int = Field(
        default=10_000, ge=0,
        description="PostgreSQL gives up waiting for a lock after this long (0: never).")
    db_connect_retry_s: float = Field(
        default=10, ge=0, le=300,
        description="A refused connection is retried for this long before a request fails "
                    "(503): set it above the failover time of a highly available PostgreSQL "
                    "(docs/high-availability.md). 0: fail at once.")
    db_idle_in_transaction_timeout_ms: int = Field(
        default=60_000, ge=0,
        description="PostgreSQL ends a session left idle inside a transaction this long, "
                    "releasing its locks (0: never).")

    # The outbox's delivery (kit/delivery.py).
    sms_channel: Literal["mailbox", "http"] = Field(
        default="mailbox",
        description="How SMS leave: `mailbox` (files in DATA_DIR/mailbox, the demo) or `http` "
                    "(the SMS gateway at sms_gateway_url).")
    email_channel: Literal["mailbox", "smtp"] = Field(
        default="mailbox",
        description="How e-mails leave: `mailbox` (the demo) or `smtp` (smtp_host).")
    sms_gateway_url: str = Field(default="", description="The SMS gateway's send endpoint.")
    sms_gateway_token: str = Field(default="", description="Bearer token for the SMS gateway.")
    smtp_host: str = ""
    smtp_port: int = Field(default=25, ge=1, le=65535)
    smtp_starttls: bool = Field(default=False,
                                description="Upgrade the SMTP connection with STARTTLS.")
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_sender: str = Field(default="CivicStack <no-reply@civicstack.invalid>",
                             description="The From: of every e-mail.")
    delivery_timeout_s: float = Field(
        default=10, gt=0, le=60,
        description="Longest wait on an SMS gateway or SMTP server for one message.")
    outbox_max_attempts: int = Field(
        default=8, ge=1, le=100,
        description="A message that failed this many times is marked failed and left for an "
                    "operator (`civicstack outbox list --failed`).")
    outbox_retry_s: int = Field(
        default=30, ge=1,
        description="Wait before the first retry; each further one waits twice as long.")
    outbox_retention_days: int = Field(
        default=7, ge=1, description="Delivered messages are deleted this long after delivery.")

    @field_validator("trusted_proxies", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @model_validator(mode="after")
    def _channels_have_their_server(self) -> Settings:
        if self.sms_channel == "http" and not self.sms_gateway_url:
            raise ValueError("CIVICSTACK_SMS_CHANNEL=http needs CIVICSTACK_SMS_GATEWAY_URL")
        if self.email_channel == "smtp" and not self.smtp_host:
            raise ValueError("CIVICSTACK_EMAIL_CHANNEL=smtp needs CIVICSTACK_SMTP_HOST")
        return self

    @property
    def resolved_log_key_file(self) -> Path:
        return self.log_key_file or self.data_dir / "transparency" / "log.key"

    @property
    def resolved_log_witness_dir(self) -> Path:
        return self.log_witness_dir or self.data_dir / "witness"

    @property
    def issuer(self) -> str:
        return self.public_url.rstrip("/")

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return normalise_database_url(self.database_url)
        return f"sqlite:///{(self.data_dir / 'civicstack.db').resolve()}"


    @property
    def resolved_read_replica_url(self) -> str:
        return normalise_database_url(self.read_replica_url) if self.read_replica_url else ""


def normalise_database_url(url: str) -> str:
    """Accept plain postgres URLs and pin them to the psycopg 3 driver we ship; a libpq
    multi-host URL (`host1:port1,host2:port2`, as for a pg_auto_failover pair) is rewritten into
    the `?host=` form that SQLAlchemy parses (it reads a single port after the host)."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            url = "postgresql+psycopg://" + url[len(prefix) :]
    return _hosts_as_query(url) if url.startswith("postgresql") else url


def _hosts_as_query(url: str) -> str:
    parts = urlsplit(url)
    credentials, _, hosts = parts.netloc.rpartition("@")
    if "," not in hosts:
        return url
    user = f"{credentials}@" if credentials else ""
    query = urlencode([("host", host) for host in hosts.split(",")]) + \
        (f"&{parts.query}" if parts.query else "")
    return f"{parts.scheme}://{user}{parts.path}?{query}"  # no host left: urlunsplit drops //


@lru_cache
def get_settings() -> Settings:
    return Settings()
