"""Return-case interoperability gateway: national return records to canonical Avro events on Kafka."""
