"""The `tmec` command line: a thin Typer shell over `origin_rules` and `ledger`."""
