"""The development HSM: a SoftHSM2 token for the school seals, created once (``make setup``).

Seal keys are generated inside the token and never leave it (``hocba signing provision-seal``); only the
certificate the test CA issues for the public key is written back next to it.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
from pathlib import Path


def main() -> int:
    from services.runtime.settings import get_settings

    settings = get_settings()
    if not settings.softhsm_conf or settings.pkcs11_pin is None:
        print(
            "[hsm] HOCBA_SOFTHSM_CONF / HOCBA_PKCS11_PIN not set: run sandbox/dev_env.py first",
            file=sys.stderr,
        )
        return 1
    util = shutil.which("softhsm2-util")
    if util is None:
        print("[hsm] softhsm2-util missing (Debian package softhsm2)", file=sys.stderr)
        return 1
    conf = Path(settings.softhsm_conf)
    tokens = conf.parent / "tokens"
    tokens.mkdir(parents=True, exist_ok=True)
    conf.write_text(f"directories.tokendir = {tokens}\nobjectstore.backend = file\nlog.level = ERROR\n")
    env = {**os.environ, "SOFTHSM2_CONF": str(conf)}
    listing = subprocess.run(
        [util, "--show-slots"], env=env, capture_output=True, text=True, check=True
    ).stdout
    if f"Label:            {settings.pkcs11_token}" in listing:
        print(f"[hsm] token {settings.pkcs11_token} ready ({conf})")
        return 0
    subprocess.run(
        [
            util,
            "--init-token",
            "--free",
            "--label",
            settings.pkcs11_token,
            "--so-pin",
            secrets.token_hex(8),  # nobody administers the dev token; a fresh machine makes a new one
            "--pin",
            settings.pkcs11_pin.get_secret_value(),
        ],
        env=env,
        check=True,
        capture_output=True,
    )
    print(f"[hsm] initialised token {settings.pkcs11_token} ({conf})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
