"""The dead-letter queue: original bytes plus Kafka Connect-style error headers; inspection and replay."""
