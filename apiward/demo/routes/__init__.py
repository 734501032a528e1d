"""The demo bank's routers, one module per area; each exposes ``routes(secure)``."""
