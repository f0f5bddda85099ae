"""Which login each service's processes use: the audit pods log in as the writer, never as the log's owner."""

from services.runtime.settings import Settings

OWNER = "postgresql+psycopg://postgres@127.0.0.1:5432/hocba_audit"


def test_the_audit_service_logs_in_as_the_writer_locally():
    settings = Settings(env="dev", db_url_audit=OWNER, audit_db_role="hocba_audit_writer")
    assert settings.login_url("audit") == "postgresql+psycopg://hocba_audit_writer@127.0.0.1:5432/hocba_audit"
    assert settings.db_url("audit") == OWNER  # migrations and the operators' tools keep the owner


def test_the_derived_writer_login_carries_no_password_of_the_owner():
    settings = Settings(env="test", db_url_audit="postgresql+psycopg://owner:s3cret@db:5433/hocba_audit")
    assert settings.login_url("audit") == "postgresql+psycopg://hocba_audit_writer@db:5433/hocba_audit"


def test_in_production_the_pods_url_is_the_writers_own_and_an_explicit_one_wins():
    pods = "postgresql+psycopg://hocba_audit_writer:pw@hocba-pg-pooler-rw:5432/hocba_audit"
    assert Settings(env="prod", db_url_audit=pods).login_url("audit") == pods
    explicit = "postgresql+psycopg://writer:pw@127.0.0.1:5432/hocba_audit"
    assert (
        Settings(env="dev", db_url_audit=OWNER, db_url_audit_writer=explicit).login_url("audit") == explicit
    )


def test_other_services_log_in_with_their_own_url():
    settings = Settings(env="dev")
    assert settings.login_url("gradebook") == settings.db_url("gradebook")
