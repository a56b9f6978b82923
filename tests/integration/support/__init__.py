"""Helpers of the integration tests: reading topics to the end."""
