"""The Kafka layer: a thin typed wrapper over confluent-kafka.

Settings map to librdkafka in one place (`settings`); one retry policy retries only ``TransientError`` (`retry`);
`IdempotentProducer` never drops a message silently (`producer`); `TransactionalProcessor` runs exactly-once
consume-transform-produce (`transactions`); `ensure_topics` makes declared topics real (`topics`).
"""

from gateway.kafka.producer import IdempotentProducer, OutboundMessage
from gateway.kafka.retry import RetrySettings, classify, retrying
from gateway.kafka.settings import ConsumerSettings, KafkaSettings, ProducerSettings, TransactionSettings
from gateway.kafka.topics import TopicSpec, TopicsReport, ensure_topics
from gateway.kafka.transactions import BatchLimits, ProcessorStats, TransactionalProcessor

__all__ = [
    "BatchLimits",
    "ConsumerSettings",
    "IdempotentProducer",
    "KafkaSettings",
    "OutboundMessage",
    "ProcessorStats",
    "ProducerSettings",
    "RetrySettings",
    "TopicSpec",
    "TopicsReport",
    "TransactionSettings",
    "TransactionalProcessor",
    "classify",
    "ensure_topics",
    "retrying",
]
