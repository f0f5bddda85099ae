"""Logs: JSON lines with correlation ids and never a personal field, whatever a handler logs."""

import io
import json
import logging

from services.runtime.logging import configure_logging, correlation, get_logger

PAYLOAD = {
    "student": {
        "student_id": "st-1",
        "full_name": "Trần Thị Bình",
        "personal_id": "001312012345",
        "birth_date": "2012-03-04",
        "address": "12 Lê Lợi, Huế",
    },
    "guardians": [{"phone": "0912345678", "father_name": "Trần Văn C"}],
}


def lines(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_structured_log_of_a_whole_payload_keeps_no_personal_field():
    stream = io.StringIO()
    configure_logging("test", stream=stream)
    with correlation(event_id="e-1", correlation_id="c-1"):
        get_logger("t").info("handling", payload=PAYLOAD, note="ID 001312012345 in text")
    (record,) = lines(stream)
    text = json.dumps(record, ensure_ascii=False)
    for secret in ("001312012345", "2012-03-04", "Lê Lợi", "0912345678", "Trần Văn C"):
        assert secret not in text
    assert (
        record["payload"]["student"]["full_name"] == "Trần Thị Bình"
    )  # not personal data under the law's list
    assert record["event_id"] == "e-1" and record["correlation_id"] == "c-1" and record["service"] == "test"


def test_stdlib_and_nameko_style_logs_are_scrubbed_too():
    stream = io.StringIO()
    configure_logging("test", stream=stream)
    logging.getLogger("nameko.containers").error("worker failed with %s", PAYLOAD)
    try:
        raise ValueError(f"bad row {PAYLOAD['student']}")
    except ValueError:
        logging.getLogger("kombu").exception("boom")
    text = stream.getvalue()
    assert len(lines(stream)) == 2
    for secret in ("001312012345", "2012-03-04", "Lê Lợi"):
        assert secret not in text
