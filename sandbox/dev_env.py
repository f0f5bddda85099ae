"""Write a local .env with random development secrets, once each (secrets have no defaults in code), and the
development token issuer's key pair (var/issuer, never committed)."""

import base64
import functools
import hashlib
import secrets
import sys
from collections.abc import Callable
from pathlib import Path

from cli.archive_crypto import generate as generate_archive_keys

path = Path(sys.argv[1] if len(sys.argv) > 1 else ".env")
lines = path.read_text().splitlines() if path.exists() else []
# This checkout's own development broker vhost and databases: another checkout on the machine (a colleague's branch
# with a newer migration, a CI clone) migrating or reshaping its own never breaks this one's `make setup` or demo.
# `make setup` (sandbox/local_stack.py) creates them marked with the checkout's path and drops those of checkouts gone.
DEV = f"hocba_dev_{hashlib.sha256(str(path.resolve().parent).encode()).hexdigest()[:6]}"
_DEV_DB = f"postgresql+psycopg://postgres@127.0.0.1:5432/{DEV}_{{}}"
wanted: dict[str, Callable[[], str]] = {
    "HOCBA_AMQP_URI": lambda: f"amqp://guest:guest@127.0.0.1:5672/{DEV}",
    # Broker users are machine-wide: this checkout's are its own, so another's `broker setup` never resets them.
    "HOCBA_BROKER_USER_PREFIX": lambda: f"{DEV}_",
    **{
        f"HOCBA_DB_URL_{name.upper()}": functools.partial(_DEV_DB.format, name)
        for name in ("gradebook", "transcript", "signing", "sync", "audit", "gateway")
    },
    # Tokens: the sandbox issuer signs (its private key stays in var/issuer), services verify with its JWKS.
    "HOCBA_DEV_ISSUER_KEY": lambda: str(Path("var/issuer/key.pem").resolve()),
    "HOCBA_JWKS_FILE": lambda: str(Path("var/issuer/jwks.json").resolve()),
    "HOCBA_OAUTH_TOKEN_URL": lambda: "http://127.0.0.1:8710/token",
    "HOCBA_OAUTH_CLIENT_SECRET": lambda: secrets.token_urlsafe(32),
    "HOCBA_DATA_KEY": lambda: base64.b64encode(secrets.token_bytes(32)).decode(),
    # Each local broker user's password (a user per service, relay and vendor) is derived from it.
    "HOCBA_BROKER_USER_SECRET": lambda: secrets.token_urlsafe(32),
    # The dev SoftHSM token's user PIN and where its configuration lives (sandbox/hsm.py creates both).
    "HOCBA_PKCS11_PIN": lambda: f"{secrets.randbelow(10**8):08d}",
    "HOCBA_SOFTHSM_CONF": lambda: str(Path("var/softhsm/softhsm2.conf").resolve()),
}
# The year-end archive's keys come in pairs, so they are written together: an age pair standing in for the
# custodian's and an Ed25519 pair standing in for the platform's (production: docs/operators.md).
archive_keys = generate_archive_keys()
if any(not any(line.startswith(f"{name}=") for line in lines) for name in archive_keys):
    lines = [line for line in lines if line.split("=", 1)[0] not in archive_keys]
    wanted.update({name: functools.partial(str, value) for name, value in archive_keys.items()})
added = [name for name in wanted if not any(line.startswith(f"{name}=") for line in lines)]
if added:
    lines += [f"{name}={wanted[name]()}" for name in added]
    path.write_text("\n".join(lines) + "\n")
    print(f"[setup] wrote development secrets ({', '.join(added)}) to {path}")

sys.path.insert(
    0, str(Path(__file__).resolve().parents[1])
)  # run as a script: make the repository importable
from sandbox.issuer import IssuerSettings, ensure_keys  # noqa: E402

issuer = IssuerSettings(_env_file=path)  # type: ignore[call-arg]
ensure_keys(issuer.dev_issuer_key, issuer.jwks_path)

# The (test) province's key and certificates that sign the families' extracts at the reference gateway's portal
# (GATEWAY_EXTRACT_SIGNER's default); production gives the gateway the province's own.
extract_signer = Path("var/province-extract.pem")
if not extract_signer.exists():
    import sandbox.pki as pki

    extract_signer.parent.mkdir(parents=True, exist_ok=True)
    extract_signer.write_bytes(pki.signer_pem(pki.province_extract()))
    print(f"[setup] wrote the test province's extract signer to {extract_signer}")
