"""The client's user calls against the emulator over HTTP: create, view, update, aliases,
subscriptions, transfer, delete; 202 answers, 404 as "none", conflicts, pacing and malformed answers."""

from __future__ import annotations

import pytest

from osctl.errors import UserIdentityConflict
from osctl.onesignal import OneSignalClient, OneSignalRequestFailed
from osctl.users.model import DeclaredUser, LiveSubscription
from tests.onesignal.conftest import API_KEY, APP_ID, FakeTime
from tests.onesignal.scripted import ScriptedServer, fixed

ALICE = DeclaredUser(app="prod", external_id="qa-alice", aliases={"crm_id": "qa-12345"},
                     tags={"qa": "1", "cohort": "spring"}, language="en", timezone_id="Europe/Berlin",
                     subscriptions=(("Email", "alice+qa@example.com"), ("SMS", "+15555550100")))


@pytest.fixture(autouse=True)
def unlimited_views(control):
    """The fake clock does not let real time pass: lift the emulator's real-time view limit."""
    control.rate_limit("user_view", None)


def _create(client, external_id: str, **body):
    return client.create_user(APP_ID, {"identity": {"external_id": external_id}, **body})


def test_a_created_user_is_viewed_with_everything_declared(client):
    created = client.create_user(APP_ID, ALICE.create_body())
    assert not created.accepted_only and created.identity["external_id"] == "qa-alice"
    client.upsert_aliases(APP_ID, "qa-alice", dict(ALICE.aliases))
    live = client.get_user(APP_ID, "qa-alice")
    assert live.onesignal_id == created.onesignal_id and live.external_id == "qa-alice"
    assert live.aliases == {"crm_id": "qa-12345"}
    assert (live.tags, live.language, live.timezone_id) == ({"qa": "1", "cohort": "spring"}, "en", "Europe/Berlin")
    assert [(s.type, s.token) for s in live.subscriptions] == [("Email", "alice+qa@example.com"),
                                                                ("SMS", "+15555550100")]
    assert all(s.id for s in live.subscriptions)


def test_a_create_never_reaches_a_customer_who_holds_a_declared_alias(client):
    """OneSignal looks a create's aliases up: an alias sent with it would update that person."""
    _create(client, "customer-17", identity={"external_id": "customer-17", "crm_id": "qa-12345"})
    created = client.create_user(APP_ID, ALICE.create_body())
    customer = client.get_user(APP_ID, "customer-17")
    assert customer.external_id == "customer-17" and customer.tags == {} and customer.subscriptions == ()
    assert created.onesignal_id != customer.onesignal_id
    with pytest.raises(UserIdentityConflict) as caught:
        client.upsert_aliases(APP_ID, "qa-alice", dict(ALICE.aliases))
    assert caught.value.conflicting_aliases == {"crm_id": "qa-12345"}


def test_a_user_that_does_not_exist_is_none(client):
    assert client.get_user(APP_ID, "qa-nobody") is None
    assert client.delete_user(APP_ID, "qa-nobody") is False


def test_properties_are_merged_and_an_empty_tag_removes_it(client):
    client.create_user(APP_ID, ALICE.create_body())
    client.update_user_properties(APP_ID, "qa-alice", {"tags": {"cohort": "summer", "qa": ""}, "language": "de"})
    live = client.get_user(APP_ID, "qa-alice")
    assert (live.tags, live.language, live.timezone_id) == ({"cohort": "summer"}, "de", "Europe/Berlin")


def test_aliases_are_set_and_removed_and_one_held_by_another_user_is_a_conflict(client):
    _create(client, "qa-alice")
    _create(client, "qa-bob", identity={"external_id": "qa-bob", "crm_id": "qa-2"})
    assert client.upsert_aliases(APP_ID, "qa-alice", {"crm_id": "qa-1", "jira": "QA-7"})["jira"] == "QA-7"
    assert client.delete_alias(APP_ID, "qa-alice", "jira") is True
    assert client.get_user(APP_ID, "qa-alice").aliases == {"crm_id": "qa-1"}
    with pytest.raises(UserIdentityConflict) as caught:
        client.upsert_aliases(APP_ID, "qa-alice", {"crm_id": "qa-2"})
    assert caught.value.conflicting_aliases == {"crm_id": "qa-2"} and caught.value.status == 409
    assert f"set aliases crm_id of user 'qa-alice' in app {APP_ID[:8]}…: PATCH" in str(caught.value)


def test_a_create_whose_aliases_name_two_users_is_a_conflict_naming_them(client):
    _create(client, "qa-alice")
    _create(client, "qa-bob", identity={"external_id": "qa-bob", "crm_id": "qa-2"})
    with pytest.raises(UserIdentityConflict) as caught:
        client.create_user(APP_ID, {"identity": {"external_id": "qa-alice", "crm_id": "qa-2"}})
    assert caught.value.conflicting_aliases == {"external_id": "qa-alice", "crm_id": "qa-2"}


def test_subscriptions_are_added_and_deleted_one_by_one(client):
    _create(client, "qa-alice")
    added = client.add_subscription(APP_ID, "qa-alice", "Email", "alice+qa@example.com")
    assert added.type == "Email" and added.token == "alice+qa@example.com" and added.id
    assert client.get_user(APP_ID, "qa-alice").subscriptions == (added,)
    assert client.delete_subscription(APP_ID, added.id) is True
    assert client.get_user(APP_ID, "qa-alice").subscriptions == ()
    assert client.delete_subscription(APP_ID, added.id) is False  # already gone: 404


def test_a_device_is_transferred_to_the_test_user(client):
    _create(client, "qa-alice")
    _create(client, "someone", subscriptions=[{"type": "AndroidPush", "token": "push-token-1"}])
    device = client.get_user(APP_ID, "someone").subscriptions[0]
    assert client.transfer_subscription(APP_ID, device.id, "qa-alice")["external_id"] == "qa-alice"
    assert client.get_user(APP_ID, "qa-alice").subscriptions == (LiveSubscription(device.id, "AndroidPush",
                                                                                  "push-token-1"),)
    assert client.get_user(APP_ID, "someone").subscriptions == ()


def test_a_deleted_user_is_gone(client):
    client.create_user(APP_ID, ALICE.create_body())
    assert client.delete_user(APP_ID, "qa-alice") is True
    assert client.get_user(APP_ID, "qa-alice") is None


def test_writes_answered_202_show_only_once_applied(client, control):
    control.call("PUT", "/settings", {"user_write_delay": 30})
    created = client.create_user(APP_ID, ALICE.create_body())
    assert created.accepted_only and created.onesignal_id
    assert client.get_user(APP_ID, "qa-alice") is None  # accepted, not applied yet
    control.call("POST", "/clock", {"advance": 31})
    assert client.get_user(APP_ID, "qa-alice").onesignal_id == created.onesignal_id
    assert client.add_subscription(APP_ID, "qa-alice", "Email", "alice2+qa@example.com") is None  # no id yet
    client.update_user_properties(APP_ID, "qa-alice", {"tags": {"cohort": "summer"}})
    assert client.get_user(APP_ID, "qa-alice").tags["cohort"] == "spring"
    control.call("POST", "/clock", {"advance": 31})
    live = client.get_user(APP_ID, "qa-alice")
    assert live.tags["cohort"] == "summer" and "alice2+qa@example.com" in [s.token for s in live.subscriptions]


def test_user_views_are_paced_per_app_and_apart_from_message_views(client, fake_time, control):
    for name in ("qa-a", "qa-b", "qa-c"):
        _create(client, name)
    control.rate_limit("messages_list", None)
    control.rate_limit("message_view", None)
    first = client.list_messages(APP_ID).messages[0]  # a message view at 0 s
    done: list[str] = []
    found = client.get_users(APP_ID, ["qa-a", "qa-b", "qa-c", "qa-x"], on_each=done.append)
    assert done == ["qa-a", "qa-b", "qa-c", "qa-x"] and found["qa-x"] is None and found["qa-b"].external_id == "qa-b"
    assert fake_time.sleeps == [1.0, 1.0, 1.0]  # user views at 0, 1, 2 and 3 s: not after the message view
    client.get_message(APP_ID, first.id)  # its own pace: 1 s after the list, long past
    assert fake_time.sleeps == [1.0, 1.0, 1.0]
    views = [r for r in control.requests() if "/users/by/" in r["path"] and r["method"] == "GET"]
    assert len(views) == 4


def test_a_429_on_a_view_is_waited_out_as_retry_after_says(emulator_url, control, retries):
    control.rate_limit("user_view", 1.0, burst=1)
    real = FakeTime(real=True)
    with OneSignalClient(emulator_url, API_KEY, sleep=real.sleep, clock=real.clock, view_interval=0.0,
                         rng=lambda: 0.0, on_retry=lambda call, reason: retries.append((call, reason))) as client:
        assert client.get_user(APP_ID, "qa-a") is None
        assert client.get_user(APP_ID, "qa-b") is None  # the second in the same second: 429, retried
    assert len(retries) == 1 and "429" in retries[0][1] and real.sleeps[-1] >= 1.0


def test_a_create_whose_answer_was_lost_is_sent_again_without_making_a_second_user(client, control):
    control.faults({"kind": "lost_answer", "method": "POST", "path": "/users$", "times": 1})
    created = client.create_user(APP_ID, ALICE.create_body())
    assert client.get_user(APP_ID, "qa-alice").onesignal_id == created.onesignal_id
    creates = [r for r in control.requests() if r["method"] == "POST" and r["path"].endswith("/users")]
    assert len(creates) == 2  # the answer was lost, the create sent again found the user by its external_id
    assert [s.token for s in client.get_user(APP_ID, "qa-alice").subscriptions] == ["alice+qa@example.com",
                                                                                   "+15555550100"]


@pytest.mark.parametrize(("answer", "problem"), [
    ({"identity": "qa-alice"}, "identity is a string, expected an object"),
    ({"identity": {}, "subscriptions": [{"type": "Email", "token": "x@example.com"}]}, "subscriptions[0] has no 'id'"),
    ({"identity": {}, "properties": {"tags": ["qa"]}}, "properties.tags is a list, expected an object"),
    ([], "the answer is a list, expected an object"),
])
def test_a_view_of_the_wrong_shape_is_an_error_naming_the_call_not_an_empty_user(answer, problem):
    path = f"/apps/{APP_ID}/users/by/external_id/qa-alice"
    with ScriptedServer([("GET", path, fixed(200, answer))]) as server:
        fake = FakeTime()
        with OneSignalClient(server.url, API_KEY, sleep=fake.sleep, clock=fake.clock) as client, \
                pytest.raises(OneSignalRequestFailed) as caught:
            client.get_user(APP_ID, "qa-alice")
    assert str(caught.value) == (f"read user 'qa-alice' of app {APP_ID[:8]}…: GET {path} answered 200 OK; "
                                 f"unexpected shape: {problem}")


def test_an_external_id_is_escaped_in_the_path(client, control):
    _create(client, "qa-a/b c")
    assert client.get_user(APP_ID, "qa-a/b c").external_id == "qa-a/b c"
    assert any(r["path"].endswith("/users/by/external_id/qa-a%2Fb%20c") for r in control.requests())
