"""The bundled example repositories, installed as jobshare_sync.examples (data only)."""
