"""A simulated remote signing service: it holds the sandbox teachers' keys, the way a CA's cloud signing does.

``POST /enrol`` gives a person a key and a certificate from the test CA (once; the key is kept on disk so a
restart keeps identities; a name other than the certificate's gets a new certificate for the same key); ``POST /sign`` signs sha256 digests with that person's key (RSA PKCS#1 v1.5) and
never returns the key. Run with ``python -m sandbox.remote_signer --port 9898``.
"""

from __future__ import annotations

import argparse
import base64
import json
import threading
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa, utils
from werkzeug.exceptions import BadRequest, HTTPException, NotFound
from werkzeug.routing import Map, Rule
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

import sandbox.pki as pki

DEFAULT_PORT = 9898


def _common_name(der: bytes) -> str:
    names = x509.load_der_x509_certificate(der).subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    return str(names[0].value) if names else ""


def _pem(der: bytes) -> str:
    return x509.load_der_x509_certificate(der).public_bytes(serialization.Encoding.PEM).decode()


def _load(key_path: Path) -> rsa.RSAPrivateKey:
    # Keys this service generated itself: cryptography's RSA key check (~40 ms a load) proves nothing about them.
    key = serialization.load_pem_private_key(key_path.read_bytes(), None, unsafe_skip_rsa_key_validation=True)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


class RemoteSigner:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)
        self._keys: dict[str, rsa.RSAPrivateKey] = {}
        self._lock = threading.Lock()
        self.signatures = 0
        self.urls = Map(
            [
                Rule("/enrol", endpoint="enrol", methods=["POST"]),
                Rule("/sign", endpoint="sign", methods=["POST"]),
            ]
        )

    def _paths(self, signer_id: str) -> tuple[Path, Path]:
        safe = base64.urlsafe_b64encode(signer_id.encode()).decode().rstrip("=")
        return self.directory / f"{safe}.key.pem", self.directory / f"{safe}.cert.der"

    def _key(self, signer_id: str) -> rsa.RSAPrivateKey:
        with self._lock:
            if signer_id not in self._keys:
                key_path, _ = self._paths(signer_id)
                if not key_path.exists():
                    raise NotFound(f"{signer_id} is not enrolled")
                self._keys[signer_id] = _load(key_path)
            return self._keys[signer_id]

    def enrol(self, body: dict[str, Any]) -> dict[str, Any]:
        signer_id, name = body.get("signer_id"), body.get("name")
        if not signer_id or not name:
            raise BadRequest("signer_id and name are required")
        key_path, cert_path = self._paths(signer_id)
        with self._lock:
            key = None
            if not key_path.exists():
                key = rsa.generate_private_key(65537, 2048)
                key_path.write_bytes(
                    key.private_bytes(
                        serialization.Encoding.PEM,
                        serialization.PrivateFormat.PKCS8,
                        serialization.NoEncryption(),
                    )
                )
            # The key store outlives a stack (var/remote-signer), and sample schools reuse signer ids: an id
            # enrolled before under another name is another person now, whose certificate must carry their name
            # (the verifier checks it against the signature plan). Same key, certificate issued again.
            if not cert_path.exists() or _common_name(cert_path.read_bytes()) != name:
                key = key or _load(key_path)
                cert = pki.issue(
                    key.public_key(),
                    common_name=name,
                    unit=body.get("unit") or "Giáo viên",
                    organisation=body.get("organisation") or "Trường học (thử nghiệm)",
                    subject_id=signer_id,
                )
                cert_path.write_bytes(cert.dump())
        return {"certificate": _pem(cert_path.read_bytes()), "chain": [_pem(pki.issuing_ca().dump())]}

    def sign(self, body: dict[str, Any]) -> dict[str, Any]:
        key = self._key(str(body.get("signer_id")))
        digests = [base64.b64decode(d) for d in body.get("digests", [])]
        if any(len(d) != 32 for d in digests):
            raise BadRequest("each digest must be a base64 sha256 (32 bytes)")
        values = [key.sign(d, padding.PKCS1v15(), utils.Prehashed(hashes.SHA256())) for d in digests]
        self.signatures += len(values)
        return {"signatures": [base64.b64encode(v).decode() for v in values]}

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        try:
            endpoint, _ = self.urls.bind_to_environ(environ).match()
            result = getattr(self, endpoint)(json.loads(request.get_data() or b"{}"))
            response = Response(json.dumps(result), mimetype="application/json")
        except HTTPException as error:
            response = Response(
                json.dumps({"error": error.description}), status=error.code, mimetype="application/json"
            )
        return response(environ, start_response)


def serve_in_thread(directory: Path, port: int = 0) -> tuple[Any, str]:
    """For tests and the demo: (server, base url); call ``server.shutdown()`` to stop."""
    server = make_server("127.0.0.1", port, RemoteSigner(directory), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--keys", default="var/remote-signer")
    args = parser.parse_args()
    make_server("127.0.0.1", args.port, RemoteSigner(Path(args.keys)), threaded=True).serve_forever()


if __name__ == "__main__":
    main()
