"""Connection settings: NATS credentials and TLS from the environment; secrets hidden;
per-service slot variables (with the old shared name deprecated); placeholder secrets
refused outside development mode."""

from __future__ import annotations

import warnings

import pytest
from pydantic import ValidationError

from services.common.settings import NatsSettings, S3Settings, ServiceSettings, WorkerSettings
from services.converter.settings import ConverterSettings
from services.gateway.settings import GatewaySettings
from services.ledger.settings import LedgerSettings
from services.srt_fixer.settings import SrtFixerSettings
from services.transcriber.settings import TranscriberSettings


def test_nats_authentication_settings_reach_the_client(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NATS_URL", "nats://a:4222,nats://b:4222")
    monkeypatch.setenv("NATS_USER", "svc")
    monkeypatch.setenv("NATS_PASSWORD", "pw")
    monkeypatch.setenv("NATS_CREDS_FILE", "/etc/nats/app.creds")
    monkeypatch.setenv("NATS_NKEY_SEED_FILE", "/etc/nats/seed.nk")
    kwargs = NatsSettings().connect_kwargs()
    assert kwargs["servers"] == ["nats://a:4222", "nats://b:4222"]
    assert kwargs["user"] == "svc" and kwargs["password"] == "pw"
    assert kwargs["user_credentials"] == "/etc/nats/app.creds"
    assert kwargs["nkeys_seed"] == "/etc/nats/seed.nk"
    assert "tls" not in kwargs


def test_secrets_do_not_show_in_settings_reprs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("S3_SECRET_KEY", "very-secret-s3")
    monkeypatch.setenv("NATS_PASSWORD", "very-secret-nats")
    text = repr(ServiceSettings()) + str(ServiceSettings().model_dump())
    assert "very-secret-s3" not in text and "very-secret-nats" not in text


# --- settings whose meaning differs per service: one name each -----------------------

SLOT_SETTINGS = [
    (TranscriberSettings, "TRANSCRIBER_MAX_CONCURRENT_JOBS"),
    (ConverterSettings, "CONVERTER_MAX_CONCURRENT_JOBS"),
    (SrtFixerSettings, "SRT_FIXER_MAX_CONCURRENT_JOBS"),
]


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No slot or secret variables from the outer environment; a real S3 secret."""
    for name in ["MAX_CONCURRENT_JOBS", "JETSCRIBE_DEV_MODE", *(n for _, n in SLOT_SETTINGS)]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("S3_SECRET_KEY", "a-real-secret-from-the-vault")
    return monkeypatch


@pytest.mark.parametrize(("settings_cls", "name"), SLOT_SETTINGS)
def test_the_new_slot_variable_sets_the_slots(
    clean_env: pytest.MonkeyPatch, settings_cls: type[WorkerSettings], name: str
) -> None:
    clean_env.setenv(name, "3")
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        settings = settings_cls()
    assert settings.max_concurrent_jobs == 3
    assert settings.deprecations == []


@pytest.mark.parametrize(("settings_cls", "name"), SLOT_SETTINGS)
def test_the_old_slot_variable_still_works_and_warns_naming_the_new_one(
    clean_env: pytest.MonkeyPatch, settings_cls: type[WorkerSettings], name: str
) -> None:
    clean_env.setenv("MAX_CONCURRENT_JOBS", "3")
    with pytest.warns(DeprecationWarning, match=f"MAX_CONCURRENT_JOBS is deprecated: use {name}"):
        settings = settings_cls()
    assert settings.max_concurrent_jobs == 3
    # What the worker logs at start-up.
    assert len(settings.deprecations) == 1 and name in settings.deprecations[0]


@pytest.mark.parametrize(("settings_cls", "name"), SLOT_SETTINGS)
def test_the_new_slot_variable_wins_over_the_old_one(
    clean_env: pytest.MonkeyPatch, settings_cls: type[WorkerSettings], name: str
) -> None:
    clean_env.setenv("MAX_CONCURRENT_JOBS", "2")
    clean_env.setenv(name, "4")
    with pytest.warns(DeprecationWarning, match=f"ignored: {name} is set"):
        settings = settings_cls()
    assert settings.max_concurrent_jobs == 4


def test_slots_keep_their_defaults_and_their_keyword(clean_env: pytest.MonkeyPatch) -> None:
    assert TranscriberSettings().max_concurrent_jobs == 8
    assert ConverterSettings().max_concurrent_jobs == 1
    assert SrtFixerSettings().max_concurrent_jobs == 8
    assert ConverterSettings(max_concurrent_jobs=5).max_concurrent_jobs == 5


# --- placeholder secrets are refused outside development mode ------------------------

SERVICE_SETTINGS: list[type[ServiceSettings]] = [
    ServiceSettings,
    TranscriberSettings,
    ConverterSettings,
    SrtFixerSettings,
    LedgerSettings,
    GatewaySettings,
]


@pytest.mark.parametrize(
    "secret", [None, "jetscribe-dev-secret", "minioadmin", "CHANGE-ME", "changeme", ""]
)
@pytest.mark.parametrize("settings_cls", SERVICE_SETTINGS)
def test_a_default_or_placeholder_s3_secret_is_refused(
    clean_env: pytest.MonkeyPatch, settings_cls: type[ServiceSettings], secret: str | None
) -> None:
    if secret is None:
        clean_env.delenv("S3_SECRET_KEY")  # the built-in default
    else:
        clean_env.setenv("S3_SECRET_KEY", secret)
    with pytest.raises(ValidationError, match=r"S3_SECRET_KEY.*JETSCRIBE_DEV_MODE=true"):
        settings_cls()


@pytest.mark.parametrize("settings_cls", SERVICE_SETTINGS)
def test_development_mode_accepts_the_default_secret(
    clean_env: pytest.MonkeyPatch, settings_cls: type[ServiceSettings]
) -> None:
    clean_env.delenv("S3_SECRET_KEY")
    clean_env.setenv("JETSCRIBE_DEV_MODE", "true")
    settings = settings_cls()
    assert settings.jetscribe_dev_mode
    assert settings.s3_secret_key.get_secret_value() == "jetscribe-dev-secret"


def test_a_real_secret_needs_no_development_mode(clean_env: pytest.MonkeyPatch) -> None:
    settings = ServiceSettings()
    assert not settings.jetscribe_dev_mode
    assert settings.s3_secret_key.get_secret_value() == "a-real-secret-from-the-vault"


def test_s3_settings_alone_keep_their_defaults(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.delenv("S3_SECRET_KEY")
    assert S3Settings().s3_secret_key.get_secret_value() == "jetscribe-dev-secret"


def test_the_refusal_names_the_variable_but_shows_no_secret(
    clean_env: pytest.MonkeyPatch,
) -> None:
    clean_env.setenv("S3_SECRET_KEY", "minioadmin")
    clean_env.setenv("NATS_PASSWORD", "very-secret-nats")
    with pytest.raises(ValidationError) as refused:
        TranscriberSettings()
    assert "S3_SECRET_KEY" in str(refused.value)
    assert "very-secret-nats" not in str(refused.value)
    assert "minioadmin" not in str(refused.value)


def test_a_heartbeat_slower_than_a_third_of_ack_wait_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """ACK_WAIT_S=10 with the default HEARTBEAT_S=10 once let a running job run twice."""
    monkeypatch.setenv("JETSCRIBE_DEV_MODE", "true")
    monkeypatch.setenv("ACK_WAIT_S", "10")
    with pytest.raises(ValidationError, match="at most a third of ACK_WAIT_S"):
        WorkerSettings()
    monkeypatch.setenv("HEARTBEAT_S", "3")
    assert WorkerSettings().heartbeat_s == 3.0


def test_health_ports_listen_on_loopback_unless_told_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("JETSCRIBE_DEV_MODE", "true")
    assert ServiceSettings().health_host == "127.0.0.1"
    monkeypatch.setenv("HEALTH_HOST", "0.0.0.0")
    assert ServiceSettings().health_host == "0.0.0.0"
