"""cdk-nag (AwsSolutions) acknowledgements: every one names the rule and says why."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations
from constructs import IConstruct


def acknowledge(construct: IConstruct, rule: str, reason: str) -> None:
    """Acknowledge ``rule`` (e.g. ``AwsSolutions-IAM5[Resource::*]``) on a construct and below."""
    Validations.of(construct).acknowledge(Acknowledgment(id=rule, reason=reason))
