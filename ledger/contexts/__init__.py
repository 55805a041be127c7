"""JSON-LD context documents the ledger's credentials name in ``@context``."""
