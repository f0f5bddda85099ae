"""The gateway's settings: its own database, token secret, admin token, cutoff days and fault seed."""

from __future__ import annotations

from functools import lru_cache
from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# The development values below are known to everyone who reads this file: a gateway anyone can reach must not run
# with them (a school token could be minted by anyone, and the admin API moves the clock and injects faults).
DEV_SECRET = "gateway-dev-secret-not-for-production"
DEV_ADMIN_TOKEN = "gateway-admin-dev"


class GatewaySettings(BaseSettings):
    """Read from the environment. The secrets have development defaults for `hocba up` and the tests only: with
    ``HOCBA_ENV=prod`` a missing or default secret refuses to start."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", frozen=True, populate_by_name=True)

    env: Literal["dev", "test", "prod"] = Field(
        "dev",
        validation_alias="HOCBA_ENV",
        description="dev and test allow the development secrets; prod does not",
    )

    db_url: str = Field(
        "postgresql+psycopg://postgres@127.0.0.1:5432/hocba_gateway",
        validation_alias="HOCBA_DB_URL_GATEWAY",
        description="The gateway's own database (created if missing)",
    )
    secret: SecretStr = Field(
        SecretStr(DEV_SECRET),
        validation_alias="GATEWAY_SECRET",
        description="HMAC key for the per-school bearer tokens",
    )
    admin_token: SecretStr = Field(
        SecretStr(DEV_ADMIN_TOKEN),
        validation_alias="GATEWAY_ADMIN_TOKEN",
        description="Bearer token for /_admin/ (clock, faults, stats)",
    )
    # Month-day of the end year of a school year "YYYY-YYYY"; the last day on which changes are accepted.
    cutoff_regular: str = Field("06-30", validation_alias="GATEWAY_CUTOFF_REGULAR", pattern=r"^\d{2}-\d{2}$")
    cutoff_supplementary: str = Field(
        "08-15", validation_alias="GATEWAY_CUTOFF_SUPPLEMENTARY", pattern=r"^\d{2}-\d{2}$"
    )
    fault_seed: int = Field(20260630, validation_alias="GATEWAY_FAULT_SEED")
    # Fixed "today" at start-up (ISO date), for demos; tests set it through /_admin/clock instead.
    today: str | None = Field(None, validation_alias="GATEWAY_TODAY")
    # The portal releases a signed PDF only with the student's full birth date. Every attempt that does not
    # release it counts, kept in the gateway's database (shared by replicas, kept across restarts): this many per
    # client address (an IPv6 address by its /64) within the window, and this many per lookup code from anywhere
    # within its window; then 429 with Retry-After. The per-code limit is the one that holds against many
    # addresses: the grade still narrows a birth date to about two years, ~730 dates; at 10 a day a guesser needs
    # about five weeks on average, ten at worst, while the holder of the paper needs one try.
    portal_birth_date_failures: int = Field(5, validation_alias="GATEWAY_PORTAL_BIRTH_DATE_FAILURES", ge=1)
    portal_birth_date_window_s: int = Field(600, validation_alias="GATEWAY_PORTAL_BIRTH_DATE_WINDOW_S", ge=1)
    portal_code_failures: int = Field(10, validation_alias="GATEWAY_PORTAL_CODE_FAILURES", ge=1)
    portal_code_window_s: int = Field(86400, validation_alias="GATEWAY_PORTAL_CODE_WINDOW_S", ge=1)
    # Comma-separated networks of our own reverse proxies: only from them is X-Forwarded-For believed.
    trusted_proxies: str = Field("", validation_alias="GATEWAY_TRUSTED_PROXIES")
    log_level: str = Field("INFO", validation_alias="GATEWAY_LOG_LEVEL")
    extract_signer: str = Field(
        "var/province-extract.pem",
        validation_alias="GATEWAY_EXTRACT_SIGNER",
        description="The province's key and certificates (one PEM) that sign the families' extracts; none: no extracts",
    )
    qr_trust_list: str = Field(
        "var/qr-trust-list.json",
        validation_alias="GATEWAY_QR_TRUST_LIST",
        description="The province-signed trust list of QR certificates the gateway publishes (hocba qr trust-list)",
    )

    @model_validator(mode="after")
    def _no_development_secrets_outside_development(self) -> GatewaySettings:
        if self.env in ("dev", "test"):
            return self
        weak = [
            name
            for name, value, default in (
                ("GATEWAY_SECRET", self.secret, DEV_SECRET),
                ("GATEWAY_ADMIN_TOKEN", self.admin_token, DEV_ADMIN_TOKEN),
            )
            if value.get_secret_value() in ("", default) or len(value.get_secret_value()) < 16
        ]
        if weak:
            raise ValueError(
                f"{' and '.join(weak)} missing, the development default or shorter than 16 characters; "
                f"HOCBA_ENV={self.env} needs secrets of its own"
            )
        return self


@lru_cache(maxsize=1)
def get_gateway_settings() -> GatewaySettings:
    return GatewaySettings()
