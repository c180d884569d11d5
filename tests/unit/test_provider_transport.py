import pytest

from service.providers.transport import template


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (
            "/1/user/228TQ4/activities/date/2026-11-20.json",
            "/1/user/{id}/activities/date/{date}.json",
        ),
        ("/1.2/user/-/sleep/date/2026-11-20.json", "/1.2/user/-/sleep/date/{date}.json"),
        (
            "/1/user/-/activities/apiSubscriptions/17-activities.json",
            "/1/user/-/activities/apiSubscriptions/{id}",
        ),
        (
            "/v4/users/me/dataTypes/steps/dataPoints:dailyRollUp",
            "/v4/users/me/dataTypes/steps/dataPoints:dailyRollUp",
        ),
        (
            "/v4/projects/p-1/subscribers/s-2/subscriptions/x?force=true",
            "/v4/projects/{id}/subscribers/{id}/subscriptions/{id}",
        ),
    ],
)
def test_templates_name_no_person_day_or_subscription(path: str, expected: str) -> None:
    assert template(path) == expected
