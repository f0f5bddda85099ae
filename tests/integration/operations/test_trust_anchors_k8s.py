"""The production overlay carries no test certificate or key: the sandbox PKI's private keys are public, so a
fingerprint, PEM or DER of any of its certificates in what overlays/prod renders fails the build."""

import base64
import binascii
import hashlib
import re
import shutil
import subprocess
from pathlib import Path

import yaml

import sandbox.pki as pki

ROOT = Path(__file__).resolve().parents[3]
OVERLAYS = ROOT / "deploy" / "k8s" / "overlays"


def _test_certificates() -> list[bytes]:
    """DER of every certificate the sandbox PKI defines (roots.pem and chain.pem are among them)."""
    config = yaml.safe_load((ROOT / "sandbox" / "pki" / "pki.yml").read_text())
    ders = [pki.certificate(label, arch).dump() for arch, spec in config["pki-architectures"].items()
            for label in spec["certs"]]  # fmt: skip
    for name in ("roots.pem", "chain.pem"):
        ders += _pem_blocks((ROOT / "sandbox" / "pki" / name).read_text())
    return ders


def _pem_blocks(text: str) -> list[bytes]:
    return [base64.b64decode(re.sub(r"\s", "", b)) for b in
            re.findall(r"-----BEGIN [A-Z ]+-----(.*?)-----END [A-Z ]+-----", text, re.S)]  # fmt: skip


def _kustomize_sources(directory: Path) -> str:
    """Everything a kustomization can put into its output (resources, recursively; generators' files;
    patches): a superset of the render, so this check needs no kubectl."""
    kustomization = yaml.safe_load((directory / "kustomization.yaml").read_text())
    texts = [(directory / "kustomization.yaml").read_text()]
    for entry in kustomization.get("resources", []):
        path = (directory / entry).resolve()
        texts.append(_kustomize_sources(path) if path.is_dir() else path.read_text())
    for generator in kustomization.get("configMapGenerator", []) + kustomization.get("secretGenerator", []):
        for file in generator.get("files", []):
            texts.append((directory / file.split("=")[-1]).read_text())
    for patch in kustomization.get("patches", []):
        texts.append(patch.get("patch") or (directory / patch["path"]).read_text())
    return "\n".join(texts)


def _rendered(overlay: str) -> str:
    text = _kustomize_sources(OVERLAYS / overlay)
    if shutil.which("kubectl"):
        result = subprocess.run(["kubectl", "kustomize", str(OVERLAYS / overlay)], capture_output=True,
                                text=True, timeout=120, check=True)  # fmt: skip
        text += "\n" + result.stdout
    return text


def _decoded_values(text: str) -> str:
    """Secrets' and binaryData's base64 values decoded, so a base64-wrapped PEM cannot hide."""
    out = []
    for token in re.findall(r"[A-Za-z0-9+/=]{40,}", text):
        try:
            out.append(base64.b64decode(token, validate=True).decode("latin-1"))
        except (binascii.Error, ValueError):
            continue
    return "\n".join(out)


def _found(overlay: str) -> list[str]:
    text = _rendered(overlay)
    text += "\n" + _decoded_values(text)
    flat = re.sub(r"\s", "", text)
    lowered = re.sub(r"[\s:]", "", text).lower()
    rendered_ders = set(_pem_blocks(text))
    hits = []
    for der in _test_certificates():
        sha256, sha1 = hashlib.sha256(der).hexdigest(), hashlib.sha1(der).hexdigest()  # noqa: S324
        if (
            base64.b64encode(der).decode() in flat
            or der in rendered_ders
            or sha256 in lowered
            or sha1 in lowered
        ):
            hits.append(sha256)
    for key in (ROOT / "sandbox" / "pki" / "keys").glob("*.pem"):
        if any(base64.b64encode(k).decode() in flat for k in _pem_blocks(key.read_text())):
            hits.append(key.name)
    return hits


def test_the_prod_overlay_renders_no_test_certificate_or_key():
    assert _found("prod") == [], "the sandbox's test PKI must never reach overlays/prod"


def test_the_check_finds_the_test_pki_where_it_belongs():
    # The control: the dev overlay carries the test root and chain, so the same check must see them.
    found = _found("dev")
    assert hashlib.sha256(pki.root().dump()).hexdigest() in found
    assert hashlib.sha256(pki.issuing_ca().dump()).hexdigest() in found


def test_the_base_mounts_trust_anchors_the_overlay_or_operator_provides():
    signing = yaml.safe_load(
        (ROOT / "deploy" / "k8s" / "base" / "signing.yaml").read_text().split("\n---\n")[0]
    )
    volumes = {v["name"]: v for v in signing["spec"]["template"]["spec"]["volumes"]}
    assert volumes["pki"]["configMap"] == {"name": "hocba-trust", "optional": True}
