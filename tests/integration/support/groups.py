"""Waiting for a consumer group: until every given member holds partitions of a topic."""

from __future__ import annotations

import subprocess
import time

from confluent_kafka import ConsumerGroupState, KafkaError, KafkaException
from confluent_kafka.admin import AdminClient

# Answers of a broker still starting up, or of a group not yet created: ask again.
_NOT_YET = {
    KafkaError.COORDINATOR_LOAD_IN_PROGRESS,
    KafkaError.COORDINATOR_NOT_AVAILABLE,
    KafkaError.NOT_COORDINATOR,
    KafkaError.GROUP_ID_NOT_FOUND,
}


def assigned(admin: AdminClient, group: str, members: set[str], topic: str) -> bool:
    """Whether the group is stable and each of ``members`` (static instance ids) holds partitions of ``topic``."""
    try:
        description = admin.describe_consumer_groups([group])[group].result(timeout=10)
    except KafkaException as exc:
        if exc.args[0].retriable() or exc.args[0].code() in _NOT_YET:
            return False
        raise
    if description.state != ConsumerGroupState.STABLE:  # while it rebalances, the assignments shown are the old ones
        return False
    holding = {
        m.group_instance_id
        for m in description.members
        if m.assignment and any(tp.topic == topic for tp in m.assignment.topic_partitions)
    }
    return members <= holding


def wait_assigned(
    admin: AdminClient,
    group: str,
    members: set[str],
    topic: str,
    procs: list[subprocess.Popen[bytes]],
    timeout: float = 90.0,
) -> None:
    """Wait until ``assigned``; fail if a process exits first or the time runs out."""
    deadline = time.monotonic() + timeout
    while not assigned(admin, group, members, topic):
        assert time.monotonic() < deadline, f"{sorted(members)} never all held partitions of {topic}"
        assert all(p.poll() is None for p in procs), "a process exited before the group was stable"
        time.sleep(0.5)
