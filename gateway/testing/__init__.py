"""Test support for the gateway and for connector packages (example events, the connector conformance kit)."""
