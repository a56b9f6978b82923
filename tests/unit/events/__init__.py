"""Unit tests of the generated event models."""
