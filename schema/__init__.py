"""The bundled JSON Schemas, installed as jobshare_sync.schemas (data only)."""
