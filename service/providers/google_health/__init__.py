"""The Google Health API (v4): its webhook signature, notifications, OAuth, subscriber
management and dataPoints reads, the successor of the legacy Fitbit Web API.

Nothing here imports the rest of the service beyond the provider-neutral types of
`service.providers` (`base`, `rows`, `errors`, `ratelimit`).
"""

PROVIDER = "google_health"
