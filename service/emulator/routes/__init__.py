"""HTTP routes: Fitbit's OAuth endpoints, its Web API, and the emulator's control API."""
