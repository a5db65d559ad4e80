"""Application load balancers and their listeners (FSBP ELB.*). Both `aws:lb/...` and the older
`aws:alb/...` tokens are matched."""

import json
import re
from collections.abc import Iterable, Iterator
from functools import cache
from pathlib import Path
from typing import Any

from pulumi_policy import EnforcementLevel, ResourceValidationArgs, Severity, StackValidationArgs

from .common import (
    Refs,
    Unparseable,
    as_list,
    depends_on,
    each_known,
    mapping,
    objects,
    of_type,
    resource_policy,
    stack_policy,
)
from .normalize import enum, flag, integer, lower, text, upper

LOAD_BALANCER = "aws:lb/loadBalancer:LoadBalancer"
LISTENER = "aws:lb/listener:Listener"
LISTENER_RULE = "aws:lb/listenerRule:ListenerRule"
WAF_ASSOCIATION = "aws:wafv2/webAclAssociation:WebAclAssociation"
WEB_ACL = "aws:wafv2/webAcl:WebAcl"
WAF_LOGGING = "aws:wafv2/webAclLoggingConfiguration:WebAclLoggingConfiguration"
# Headers that carry credentials: bearer tokens and session cookies (RFC 9110 11.6.2,
# RFC 6265 5.4). WAF logs hold every request header unless redacted (AWS WAF developer guide,
# "Log fields for web ACL traffic", redactedFields).
CREDENTIAL_HEADERS = ("authorization", "cookie")
# routing.http.desync_mitigation_mode values (ELB user guide, "Desync mitigation mode";
# terraform-provider-aws load_balancer.go validates the same three, respecting case).
_DESYNC_MODES = ("monitor", "defensive", "strictest")
SECURITY_POLICIES_FILE = (Path(__file__).resolve().parent / "datasets"
                          / "elb_security_policies.json")
_OLD_PROTOCOLS = {"SSLv3", "TLSv1", "TLSv1.1"}
_API_DEFAULT_POLICY = "ELBSecurityPolicy-2016-08"
_ACM_ARN = re.compile(r"^arn:aws[a-z-]*:acm:[a-z0-9-]+:\d{12}:certificate/[A-Za-z0-9-]+$")


def _is_application(args_or_resource) -> bool:
    return enum(args_or_resource.props, "loadBalancerType", "elbv2", "LoadBalancerTypeEnum",
                default="application") == "application"


def _alb(check):
    def guarded(args: ResourceValidationArgs) -> Iterable[str]:
        if _is_application(args):
            yield from check(args)
    return guarded


def _access_logs(args: ResourceValidationArgs) -> Iterable[str]:
    logs = mapping(args.props.get("accessLogs"), "accessLogs")
    if not (flag(logs, "enabled", "accessLogs.enabled") and text(logs, "bucket", "accessLogs.bucket")):
        yield "Access logs are off; enable accessLogs with a bucket."


def _deletion_protection(args: ResourceValidationArgs) -> Iterable[str]:
    if not flag(args.props, "enableDeletionProtection"):
        yield "Deletion protection is off."


def _drop_invalid_headers(args: ResourceValidationArgs) -> Iterable[str]:
    if not flag(args.props, "dropInvalidHeaderFields"):
        yield "dropInvalidHeaderFields is not true; malformed headers reach the service."


def _desync(args: ResourceValidationArgs) -> Iterable[str]:
    mode = text(args.props, "desyncMitigationMode") or "defensive"
    if mode not in _DESYNC_MODES:
        raise Unparseable(f"desyncMitigationMode is {mode!r}, which the provider refuses (one of "
                          f"{', '.join(_DESYNC_MODES)})")
    if mode == "monitor":
        yield f"desyncMitigationMode is {mode!r}; use 'defensive' or 'strictest'."


def _multi_az(args: ResourceValidationArgs) -> Iterable[str]:
    subnets = [str(s) for s in as_list(args.props.get("subnets"))] or [
        str(text(mapping(m, "subnetMappings[]"), "subnetId"))
        for m in as_list(args.props.get("subnetMappings"))]
    distinct = len(set(subnets))
    if distinct < 2:
        yield f"The load balancer spans {distinct} subnet(s); use at least two AZs."


def _protocol(props: Any) -> str:
    # Without protocol an ALB listener is HTTP (listener.go keeps HTTP for application LBs).
    return upper(props, "protocol") or "HTTP"


def _only_redirects_to_https(actions: list) -> bool:
    """Every action is a redirect to HTTPS. Action types are read ignoring case, as the
    provider validates them; the redirect protocol exactly (the provider takes only HTTPS,
    HTTP or '#{protocol}', which keeps the request's)."""
    return bool(actions) and all(
        lower(a, "type", "actions[].type") == "redirect"
        and text(mapping(a.get("redirect"), "redirect"), "protocol", "redirect.protocol")
        == "HTTPS" for a in actions)


def _http_redirects(args: ResourceValidationArgs) -> Iterable[str]:
    if _protocol(args.props) != "HTTP":
        return
    actions = objects(args.props.get("defaultActions"), "defaultActions")
    if not _only_redirects_to_https(actions):
        kinds = ", ".join(str(a.get("type")) for a in actions) or "none"
        yield f"HTTP listener on port {integer(args.props, 'port')} serves traffic (actions: " \
              f"{kinds}) instead of only redirecting to HTTPS."


def _https_tls13(args: ResourceValidationArgs) -> Iterable[str]:
    protocol = _protocol(args.props)
    if protocol not in ("HTTPS", "TLS"):
        return
    # Without sslPolicy, API-created listeners get ELBSecurityPolicy-2016-08 (AWS docs, "Security
    # policies for your Application Load Balancer").
    policy = text(args.props, "sslPolicy") or _API_DEFAULT_POLICY
    protocols = _security_policies().get(str(policy))
    if protocols is None:
        yield f"sslPolicy is {policy!r}, which is not in the table of AWS security policies; " \
              "use a TLS 1.3 policy such as ELBSecurityPolicy-TLS13-1-2-2021-06."
    elif "TLSv1.3" not in protocols or _OLD_PROTOCOLS & set(protocols):
        yield f"sslPolicy {policy} negotiates {', '.join(protocols)}; use a policy with TLS 1.3 " \
              "and nothing older than TLS 1.2, such as ELBSecurityPolicy-TLS13-1-2-2021-06."
    certificate = text(args.props, "certificateArn")
    if not certificate or not _ACM_ARN.match(certificate):
        yield f"certificateArn {certificate!r} is not an ACM certificate ARN."


def _http_listener_rules(args: StackValidationArgs) -> Iterable[tuple[str, str]]:
    """A rule added to a shared HTTP listener serves plain HTTP unless it too only redirects."""
    http = [listener for listener in of_type(args.resources, LISTENER)
            if _protocol(listener.props) == "HTTP"]

    def judge(index: int, rule: Any) -> Iterator[tuple[str, str]]:
        if not any(depends_on(rule, "listenerArn", listener) for listener in http):
            return
        actions = objects(rule.props.get("actions"), "actions")
        if not _only_redirects_to_https(actions):
            kinds = ", ".join(str(a.get("type")) for a in actions) or "none"
            yield rule.urn, (f"The rule on an HTTP listener serves traffic (actions: {kinds}) "
                             "instead of only redirecting to HTTPS.")
    yield from each_known(list(of_type(args.resources, LISTENER_RULE)), judge)


@cache
def _security_policies() -> dict[str, list[str]]:
    return json.loads(SECURITY_POLICIES_FILE.read_text())["policies"]


def _waf(args: StackValidationArgs) -> Iterable[tuple[str, str]]:
    associations = list(of_type(args.resources, WAF_ASSOCIATION))

    def judge(index: int, lb: Any) -> Iterator[tuple[str, str]]:
        if any(depends_on(a, "resourceArn", lb) for a in associations):
            return
        if _is_application(lb) and not flag(lb.props, "internal"):
            yield lb.urn, "No WAF web ACL is associated with this internet-facing ALB."
    yield from each_known(list(of_type(args.resources, LOAD_BALANCER)), judge)


def _redacted_headers(configuration: Any) -> set[str]:
    names = set()
    for field in objects(configuration.props.get("redactedFields"), "redactedFields"):
        header = mapping(field.get("singleHeader"), "redactedFields[].singleHeader")
        name = text(header, "name", "redactedFields[].singleHeader.name")
        if name:
            names.add(name.lower())  # HTTP header names are case-insensitive (RFC 9110 5.1)
    return names


def _waf_logging(args: StackValidationArgs) -> Iterable[tuple[str, str]]:
    configurations = list(of_type(args.resources, WAF_LOGGING))

    def judge(index: int, acl: Any) -> Iterator[tuple[str, str]]:
        mine = [c for c in configurations if depends_on(c, "resourceArn", acl)]
        logged = [c for c in mine if as_list(c.props.get("logDestinationConfigs"))]
        if not logged:
            yield acl.urn, ("The web ACL has no logging configuration; blocked and allowed "
                            "requests go unrecorded.")
            return
        for configuration in logged:
            missing = [h for h in CREDENTIAL_HEADERS if h not in _redacted_headers(configuration)]
            if missing:
                yield configuration.urn, (
                    "The web ACL's logs keep the "
                    f"{' and '.join(h.capitalize() for h in missing)} header(s); redact them "
                    "(redactedFields singleHeader), or the logs hold credentials in plain text.")
    yield from each_known(list(of_type(args.resources, WEB_ACL)), judge)


POLICIES = [
    resource_policy("alb-access-logs", "Application load balancers write access logs to S3.",
                    (LOAD_BALANCER,), _alb(_access_logs), severity=Severity.MEDIUM,
                    refs=Refs(why="Access logs are the record of who called the service and how; "
                                  "without them an incident cannot be reconstructed.",
                              fsbp=("ELB.5",),
                              cdk_nag=("AwsSolutions-ELB2",),
                              checkov=("CKV_AWS_91",)),
                    reads=('enum', 'bool', 'text'),
                    remediation="Enable access logs to the hardened bucket (stack config "
                                "shipyard:access_logs: true)."),
    resource_policy("alb-deletion-protection", "Application load balancers have deletion "
                    "protection on.", (LOAD_BALANCER,), _alb(_deletion_protection),
                    severity=Severity.MEDIUM,
                    refs=Refs(why="Deleting the load balancer takes the service offline and frees "
                                  "its DNS name.",
                              fsbp=("ELB.6",),
                              checkov=("CKV_AWS_150",)),
                    reads=('enum', 'bool'),
                    remediation="Set deletion_protection: true (on by default in prod)."),
    resource_policy("alb-drop-invalid-headers", "Application load balancers drop invalid "
                    "HTTP header fields.", (LOAD_BALANCER,), _alb(_drop_invalid_headers),
                    severity=Severity.MEDIUM,
                    refs=Refs(why="Malformed headers are a request-smuggling and header-injection "
                                  "vector.",
                              fsbp=("ELB.4",),
                              checkov=("CKV_AWS_131",)),
                    reads=('enum', 'bool'),
                    remediation="Set drop_invalid_header_fields=True."),
    resource_policy("alb-desync-mitigation", "Application load balancers use 'defensive' or "
                    "'strictest' desync mitigation.", (LOAD_BALANCER,), _alb(_desync),
                    severity=Severity.MEDIUM,
                    refs=Refs(why="Desync mitigation blocks HTTP request smuggling between the ALB"
                                  " and targets.",
                              fsbp=("ELB.12",)),
                    reads=('enum', 'text'),
                    remediation="Set desync_mitigation_mode='defensive'."),
    resource_policy("alb-multi-az", "Application load balancers span at least two AZs.",
                    (LOAD_BALANCER,), _alb(_multi_az), severity=Severity.MEDIUM,
                    refs=Refs(why="A load balancer in one AZ fails with that AZ.",
                              fsbp=("ELB.13",)),
                    reads=('enum', 'text'),
                    remediation="Give the load balancer public subnets in two or more AZs."),
    resource_policy("http-redirects-to-https", "An HTTP listener only redirects to HTTPS.",
                    (LISTENER,), _http_redirects,
                    refs=Refs(why="Plain HTTP exposes requests, cookies and tokens on the network.",
                              fsbp=("ELB.1",),
                              checkov=("CKV_AWS_2",)),
                    reads=('upper-case-enum', 'case-insensitive-enum', 'text', 'int'),
                    remediation="Make the port-80 listener's only action a redirect to HTTPS "
                                "(ContainerService does this when certificate_arn is set)."),
    resource_policy("listener-https-tls13", "HTTPS listeners use a TLS 1.3 security policy and "
                    "an ACM certificate.", (LISTENER,), _https_tls13,
                    refs=Refs(why="TLS 1.0/1.1 have known weaknesses; a TLS 1.3 policy that still "
                                  "offers them lets a client downgrade.",
                              fsbp=("ELB.17",),
                              checkov=("CKV_AWS_103",)),
                    reads=('upper-case-enum', 'text'),
                    remediation="Set ssl_policy='ELBSecurityPolicy-TLS13-1-2-2021-06' and an ACM "
                                "certificate_arn."),
    stack_policy("alb-waf", "Internet-facing application load balancers have a WAF web ACL.",
                 _waf, severity=Severity.MEDIUM, enforcement=EnforcementLevel.ADVISORY,
                 refs=Refs(why="A web ACL filters common exploits and floods before they reach the"
                               " service.",
                           fsbp=("ELB.16",),
                           checkov=("CKV2_AWS_28",)),
                 reads=('enum', 'bool'),
                 remediation="Associate an aws.wafv2.WebAcl with the load balancer "
                             "(aws.wafv2.WebAclAssociation)."),
    stack_policy("waf-logging", "WAF web ACLs log their requests, with the Authorization and "
                 "Cookie headers redacted.", _waf_logging, severity=Severity.MEDIUM,
                 refs=Refs(why="Without logs a blocked attack or a false block cannot be "
                               "investigated; unredacted logs would copy every bearer token and "
                               "session cookie into CloudWatch.",
                           fsbp=("WAF.11",), checkov=("CKV2_AWS_31",)),
                 reads=("text",),
                 remediation="Add aws.wafv2.WebAclLoggingConfiguration to a log group named "
                             "aws-waf-logs-..., redacting the authorization and cookie headers "
                             "(ContainerService does this when WAF is on)."),
    stack_policy("http-listener-rules-redirect", "Listener rules added to an HTTP listener "
                 "(shared load balancers) only redirect to HTTPS.", _http_listener_rules,
                 refs=Refs(why="A forward rule on the port-80 listener serves the application "
                               "over plain HTTP despite the listener's redirect.",
                           fsbp=("ELB.1",), checkov=("CKV_AWS_2",)),
                 reads=('upper-case-enum', 'case-insensitive-enum', 'text'),
                 remediation="Attach forwarding rules to the HTTPS listener; on the HTTP "
                             "listener use only a redirect to HTTPS."),
]
