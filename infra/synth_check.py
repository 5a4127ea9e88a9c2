"""Synthesise the app offline (no bundling, no Docker, no AWS account) and fail
on any finding that is not acknowledged: cdk-nag AwsSolutions errors and
warnings, CloudFormation validation errors, construct warnings, and cfn-lint
errors and warnings on every synthesised template.

    python -m infra.synth_check [-c key=value ...]

Exit status 0 when clean; 1 with the findings listed otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from aws_cdk import App
from aws_cdk.cx_api import CloudAssembly

# Synthesis without the CDK CLI: skip asset bundling (pip) for every stack, and
# do not record a stack trace per construct (as the CLI does without --debug).
OFFLINE_CONTEXT = {"aws:cdk:bundling-stacks": [], "aws:cdk:disable-stack-trace": True}
REPORT_FILE = "validation-report.json"
# cfn-lint rules not enforced, each with its reason. W3005 (a DependsOn that a
# Ref/GetAtt already implies) comes from CDK's own dependency rendering.
CFN_LINT_IGNORED = {"W3005": "redundant DependsOn rendered by CDK itself"}
CFN_LINT_REGIONS = ["us-east-1", "ap-northeast-2"]


@dataclass(frozen=True)
class Finding:
    plugin: str
    rule: str
    severity: str
    description: str
    construct_paths: tuple[str, ...]

    def __str__(self) -> str:
        paths = "\n".join(f"    {path}" for path in self.construct_paths)
        return f"[{self.severity}] {self.rule} ({self.plugin}): {self.description}\n{paths}"


def read_findings(outdir: str) -> list[Finding]:
    report_path = Path(outdir) / REPORT_FILE
    if not report_path.exists():
        return []
    report = json.loads(report_path.read_text())
    return [
        Finding(
            plugin["pluginName"],
            violation["ruleName"],
            violation["severity"],
            violation["description"].strip(),
            tuple(c["constructPath"] for c in violation["violatingConstructs"]),
        )
        for plugin in report["pluginReports"]
        for violation in plugin["violations"]
    ]


def synthesize(app: App) -> tuple[CloudAssembly | None, list[Finding]]:
    """The assembly (None when validation stopped synthesis) and every unacknowledged finding."""
    try:
        assembly = app.synth()
    except RuntimeError as error:
        if "ValidationFailed" not in str(error):
            raise
        assembly = None
    return assembly, read_findings(app.outdir)


def lint_templates(assembly: CloudAssembly) -> list[Finding]:
    """cfn-lint errors and warnings (informational matches ignored) of every stack's template."""
    from cfnlint.api import ManualArgs, lint_file

    config = ManualArgs(regions=CFN_LINT_REGIONS, ignore_checks=sorted(CFN_LINT_IGNORED))
    findings = []
    for stack in assembly.stacks:
        for match in lint_file(Path(stack.template_full_path), config=config):
            if match.rule.severity not in ("error", "warning"):
                continue
            location = "/".join(str(part) for part in match.path)
            findings.append(
                Finding(
                    "cfn-lint",
                    match.rule.id,
                    match.rule.severity,
                    match.message,
                    (f"{stack.stack_name}: {location}",),
                )
            )
    return findings


def offline_app(outdir: str, extra_context: dict[str, str] | None = None) -> App:
    from infra.config import cdk_json_context

    return App(
        outdir=outdir, context={**cdk_json_context(), **OFFLINE_CONTEXT, **(extra_context or {})}
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "-c",
        "--context",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="context value, as for cdk synth",
    )
    args = parser.parse_args(argv)
    context = dict(item.split("=", 1) for item in args.context)

    from infra.app import build
    from infra.config import StageConfig

    with tempfile.TemporaryDirectory(prefix="cheese-synth-") as outdir:
        app = offline_app(outdir, context)
        build(app, StageConfig.from_context(app.node))
        assembly, findings = synthesize(app)
        if assembly is not None:
            findings += lint_templates(assembly)
    for finding in findings:
        print(finding)
    if findings:
        print(f"synth check: {len(findings)} unacknowledged finding(s)", file=sys.stderr)
        return 1
    assert assembly is not None
    print(f"synth check: clean ({', '.join(stack.stack_name for stack in assembly.stacks)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
