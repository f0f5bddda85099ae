"""Serve the test PKI's TSA, CRLs and OCSP on 127.0.0.1:9797 (certomancer's Animator), as the certificates say."""

from __future__ import annotations

from certomancer.integrations.animator import Animator, AnimatorArchStore
from werkzeug.serving import run_simple

from sandbox.pki import ANIMATOR_PORT, _config


def main() -> None:
    # Threaded, unlike `certomancer animate`: one Animator serves every stack and test process on the machine, and a
    # single-threaded server queues their timestamp requests one behind another (past the signers' 10 s timeout
    # when several stacks sign at once on a loaded machine).
    app = Animator(AnimatorArchStore(_config().pki_archs), with_web_ui=False)
    run_simple("127.0.0.1", ANIMATOR_PORT, app, threaded=True)


if __name__ == "__main__":
    main()
