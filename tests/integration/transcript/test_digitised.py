"""Earlier years from paper: the clerk types a year in; departed teachers' steps go to the principal; years link."""

import io
import uuid

import pytest
from pypdf import PdfReader

from sandbox.issuer import mint_token
from services.runtime import http_client
from services.runtime.settings import get_settings
from services.transcript.documents import xml_package
from services.transcript.service import TranscriptService
from tests.factories import digitised_year
from tests.helpers import running

pytestmark = pytest.mark.integration
NS = f"{{{xml_package.NS}}}"


def test_a_digitised_year_is_signed_for_departed_teachers_and_links_to_the_next(amqp_uri, service_databases):
    school = f"thcs-giay-{uuid.uuid4().hex[:6]}"
    clerk = {
        "Authorization": f"Bearer {mint_token(get_settings(), user_id='van-thu', roles=['staff'], school_id=school)}"
    }
    with (
        running(TranscriptService, amqp_uri) as container,
        http_client.client(base_url=container.http_url, headers=clerk) as http,
    ):
        first = http.post(
            f"/schools/{school}/records/digitised",
            json=digitised_year("2023-2024", 6, "Học bạ giấy, trang 3"),
        )
        assert first.status_code == 201, first.text
        plan = first.json()["signature_plan"]
        # Ngữ văn comes first on the form; its teacher is still here and signs herself.
        assert plan[0] == {"order": 1, "role": "subject_teacher", "signer_id": "gv-moi", "on_behalf_of": None}
        assert plan[1] == {
            "order": 2,
            "role": "subject_teacher",
            "signer_id": "ht-1",
            "on_behalf_of": "Phan Văn Cũ",
        }
        assert [s["role"] for s in plan[2:]] == ["homeroom_teacher", "principal", "school_seal"]
        again = http.post(
            f"/schools/{school}/records/digitised", json=digitised_year("2023-2024", 6, "trang 3 lần 2")
        )
        assert again.status_code == 409 and "đã có" in again.json()["detail"]
        second = http.post(
            f"/schools/{school}/records/digitised",
            json=digitised_year("2024-2025", 7, "Học bạ giấy, trang 4"),
        )
        assert second.status_code == 201 and second.json()["lookup_code"] == first.json()["lookup_code"]

        records = http.get(f"/schools/{school}/records").json()["records"]
        assert [r["school_year"] for r in records] == ["2023-2024", "2024-2025"]
        xml = http.get(f"/records/{records[1]['id']}/xml").content
        root = xml_package.validate(xml)
        assert root.findtext(f"{NS}Identity/{NS}PreviousRecordSha256") == records[0]["xml_sha256"]
        assert root.findtext(f"{NS}Identity/{NS}Digitised/{NS}Source") == "Học bạ giấy, trang 4"
        text = (
            PdfReader(io.BytesIO(http.get(f"/records/{records[1]['id']}/pdf").content))
            .pages[0]
            .extract_text()
        )
        assert "Số hóa từ học bạ giấy: Học bạ giấy, trang 4" in text and "ký thay Phan Văn Cũ" in text

        bad = http.post(
            f"/schools/{school}/records/digitised", json={**digitised_year("2022-2023", 6, "x"), "grade": 13}
        )
        assert bad.status_code == 422
        other = {
            "Authorization": f"Bearer {mint_token(get_settings(), user_id='x', roles=['staff'], school_id='khac')}"
        }
        assert (
            http.post(
                f"/schools/{school}/records/digitised",
                json=digitised_year("2021-2022", 6, "p. 1"),
                headers=other,
            ).status_code
            == 404  # another school's id answers like an unknown one
        )
