"""Notifications as code: a Pulumi Cloud webhook per stack to the team's chat (Slack or Microsoft
Teams format), for the events someone must act on. Pulumi Webhooks need the Team, Enterprise or
Business Critical edition (Pulumi docs, "Webhooks")."""

import pulumi
import pulumi_pulumiservice as pulumiservice

from .settings import DeliverySettings, StackDelivery

FILTERS = (
    pulumiservice.WebhookFilters.DEPLOYMENT_SUCCEEDED,
    pulumiservice.WebhookFilters.DEPLOYMENT_FAILED,
    pulumiservice.WebhookFilters.UPDATE_FAILED,
    pulumiservice.WebhookFilters.DRIFT_DETECTED,
    pulumiservice.WebhookFilters.DRIFT_DETECTION_FAILED,
)


def webhook_args(settings: DeliverySettings, stack: StackDelivery,
                 payload_url: pulumi.Output[str]) -> dict:
    return {
        "organization_name": settings.pulumi_org, "project_name": settings.app_project,
        "stack_name": stack.name, "display_name": f"{settings.app_project}-{stack.name}",
        "active": True, "payload_url": payload_url,
        "format": pulumiservice.WebhookFormat(settings.webhook_format),
        "filters": list(FILTERS),
    }
