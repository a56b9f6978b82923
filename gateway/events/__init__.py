"""The canonical event model (generated from schemas/avro)."""
