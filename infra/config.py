"""Per-deployment settings, read from CDK context (``cdk.json`` or ``-c key=value``)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aws_cdk import aws_logs as logs
from constructs import Node

REPO_ROOT = Path(__file__).resolve().parent.parent
STAGE_PATTERN = re.compile(r"[a-z][a-z0-9]{0,11}")
CDK_JSON = REPO_ROOT / "cdk.json"


def cdk_json_context() -> dict[str, Any]:
    """The context of ``cdk.json`` (feature flags, defaults) for in-process synths.

    The CDK CLI passes it to ``python -m infra.app`` itself; the tests and the
    synth check build the app without the CLI and must read it themselves.
    """
    context: dict[str, Any] = json.loads(CDK_JSON.read_text())["context"]
    return context


def _flag(value: object) -> bool:
    # ``-c key=false`` arrives as the string "false".
    return value if isinstance(value, bool) else str(value).lower() in ("1", "true", "yes")


@dataclass(frozen=True)
class StageConfig:
    stage: str = "dev"
    # Aurora cluster deletion protection; off only for throwaway stages.
    deletion_protection: bool = True
    alarm_email: str | None = None
    log_retention: logs.RetentionDays = logs.RetentionDays.ONE_MONTH
    backup_retention_days: int = 7
    aurora_min_acu: float = 0.5
    aurora_max_acu: float = 4.0
    # A reader in a second AZ that takes over if the writer fails.
    aurora_reader: bool = False
    # Where face embeddings are searched: "local" (our index in the database,
    # ~100x cheaper per photo) or "rekognition" (a Rekognition collection).
    face_index_backend: str = "local"

    def __post_init__(self) -> None:
        # The stage ends up in bucket, table, queue and cluster names.
        if not STAGE_PATTERN.fullmatch(self.stage):
            raise ValueError(f"stage {self.stage!r} must match {STAGE_PATTERN.pattern}")
        if self.face_index_backend not in ("local", "rekognition"):
            raise ValueError("faceIndexBackend must be 'local' or 'rekognition'")

    @classmethod
    def from_context(cls, node: Node) -> StageConfig:
        # Context values are JSON, from cdk.json or `cdk -c key=value` (then a string).
        def get(key: str, default: object) -> Any:
            value = node.try_get_context(key)
            return default if value is None else value

        defaults = cls()
        return cls(
            stage=str(get("stage", defaults.stage)),
            deletion_protection=_flag(get("deletionProtection", defaults.deletion_protection)),
            alarm_email=node.try_get_context("alarmEmail"),
            # A RetentionDays member name, e.g. "THREE_MONTHS".
            log_retention=logs.RetentionDays[str(get("logRetention", defaults.log_retention.name))],
            backup_retention_days=int(get("backupRetentionDays", defaults.backup_retention_days)),
            aurora_min_acu=float(get("auroraMinAcu", defaults.aurora_min_acu)),
            aurora_max_acu=float(get("auroraMaxAcu", defaults.aurora_max_acu)),
            aurora_reader=_flag(get("auroraReader", defaults.aurora_reader)),
            face_index_backend=str(get("faceIndexBackend", defaults.face_index_backend)),
        )

    def physical_name(self, base: str) -> str:
        """A name from ``resources`` made unique per stage (stages may share an account)."""
        return f"{base}-{self.stage}"
