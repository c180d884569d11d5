"""The internal REST API: JSON:API 1.0 documents behind OAuth 2.0 client credentials (RFC 6749).

Its conventions follow the Fitbit Plus API: Bearer tokens from `POST /oauth/token`, skip- and
cursor-based paging with `meta.count`, `sort` and `filter[...]` parameters, JSON:API errors.
This package is imported by the command line too, so it imports nothing heavy here.
"""
