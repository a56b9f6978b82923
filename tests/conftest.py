"""Shared fixtures. The broker fixture lives in tests/integration/conftest.py so unit tests never start one."""
