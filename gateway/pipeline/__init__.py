"""The ingestion pipeline: read → parse → map → validate → encode → produce, with dead letters as values."""
