"""The sandbox's remote signing device: enrolment gives the certificate the person's own name, whatever came before."""

from cryptography import x509

from sandbox.remote_signer import RemoteSigner


def common_name(pem: str) -> str:
    return str(
        x509.load_pem_x509_certificate(pem.encode())
        .subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)[0]
        .value
    )


def test_a_signer_id_enrolled_again_under_another_name_gets_a_certificate_with_that_name(tmp_path):
    # The key store outlives a stack, and a sample school built for another class size gives the same teacher id
    # to another person: their signatures must verify against the plan's name (the chaos run at 40 pupils after
    # one at 6 had every record refused at the gateway: "bước 8 không phải của …").
    signer = RemoteSigner(tmp_path)
    first = signer.enrol({"signer_id": "gv-1", "name": "Phan Bảo Anh"})
    again = signer.enrol({"signer_id": "gv-1", "name": "Phan Bảo Anh"})
    other = signer.enrol({"signer_id": "gv-1", "name": "Nguyễn Minh Hiếu"})

    assert again["certificate"] == first["certificate"]  # enrolled once
    assert common_name(other["certificate"]) == "Nguyễn Minh Hiếu"
    assert (
        RemoteSigner(tmp_path).enrol({"signer_id": "gv-1", "name": "Nguyễn Minh Hiếu"}) == other
    )  # a restart
    public = [x509.load_pem_x509_certificate(c["certificate"].encode()).public_key() for c in (first, other)]
    assert public[0] == public[1]  # the same key signs
