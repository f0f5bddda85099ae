"""Serve the test PKI's TSA, CRLs and OCSP on 127.0.0.1:9797 (certomancer's Animator), as the certificates say."""

from __future__ import annotations

import sys

from certomancer.cli import cli

from sandbox.pki import ANIMATOR_PORT, CONFIG, HERE


def main() -> None:
    sys.argv = [
        "certomancer",
        "--config",
        str(CONFIG),
        "--key-root",
        str(HERE),
        "animate",
        "--port",
        str(ANIMATOR_PORT),
        "--no-web-ui",
    ]
    cli()


if __name__ == "__main__":
    main()
