"""apiward: API security across the lifecycle, driven by the OpenAPI document."""

__version__ = "0.1.0"
