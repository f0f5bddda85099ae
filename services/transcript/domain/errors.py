"""Transcript errors."""

from __future__ import annotations


class TranscriptError(Exception):
    """Base of the transcript service's refusals."""

    http_status = 400
    slug = "transcript"
    title = "Request refused"

    def __init__(self, detail_vi: str, *, log: str | None = None) -> None:
        super().__init__(log or detail_vi)
        self.detail_vi = detail_vi


class MalformedSnapshot(TranscriptError):
    """A locked snapshot that cannot make a học bạ (permanent: dead-lettered with this reason)."""


class RecordNotFound(TranscriptError):
    http_status = 404
    slug = "not-found"
    title = "Not found"
