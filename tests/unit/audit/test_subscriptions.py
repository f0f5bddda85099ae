"""Every source of audit events has a consumer in the audit service (an unsubscribed source loses its trail)."""

from contracts.audit import AuditRecordedV1
from services.audit.service import AuditService
from services.runtime.broker import subscriptions_of


def test_the_audit_service_consumes_every_declared_source_of_audit_events():
    consumed = {s.source_service for s in subscriptions_of(AuditService) if s.event_model is AuditRecordedV1}
    assert consumed == set(AuditRecordedV1.EMITTED_BY)
