"""Unit tests of gateway.codec and the schema evolution gate."""
