"""The API's routers, one module per concern (verification, tokens, the log...)."""
