"""The local broker's cluster id, cluster layout and security settings (no broker needed)."""

from __future__ import annotations

import base64
import uuid
from pathlib import Path

import pytest
from pydantic import SecretStr

from gateway.devservices.kafka_security import BrokerSecurity, ScramUser
from gateway.devservices.local_kafka import LocalKafka, broker_properties, new_cluster_id, node_ports, scram_arguments


def test_cluster_id_never_starts_with_a_dash() -> None:
    # 0xF8 puts 62, URL-safe base64's "-", in the first character.
    dashed = uuid.UUID(bytes=b"\xf8" + bytes(15))
    plain = uuid.UUID(bytes=b"\x10" + bytes(15))
    assert base64.urlsafe_b64encode(dashed.bytes).startswith(b"-")
    given = iter([dashed, dashed, plain])

    assert new_cluster_id(lambda: next(given)) == base64.urlsafe_b64encode(plain.bytes).decode().rstrip("=")


def test_cluster_id_is_22_url_safe_characters() -> None:
    text = new_cluster_id()
    assert len(text) == 22
    assert uuid.UUID(bytes=base64.urlsafe_b64decode(text + "==")).version == 4


SECURITY = BrokerSecurity(
    ca_file=Path("/x/ca.pem"),
    keystore_file=Path("/x/broker.keystore.pem"),
    admin=ScramUser("admin", SecretStr("admin-pw")),
    users=(ScramUser("gw-de-csv", SecretStr("de-pw")),),
)


def test_a_quorum_of_three_replicates_three_ways_and_acknowledges_on_two() -> None:
    quorum = node_ports(29420, 3)
    assert [(n.node_id, n.client, n.controller) for n in quorum] == [
        (1, 29420, 29421),
        (2, 29430, 29431),
        (3, 29440, 29441),
    ]
    props = broker_properties(quorum[1], quorum, Path("/d"))
    assert props["node.id"] == "2"
    assert props["controller.quorum.voters"] == "1@127.0.0.1:29421,2@127.0.0.1:29431,3@127.0.0.1:29441"
    assert props["listeners"] == "PLAINTEXT://127.0.0.1:29430,CONTROLLER://127.0.0.1:29431"
    for key in (
        "default.replication.factor",
        "offsets.topic.replication.factor",
        "transaction.state.log.replication.factor",
    ):
        assert props[key] == "3"
    assert props["min.insync.replicas"] == props["transaction.state.log.min.isr"] == "2"


def test_a_single_node_keeps_its_old_layout() -> None:
    (node,) = node_ports(19092, 1)
    props = broker_properties(node, (node,), Path("/d"))
    assert props["controller.quorum.voters"] == "1@127.0.0.1:19093"
    assert props["default.replication.factor"] == props["min.insync.replicas"] == "1"
    assert "authorizer.class.name" not in props
    assert LocalKafka(port=19092).bootstrap == "127.0.0.1:19092"
    assert LocalKafka(port=29420, nodes=3).bootstrap == "127.0.0.1:29420,127.0.0.1:29430,127.0.0.1:29440"


def test_a_secured_broker_takes_clients_only_over_sasl_ssl_and_denies_without_an_acl() -> None:
    (node,) = node_ports(29400, 1)
    props = broker_properties(node, (node,), Path("/d"), SECURITY)
    assert props["listener.security.protocol.map"] == "CLIENT:SASL_SSL,INTERNAL:SSL,CONTROLLER:SSL"
    assert props["advertised.listeners"] == "CLIENT://127.0.0.1:29400,INTERNAL://127.0.0.1:29402"
    assert props["sasl.enabled.mechanisms"] == "SCRAM-SHA-512"
    assert props["listener.name.internal.ssl.client.auth"] == props["listener.name.controller.ssl.client.auth"]
    assert props["listener.name.controller.ssl.client.auth"] == "required"
    assert props["authorizer.class.name"] == "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
    assert props["allow.everyone.if.no.acl.found"] == "false"
    assert props["super.users"] == "User:admin;User:CN=broker"
    assert props["ssl.keystore.type"] == props["ssl.truststore.type"] == "PEM"
    assert not any("pw" in value for value in props.values()), "no password in server.properties"


def test_scram_users_are_created_at_format_time_and_never_shown() -> None:
    assert scram_arguments(None) == []
    assert scram_arguments(SECURITY) == [
        "--add-scram",
        "SCRAM-SHA-512=[name=admin,password=admin-pw]",
        "--add-scram",
        "SCRAM-SHA-512=[name=gw-de-csv,password=de-pw]",
    ]
    assert "admin-pw" not in repr(SECURITY)


def test_a_cluster_needs_a_node() -> None:
    with pytest.raises(ValueError, match="at least one node"):
        LocalKafka(nodes=0)
