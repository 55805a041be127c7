"""Package data: dated rule sets, one TOML file per rule set (no code)."""
