"""The REST API under /api/v1 (FastAPI). Thin: parse, call one application service, answer."""
