"""The pages, one module per user's task (landing, sign-in, verification, pre-check,
register a shipment and its certificate).
"""
