"""The JSON API under /api/v1: personal API tokens, strict JSON bodies, problem+json
refusals, the library's use cases, and its OpenAPI 3.1 document at /api/v1/openapi.json.
See docs/api.md."""

from portal.api.views import bp

__all__ = ["bp"]
