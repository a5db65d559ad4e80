"""The drift check the engine runs before the ECS service on every preview and update: it
stops an update while an emergency rollback binds the service, lets through the update that
makes the rollback permanent (the same images), ignores a stale marker, and turns an AWS
refusal into a check failure naming the permissions. ECS answers through botocore's Stubber."""

import unicodedata

import botocore.session
import pytest
from day_two_stubs import (
    CLUSTER,
    FAMILY,
    SERVICE,
    SERVICE_NAME,
    StubbedAws,
    deployment,
    image,
    service_answer,
    task_definition_answer,
    task_definition_arn,
)
from pulumi.runtime import rpc
from shipyard import drift

OPERATOR = "arn:aws:sts::111122223333:assumed-role/oncall/ana"
MARKED = {"service": "web", drift.REVISION_TAG: "6", drift.FROM_TAG: "7",
          drift.BY_TAG: OPERATOR, drift.AT_TAG: "2026-12-03T10:30:00Z"}
NEWS = {"service": "web", "stack": "staging", "cluster": CLUSTER, "family": FAMILY,
        "service_prefix": "web-service-", "images": {"web": image(8)},
        "region": "eu-west-1", "account_id": "111122223333",
        "principal": "arn:aws:sts::111122223333:assumed-role/shipyard-deploy-staging"}


@pytest.fixture
def ecs(monkeypatch):
    stub = StubbedAws()

    class Session:
        def client(self, name):
            assert name == "ecs"
            return stub.aws.client("ecs")
    monkeypatch.setattr(drift, "provider_session", lambda props: Session())
    yield stub
    stub.verify()


def stub_live(stub, running, tags):
    others = f"arn:aws:ecs:eu-west-1:111122223333:service/{CLUSTER.rsplit('/', 1)[1]}/api-service-1a2b3c4"
    stub.add("ecs", "list_services", {"serviceArns": [others, SERVICE]}, {"cluster": CLUSTER})
    stub.add("ecs", "describe_services",
             service_answer(deployment("PRIMARY", running, "COMPLETED"), tags=tags),
             {"cluster": CLUSTER, "services": [SERVICE], "include": ["TAGS"]})


def check(news=NEWS):
    return drift._DriftCheckProvider().check({}, dict(news))


def test_an_update_with_other_images_stops_naming_the_revision_who_when_and_both_ways(ecs):
    stub_live(ecs, 6, MARKED)
    ecs.add("ecs", "describe_task_definition", task_definition_answer(6),
            {"taskDefinition": task_definition_arn(6)})
    (failure,) = check().failures
    assert failure.property == "cluster"
    assert failure.reason == (
        f"service web runs {FAMILY}:6, put there by an emergency rollback (by {OPERATOR} at "
        "2026-12-03T10:30:00Z, from revision 7); this update would replace it with other "
        "images, so it stops before touching the service. Either make the rollback permanent: "
        "deploy the release that built revision 6 through delivery (`shipyard rollback staging "
        "web --to 6` names it), which deploys the same images and passes this check; or roll "
        "forward on purpose: `shipyard rollback staging web --clear-emergency`, then run this "
        "update again.")


def test_the_update_that_deploys_the_same_images_makes_it_permanent_and_passes(ecs):
    stub_live(ecs, 6, MARKED)
    ecs.add("ecs", "describe_task_definition", task_definition_answer(6))
    assert check({**NEWS, "images": {"web": image(6)}}).failures == []


def test_a_preview_that_builds_new_images_cannot_know_them_and_stops(ecs):
    stub_live(ecs, 6, MARKED)
    assert len(check({**NEWS, "images": {"web": rpc.UNKNOWN}}).failures) == 1


def test_a_marker_that_no_longer_binds_is_ignored(ecs):
    stub_live(ecs, 8, MARKED)  # deployed since: the service runs another revision
    assert check().failures == []


def test_no_marker_no_failure(ecs):
    stub_live(ecs, 7, {"service": "web"})
    assert check().failures == []


def test_a_first_deployment_reads_nothing():
    assert check({**NEWS, "cluster": rpc.UNKNOWN}).failures == []


def test_access_denied_is_a_check_failure_naming_the_permissions(ecs):
    ecs.error("ecs", "list_services", "AccessDeniedException", "not authorized")
    (failure,) = check().failures
    assert failure.reason == ("the drift check may not read the live service "
                              "(AccessDeniedException); the identity of this update needs "
                              "ecs:ListServices, ecs:DescribeServices, ecs:DescribeTaskDefinition "
                              "in the stack's region")


def _fits(shape, text):
    """ECS's tag pattern `([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)`: letters, separators, numbers
    and those punctuation marks (Python's re has no \\p{...}: read by Unicode category)."""
    assert shape.metadata["pattern"] == "([\\p{L}\\p{Z}\\p{N}_.:/=+\\-@]*)"
    return (shape.metadata.get("min", 0) <= len(text) <= shape.metadata["max"]
            and all(unicodedata.category(ch)[0] in "LZN" or ch in "_.:/=+-@" for ch in text))


def test_marker_tags_round_trip_and_fit_the_ecs_models_tag_shapes():
    model = botocore.session.get_session().get_service_model("ecs")
    marker = drift.EmergencyRollback(revision=6, from_revision=7, by=OPERATOR + "#x" * 200,
                                     at="2026-12-03T10:30:00Z")
    tags = drift.marker_tags(marker)
    assert all(_fits(model.shape_for("TagValue"), t["value"])
               and _fits(model.shape_for("TagKey"), t["key"]) for t in tags)
    read = drift.read_marker({t["key"]: t["value"] for t in tags})
    assert (read.revision, read.from_revision, read.at) == (6, 7, "2026-12-03T10:30:00Z")
    assert read.by.startswith(OPERATOR + "_x")
    assert SERVICE_NAME.startswith(NEWS["service_prefix"])


def test_the_drift_provider_is_serialized_by_reference():
    """As the other dynamic providers (test_rollback.py): by module and class name, so a code
    change makes no spurious diff and the provider process imports the installed package."""
    import base64

    import dill
    from pulumi.dynamic.dynamic import serialize_provider

    raw = base64.b64decode(serialize_provider(drift._DriftCheckProvider()))
    assert len(raw) < 100 and b"shipyard.drift" in raw
    assert type(dill.loads(raw)) is drift._DriftCheckProvider


@pytest.mark.parametrize(("changed", "shown"), [
    ({}, False), ({"images": {"web": image(9)}}, False), ({"cluster": CLUSTER + "-2"}, True),
    ({"family": FAMILY + "-2"}, True)])
def test_only_where_it_looks_changes_the_plan(changed, shown):
    diff = drift._DriftCheckProvider().diff("id", dict(NEWS), {**NEWS, **changed})
    assert diff.changes is shown
