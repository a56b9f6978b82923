"""Settings: librdkafka mapping, secrets, overrides and environment (no broker needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from gateway.kafka.logs import LibrdkafkaLog
from gateway.kafka.settings import ConsumerSettings, KafkaSettings, ProducerSettings, TransactionSettings


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("GATEWAY_KAFKA_"):
            monkeypatch.delenv(name)


@pytest.fixture
def pem_files(tmp_path: Path) -> dict[str, Path]:
    files = {name: tmp_path / f"{name}.pem" for name in ("ca", "cert", "key")}
    for path in files.values():
        path.write_text("-----BEGIN DUMMY-----\n")
    return files


def test_plaintext_maps_only_connection_keys() -> None:
    config = KafkaSettings(bootstrap_servers="b1:9092,b2:9092", client_id="gw-test").to_librdkafka()
    assert isinstance(config.pop("logger"), LibrdkafkaLog)  # librdkafka's lines go through Python logging
    assert config == {
        "bootstrap.servers": "b1:9092,b2:9092",
        "client.id": "gw-test",
        "security.protocol": "PLAINTEXT",
        "log_level": 4,
    }


def test_sasl_ssl_maps_tls_and_sasl_keys(pem_files: dict[str, Path]) -> None:
    settings = KafkaSettings(
        bootstrap_servers="broker:9093",
        security_protocol="SASL_SSL",
        ssl_ca_location=pem_files["ca"],
        ssl_certificate_location=pem_files["cert"],
        ssl_key_location=pem_files["key"],
        ssl_key_password="key-pass",
        ssl_endpoint_identification=False,
        sasl_mechanism="SCRAM-SHA-512",
        sasl_username="gateway",
        sasl_password="s3cret-pw",
    )
    config = settings.to_librdkafka()
    assert config["security.protocol"] == "SASL_SSL"
    assert config["ssl.ca.location"] == str(pem_files["ca"])
    assert config["ssl.certificate.location"] == str(pem_files["cert"])
    assert config["ssl.key.location"] == str(pem_files["key"])
    assert config["ssl.key.password"] == "key-pass"
    assert config["ssl.endpoint.identification.algorithm"] == "none"
    assert config["sasl.mechanism"] == "SCRAM-SHA-512"
    assert config["sasl.username"] == "gateway"
    assert config["sasl.password"] == "s3cret-pw"


def test_ssl_verifies_host_name_by_default(pem_files: dict[str, Path]) -> None:
    config = KafkaSettings(security_protocol="SSL", ssl_ca_location=pem_files["ca"]).to_librdkafka()
    assert config["ssl.endpoint.identification.algorithm"] == "https"
    assert not any(key.startswith("sasl.") for key in config)


def test_mapping_is_accepted_by_librdkafka(pem_files: dict[str, Path]) -> None:
    from confluent_kafka import Producer

    settings = KafkaSettings(
        security_protocol="SASL_PLAINTEXT", sasl_mechanism="PLAIN", sasl_username="u", sasl_password="p"
    )
    # Building (not connecting) a client proves every mapped key and value is one librdkafka knows.
    Producer({**ProducerSettings().to_librdkafka(settings), "log_level": 0}).close()


@pytest.mark.parametrize(
    "kwargs",
    [
        {"security_protocol": "SASL_SSL"},
        {"security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": "PLAIN", "sasl_username": "u"},
        {"security_protocol": "PLAINTEXT", "sasl_username": "u"},
        {"security_protocol": "SASL_PLAINTEXT", "sasl_mechanism": "GSSAPI", "sasl_username": "u", "sasl_password": "p"},
        {"security_protocol": "TLS"},
        {"security_protocol": "SSL", "ssl_ca_location": "/does/not/exist.pem"},
    ],
)
def test_invalid_security_combinations_are_rejected(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        KafkaSettings(**kwargs)


def test_tls_files_need_a_tls_protocol(pem_files: dict[str, Path]) -> None:
    with pytest.raises(ValidationError, match="TLS settings given"):
        KafkaSettings(ssl_ca_location=pem_files["ca"])


def test_mutual_tls_needs_certificate_and_key(pem_files: dict[str, Path]) -> None:
    with pytest.raises(ValidationError, match="both"):
        KafkaSettings(security_protocol="SSL", ssl_certificate_location=pem_files["cert"])


def _sasl(password: str) -> KafkaSettings:
    return KafkaSettings(
        security_protocol="SASL_PLAINTEXT", sasl_mechanism="PLAIN", sasl_username="u", sasl_password=password
    )


@given(secret=st.text(alphabet=st.characters(codec="ascii", min_codepoint=33), min_size=1, max_size=30))
def test_secrets_never_appear_in_repr_or_str(secret: str) -> None:
    password = f"<pw:{secret}>"  # delimited, so a short secret cannot match field names by accident
    settings = _sasl(password)
    for shown in (repr(settings), str(settings), str(settings.model_dump()), settings.model_dump_json()):
        assert password not in shown
    assert settings.to_librdkafka()["sasl.password"] == password


def test_validation_errors_do_not_echo_secrets() -> None:
    with pytest.raises(ValidationError) as caught:
        KafkaSettings(security_protocol="SASL_SSL", sasl_password="hunter2-leak")
    assert "hunter2-leak" not in str(caught.value)


def test_known_override_is_passed_through() -> None:
    settings = KafkaSettings(overrides={"socket.keepalive.enable": "true", "reconnect.backoff.ms": "200"})
    config = settings.to_librdkafka()
    assert config["socket.keepalive.enable"] == "true"
    assert config["reconnect.backoff.ms"] == "200"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"no.such.property": "1"}, "No such configuration property"),
        ({"socket.keepalive.enable": "perhaps"}, "Expected bool value"),
        ({"enable.idempotence": "false"}, "typed fields"),
        ({"bootstrap.servers": "elsewhere:9092"}, "typed fields"),
        ({"linger.ms": "50"}, "typed fields"),
        ({"sasl.oauthbearer.client.secret": "x"}, "secrets"),
        ({"ssl.keystore.password": "x"}, "secrets"),
    ],
)
def test_bad_overrides_are_rejected(overrides: dict[str, str], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        KafkaSettings(overrides=overrides)


def test_settings_are_frozen_and_strict() -> None:
    settings = KafkaSettings()
    with pytest.raises(ValidationError):
        settings.client_id = "other"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        KafkaSettings(bootstrap="typo:9092")


def test_environment_is_read_with_prefixes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_KAFKA_BOOTSTRAP_SERVERS", "env-broker:9092")
    monkeypatch.setenv("GATEWAY_KAFKA_SECURITY_PROTOCOL", "SASL_PLAINTEXT")
    monkeypatch.setenv("GATEWAY_KAFKA_SASL_MECHANISM", "SCRAM-SHA-256")
    monkeypatch.setenv("GATEWAY_KAFKA_SASL_USERNAME", "env-user")
    monkeypatch.setenv("GATEWAY_KAFKA_SASL_PASSWORD", "env-pass")
    monkeypatch.setenv("GATEWAY_KAFKA_OVERRIDES", '{"socket.keepalive.enable": "true"}')
    monkeypatch.setenv("GATEWAY_KAFKA_PRODUCER_LINGER_MS", "25")
    monkeypatch.setenv("GATEWAY_KAFKA_CONSUMER_GROUP_ID", "env-group")
    monkeypatch.setenv("GATEWAY_KAFKA_TXN_TRANSACTIONAL_ID", "env-txn")
    kafka = KafkaSettings()
    assert kafka.bootstrap_servers == "env-broker:9092"
    assert kafka.sasl_password is not None
    assert kafka.sasl_password.get_secret_value() == "env-pass"
    assert kafka.overrides == {"socket.keepalive.enable": "true"}
    assert ProducerSettings().linger_ms == 25
    assert ConsumerSettings().group_id == "env-group"
    assert TransactionSettings().transactional_id == "env-txn"
    assert KafkaSettings(bootstrap_servers="kwarg:9092").bootstrap_servers == "kwarg:9092"


def test_producer_forces_idempotence_and_acks_all() -> None:
    config = ProducerSettings(linger_ms=20, compression="zstd", batch_size=65536).to_librdkafka(KafkaSettings())
    assert config["enable.idempotence"] is True
    assert config["acks"] == "all"
    assert config["linger.ms"] == 20
    assert config["compression.codec"] == "zstd"
    assert config["batch.size"] == 65536


def test_consumer_is_read_committed_without_auto_commit() -> None:
    config = ConsumerSettings(group_id="g1").to_librdkafka(KafkaSettings())
    assert config["group.id"] == "g1"
    assert config["isolation.level"] == "read_committed"
    assert config["enable.auto.commit"] is False
    assert config["auto.offset.reset"] == "earliest"


def test_transaction_caps_message_timeout_at_transaction_timeout() -> None:
    txn = TransactionSettings(transactional_id="t-1", transaction_timeout_ms=20_000)
    config = txn.to_librdkafka(KafkaSettings(), ProducerSettings(message_timeout_ms=300_000))
    assert config["transactional.id"] == "t-1"
    assert config["transaction.timeout.ms"] == 20_000
    assert config["message.timeout.ms"] == 20_000
    assert config["enable.idempotence"] is True


def test_transaction_timeout_is_bounded_by_broker_default_max() -> None:
    with pytest.raises(ValidationError):
        TransactionSettings(transactional_id="t", transaction_timeout_ms=900_001)
