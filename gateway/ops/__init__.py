"""Operations: local services for tests and the demo."""
