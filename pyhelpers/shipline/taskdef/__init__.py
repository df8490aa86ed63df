"""Task definitions: render, clone, validate, diff and register (idempotently)."""
