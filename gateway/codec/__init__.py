"""Canonical events to bytes and back: Avro schemas, single-object and Confluent framing."""
