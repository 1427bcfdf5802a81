"""The funded projects: their curated records, what we derive from them, and the catalogue the API serves."""
