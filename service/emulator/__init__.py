"""A local Fitbit Web API: the emulator that tests, benchmarks and `dev` run against.

It behaves like Fitbit wherever this service touches it: OAuth 2.0 (authorization code with
PKCE, refresh, client credentials, revoke, introspect), subscriptions, the collection
endpoints a subscriber fetches, the profile, rate limits, and signed notification pushes to
the subscriber. A control API under `/_emulator` changes data, injects faults, moves the
clock and reads counters; see `service/emulator/README.md`.

It is an independent implementation of Fitbit's side: nothing here imports the service's own
Fitbit client (`service.providers`), so a misunderstanding shared by both would not pass
unnoticed.
"""

from service.emulator.app import create_emulator_app
from service.emulator.config import EmulatorConfig

__all__ = ["EmulatorConfig", "create_emulator_app"]
