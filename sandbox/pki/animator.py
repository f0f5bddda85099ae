"""Serve the test PKI's TSA, CRLs and OCSP on 127.0.0.1:9797 (certomancer's Animator), as the certificates say."""

from __future__ import annotations

from functools import cache

import certomancer.crypto_utils
from asn1crypto import algos, keys
from certomancer.crypto_utils import PycaCryptographyBackend
from certomancer.integrations.animator import Animator, AnimatorArchStore
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from werkzeug.serving import run_simple

from sandbox.pki import ANIMATOR_PORT, _config


@cache
def _loaded(key_der: bytes) -> rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | None:
    key = serialization.load_der_private_key(key_der, password=None)
    return key if isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey) else None


class KeptKeys(PycaCryptographyBackend):
    """certomancer's signing with each key loaded once: it loads the key from DER for every timestamp token and OCSP
    response, and cryptography checks an RSA key on each load (about 0.05 CPU-s, most of a token's cost)."""

    def generic_sign(
        self, private_key: keys.PrivateKeyInfo, tbs_bytes: bytes, sd_algo: algos.SignedDigestAlgorithm
    ) -> bytes:
        key, algorithm = _loaded(private_key.dump()), sd_algo.signature_algo
        digest = getattr(hashes, str(sd_algo.hash_algo).upper())()
        if algorithm == "rsassa_pkcs1v15" and isinstance(key, rsa.RSAPrivateKey):
            return key.sign(tbs_bytes, padding.PKCS1v15(), digest)
        if algorithm == "ecdsa" and isinstance(key, ec.EllipticCurvePrivateKey):
            return key.sign(tbs_bytes, ec.ECDSA(digest))
        return super().generic_sign(private_key, tbs_bytes, sd_algo)  # PSS, EdDSA…: as certomancer does


def main() -> None:
    # certomancer's services sign through this module-level backend (where it chooses its implementation).
    certomancer.crypto_utils.CRYPTO_BACKEND = KeptKeys()
    # Threaded, unlike `certomancer animate`: one Animator serves every stack and test process on the machine, and a
    # single-threaded server queues their timestamp requests one behind another (past the signers' 10 s timeout
    # when several stacks sign at once on a loaded machine).
    app = Animator(AnimatorArchStore(_config().pki_archs), with_web_ui=False)
    run_simple("127.0.0.1", ANIMATOR_PORT, app, threaded=True)


if __name__ == "__main__":
    main()
