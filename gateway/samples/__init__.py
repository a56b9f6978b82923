"""Sample data: deterministic case stories and national exports rendered from them."""
