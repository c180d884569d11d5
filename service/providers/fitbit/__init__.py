"""The Fitbit Web API: its signature scheme, notification format, OAuth and data endpoints."""

PROVIDER = "fitbit"
