"""bench transcript's baseline makes the same documents as ours, from records the size of the pipeline's."""

import io

import pytest

from cli.bench.transcript import sample_records
from cli.bench.transcript_baseline import bare_fpdf, bare_lxml, page_count, plain_tree


@pytest.fixture(scope="module")
def ours():
    from services.transcript.documents import pdf_form, xml_package

    records = sample_records(2)
    packages = [xml_package.build(r) for r in records]
    return records, packages, [pdf_form.render(p) for p in packages]


def test_the_sample_records_are_grade_8_years_as_the_pipeline_assembles_them(ours):
    records, packages, _ = ours
    for record in records:
        assert [p.period for p in record.periods] == ["hk1", "hk2", "year"]
        assert all(line.hk1 and line.hk2 and line.year for line in record.subjects)
        assert len(record.subjects) == 12 and len(record.signature_plan) == 15
        assert record.birth_date and record.personal_id and record.promotion
    assert all(len(p) > 9000 for p in packages)


def test_bare_lxml_builds_the_same_bytes_as_ours(ours):
    _, packages, _ = ours
    assert bare_lxml([plain_tree(p) for p in packages]) == packages


def test_bare_fpdf_renders_as_many_pages_with_every_value_and_the_same_faces(ours):
    from pyhanko.pdf_utils.reader import PdfFileReader

    _, packages, pdfs = ours

    for package, pdf in zip(packages, pdfs, strict=True):
        [bare] = bare_fpdf([(plain_tree(package), page_count(pdf), package)])
        assert page_count(bare) == page_count(pdf) >= 1

        def faces(document: bytes) -> set[str]:
            page = PdfFileReader(io.BytesIO(document)).root["/Pages"]["/Kids"][0]
            fonts = page["/Resources"]["/Font"]
            return {str(fonts[name]["/BaseFont"]).split("+")[-1] for name in fonts}

        assert faces(bare) == faces(pdf)
