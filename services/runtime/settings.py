"""One frozen Settings per process, read from HOCBA_* environment variables (and a local .env)."""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, SecretStr, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SERVICES = ("gradebook", "transcript", "signing", "sync", "audit")

# The repository's test PKI: only a development checkout has it, and only dev and test use it unasked.
_SANDBOX_PKI = Path(__file__).resolve().parents[2] / "sandbox" / "pki"
TEST_PKI = {"trust_roots": str(_SANDBOX_PKI / "roots.pem"), "ca_chain": str(_SANDBOX_PKI / "chain.pem")}

_LOCAL_DB = "postgresql+psycopg://postgres@127.0.0.1:5432/hocba_{}"


class Settings(BaseSettings):
    """Everything a service, the relay or the CLI needs to find its broker and database."""

    model_config = SettingsConfigDict(env_prefix="HOCBA_", env_file=".env", extra="ignore", frozen=True)

    env: Literal["dev", "test", "prod"] = "dev"
    amqp_uri: str = Field("amqp://guest:guest@127.0.0.1:5672/", description="Broker URI, vhost included")
    rabbit_management_url: str = Field(
        "http://guest:guest@127.0.0.1:15672", description="RabbitMQ management API, for broker setup"
    )
    db_url_gradebook: str = _LOCAL_DB.format("gradebook")
    db_url_transcript: str = _LOCAL_DB.format("transcript")
    db_url_signing: str = _LOCAL_DB.format("signing")
    db_url_sync: str = _LOCAL_DB.format("sync")
    db_url_audit: str = _LOCAL_DB.format("audit")
    db_pool_size: int = 10
    db_transaction_pooling: bool = Field(
        False,
        description="This process's database URL goes through a pooler in transaction mode (PgBouncer): psycopg "
        "then prepares no statement (prepare_threshold=None). Unset locally and for a direct or session-pooled "
        "connection, where psycopg's default prepares statements run often",
    )
    db_service_roles: dict[str, str] = Field(
        default_factory=dict,
        description="Service → the LOGIN role its processes use where another role (the migration role) owns its "
        "database: `hocba db upgrade` grants that role reading and writing the service's tables (never DDL). "
        "Audit's writer is HOCBA_AUDIT_DB_ROLE instead, granted append-only by audit's migrations. Empty locally, "
        "where one login does everything",
    )
    # 32 bytes (base64) from which each purpose's sub-key is derived (runtime/data_key.py); no default either.
    data_key: SecretStr | None = None
    # Bearer tokens: verified against the identity provider's public keys (no service holds a key that signs).
    # No defaults: `make setup` points them at the sandbox's development issuer (sandbox/issuer.py).
    jwks_url: str | None = Field(None, description="The identity provider's JWKS (production)")
    jwks_file: str | None = Field(None, description="A JWKS file instead of a URL (development, tests)")
    jwt_algorithms: list[str] = Field(
        default_factory=lambda: ["ES256"], description="Accepted signature algorithms (pinned)"
    )
    jwt_issuer: str = Field("hocba-dev", description="The identity provider's issuer (`iss`)")
    jwt_audience: str = Field("hocba", description="Audience of users' tokens")
    service_audience: str = Field("hocba-service", description="Audience of service-to-service tokens")
    # Service-to-service calls: this service's OAuth2 client (client-credentials grant at oauth_token_url).
    oauth_token_url: str | None = None
    oauth_client_id: str | None = Field(None, description="Defaults to the calling service's name")
    oauth_client_secret: SecretStr | None = None
    public_exchange: str = "hocba.public"
    lookup_base_url: str = Field(
        "https://tracuu.hocba.vn/hocba", description="The province's public lookup portal"
    )
    dead_letter_exchange: str = Field(
        "hocba.dlx",
        description="Prefix of the dead-letter exchanges: each service has its own, <this>.<service>",
    )
    # Broker users: one per service, per relay and per vendor (services/runtime/broker_access.py). Locally
    # `hocba broker setup` creates them and `hocba up` logs each process in as its own; in Kubernetes the Topology
    # Operator creates them and their passwords. No default: sandbox/dev_env.py writes a development one into .env.
    broker_user_secret: SecretStr | None = Field(
        None, description="Development and tests only: each broker user's password is derived from it"
    )
    broker_user_prefix: str = Field(
        "", pattern=r"^[A-Za-z0-9_.-]*$", description="Prefix of the broker user names (a test run's own)"
    )
    declare_exchanges: bool = Field(
        True,
        description="Declare the shared exchanges a process binds from or publishes to (a fresh dev or test vhost); "
        "false where the topology is set up beforehand and each process has its own broker user: declaring needs "
        "configure, which would let it delete the exchange too",
    )
    queue_type: Literal["classic", "quorum"] = Field(
        "classic",
        description="Type of the platform's durable queues: quorum on the Kubernetes cluster (replicated), classic on "
        "a single-node development broker (see services/runtime/queues.py for why)",
    )
    broker_vendors: list[str] = Field(
        default_factory=lambda: ["example"], description="Vendors given a broker user of their own"
    )
    log_level: str = "INFO"
    log_json: bool = True
    http_port: int = 8000
    http_max_body_bytes: int = Field(
        1 << 20, description="Largest request body an endpoint reads (413 above it, checked before parsing)"
    )
    http_max_upload_bytes: int = Field(
        10 << 20,
        description="Largest body of an endpoint that takes files (the gradebook's CSV/XLSX imports)",
    )
    import_max_rows: int = Field(
        5000, description="Most rows one gradebook import may hold (a school's roster)"
    )
    max_workers: int = 10
    relay_batch_size: int = 200
    relay_poll_seconds: float = 0.2
    relay_pause_after_publish: float = Field(
        0, description="Fault injection for the chaos tests: seconds between publishing and marking sent"
    )
    retry_attempts: int = Field(
        5, ge=1, description="Attempts at an event whose handler fails transiently before it is dead-lettered"
    )
    retry_base_seconds: float = Field(
        1.0, gt=0, description="Wait after the first transient failure; doubled for each further one"
    )
    retry_cap_seconds: float = Field(300.0, gt=0, description="The longest wait between two attempts")
    heartbeat_stale_seconds: float = 30.0
    broker_dead_seconds: float = 60.0
    # Signing. Dev defaults point at the sandbox (test PKI, its Animator on 127.0.0.1:9797, SoftHSM).
    transcript_url: str = Field(
        "http://127.0.0.1:8002", description="Transcript service, for unsigned documents"
    )
    # Trust anchors are configuration: the sandbox's test PKI is the default only in dev and test.
    trust_roots: str | None = Field(
        None, validate_default=True, description="PEM bundle of trusted root certificates"
    )
    ca_chain: str | None = Field(
        None, validate_default=True, description="Intermediate CA certificates of the seal"
    )
    tsa_url: str = Field("http://127.0.0.1:9797/hocba/tsa/tsa", description="RFC 3161 timestamp authority")
    pkcs11_module: str = "/usr/lib/softhsm/libsofthsm2.so"
    pkcs11_token: str = "hocba-seal"
    pkcs11_pin: SecretStr | None = None
    softhsm_conf: str | None = Field(None, description="SOFTHSM2_CONF for the dev token (var/softhsm)")
    signing_url: str = Field("http://127.0.0.1:8003", description="Signing service, for sealed documents")
    gateway_url: str = Field("http://127.0.0.1:8700", description="The province's receiving gateway")
    reporting_day: date | None = Field(
        None, description="Act as if today were this day (rehearsals, the demo); unset in production"
    )
    gateway_timeout_seconds: float = 10.0
    sync_reconcile_seconds: float = 60.0
    sync_submit_seconds: float = Field(1.0, description="How often the sync worker sends what is due")
    signing_seal_seconds: float = Field(1.0, description="How often the signing service seals what is ready")
    sync_cutoffs: dict[str, str] = Field(
        default_factory=lambda: {"regular": "06-30", "supplementary": "08-15"},
        description="MM-DD of the province's reporting cutoffs",
    )
    audit_checkpoint_seconds: float = Field(
        300.0, description="How often each moved chain head is timestamped"
    )
    audit_lock_checkpoint_seconds: float = Field(
        5.0, description="How soon a chain head is timestamped after a term lock was recorded"
    )
    audit_db_role: str = Field(
        "hocba_audit_writer",
        pattern=r"^[a-z_][a-z0-9_]*$",
        description="The LOGIN role the audit service and its relay connect as: it may append to the log and read "
        "it, never change it (its migrations create it if missing and grant to it; one per cluster and environment)",
    )
    db_url_audit_writer: str | None = Field(
        None,
        description="What the audit service and its relay log in with. Unset: in dev and test, HOCBA_DB_URL_AUDIT "
        "as HOCBA_AUDIT_DB_ROLE (no password: local trust auth); in production, HOCBA_DB_URL_AUDIT itself (the "
        "pods get the writer's credentials, the migration Job the owner's)",
    )
    signing_cutoff: str = Field("06-30", description="MM-DD of the reporting cutoff, for signing readiness")
    # The year-end archive (`hocba export` / `hocba import`). No defaults: sandbox/dev_env.py writes dev keys into
    # .env; in production the custodian issues the recipient/identity pair and the platform its signing key.
    archive_recipient: str | None = Field(
        None, description="age X25519 public key (age1…) of the archive's custodian: export encrypts to it"
    )
    archive_identity: SecretStr | None = Field(
        None, description="age X25519 secret key (AGE-SECRET-KEY-1…) that import decrypts with"
    )
    archive_signing_key: SecretStr | None = Field(
        None, description="base64 Ed25519 private key (32 bytes) that export signs the manifest with"
    )
    archive_verify_key: str | None = Field(
        None,
        description="base64 Ed25519 public key (32 bytes) that import checks the manifest's signature with",
    )

    @field_validator("db_service_roles")
    @classmethod
    def _role_names(cls, value: dict[str, str]) -> dict[str, str]:
        for service, role in value.items():
            if service not in SERVICES or service == "audit" or not re.fullmatch(r"[a-z_][a-z0-9_]*", role):
                raise ValueError(
                    f"{service}: {role!r} (a service but audit, and a plain lower-case role name)"
                )
        return value

    @field_validator("trust_roots", "ca_chain")
    @classmethod
    def _test_pki_only_in_development(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value or info.data.get("env") not in ("dev", "test"):
            return value or None
        return TEST_PKI[str(info.field_name)]

    def db_url(self, service: str) -> str:
        if service not in SERVICES:
            raise ValueError(f"unknown service {service!r}; expected one of {', '.join(SERVICES)}")
        return str(getattr(self, f"db_url_{service}"))

    def login_url(self, service: str) -> str:
        """The URL a service's own processes (the service, its relay) log in with.

        The audit log's owner is whoever migrates it (``db_url``); the audit processes log in as the writer role,
        never the owner, and never by SET ROLE (a login that may reset it, and PgBouncer in transaction mode keeps
        no session settings).
        """
        if service != "audit":
            return self.db_url(service)
        if self.db_url_audit_writer:
            return self.db_url_audit_writer
        if self.env == "prod":
            return self.db_url_audit
        parts = urlsplit(self.db_url_audit)
        return urlunsplit(parts._replace(netloc=f"{self.audit_db_role}@{parts.netloc.rpartition('@')[2]}"))

    def nameko_config(self, service: str, **extra: object) -> dict[str, object]:
        """The dict nameko containers take, built from these settings."""
        config: dict[str, object] = {
            "AMQP_URI": self.amqp_uri,
            "max_workers": self.max_workers,
            "WEB_SERVER_ADDRESS": f"0.0.0.0:{self.http_port}",
            "SERVICE_NAME": service,
            # nameko declares a handler's source exchange unless told not to (see declare_exchanges).
            "DECLARE_EVENT_EXCHANGES": self.declare_exchanges,
        }
        config.update(extra)
        return config


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
