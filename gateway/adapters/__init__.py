"""Adapters between the canonical events and the EU systems (Eurodac, SIS, EES): pure mapping, rendering, matching."""
