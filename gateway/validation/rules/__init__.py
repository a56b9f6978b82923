"""The rule catalogue, one module per area. Each module lists its rules in a module-level ``RULES`` tuple."""
