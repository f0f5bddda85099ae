"""The one-pass hexadecimal string reader gives what pyHanko's own gives, object and position, or pyHanko's error."""

import io

from hypothesis import given, settings
from hypothesis import strategies as st
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.misc import PdfReadError

from services.runtime import pdf_reading

HEX = "0123456789abcdefABCDEF"
WHITESPACE = " \n\r\t\f\x00"


def _both(data: bytes) -> tuple[object, object]:
    """(result or error type, position after) of pyHanko's reader and ours, on a stream holding ``data`` after a
    prefix, so that positions are not simply from 0."""
    outcomes = []
    for read in (pdf_reading._PYHANKO_READ, pdf_reading.read_hex_string):
        stream = io.BytesIO(b"1 0 obj " + data + b" endobj")
        stream.seek(8)
        try:
            value = read(stream)
            outcomes.append((type(value), bytes(value.original_bytes), stream.tell()))
        except PdfReadError as error:
            outcomes.append((type(error), None, None))
    return outcomes[0], outcomes[1]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=HEX + WHITESPACE, max_size=300))
def test_any_well_formed_hex_string_reads_the_same(body):
    ours, theirs = _both(b"<" + body.encode() + b">")
    assert ours == theirs


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=HEX + WHITESPACE + "%zG<\n>", max_size=60))
def test_malformed_strings_get_pyhankos_answer(body):
    ours, theirs = _both(b"<" + body.encode())
    assert ours == theirs


def test_a_signature_sized_string_across_read_chunks_reads_the_same():
    body = (bytes(range(256)) * 200).hex().encode()  # 102,400 digits: two chunks and a bit
    ours, theirs = _both(b"<" + body[:70_000] + b"\n" + body[70_000:] + b">")
    assert ours == theirs
    assert ours[1] == bytes(range(256)) * 200


def test_an_unterminated_string_is_pyhankos_error():
    ours, theirs = _both(b"<0a1b")
    assert ours == theirs and ours[0] is not None and issubclass(ours[0], PdfReadError)


def test_pyhankos_parser_reads_hex_strings_through_the_installed_function(monkeypatch):
    calls = []

    def spy(stream):
        calls.append(stream.tell())
        return pdf_reading.read_hex_string(stream)

    monkeypatch.setattr(generic, "read_hex_string_from_stream", spy)
    value = generic.read_object(io.BytesIO(b"<< /Contents <48 49> >>"), generic.Reference(1, 0))
    assert value["/Contents"].original_bytes == b"HI" and calls == [13]


def test_install_puts_the_fast_reader_in_place(monkeypatch):
    monkeypatch.setattr(generic, "read_hex_string_from_stream", pdf_reading._PYHANKO_READ)
    pdf_reading.install()
    assert generic.read_hex_string_from_stream is pdf_reading.read_hex_string
