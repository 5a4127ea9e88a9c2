"""Settings of the video diary (environment prefix ``CHEESE_DIARY_``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from cheese_runtime.settings import FunctionSettings, settings_getter


class DiarySettings(FunctionSettings):
    model_config = SettingsConfigDict(env_prefix="CHEESE_DIARY_")

    # An owner sends at most this many channel invitations (new or re-opened) in any
    # sliding window of ``invitation_window_seconds``, over all their channels: enough
    # to invite a circle of friends at once, too few to spam addresses.
    invitations_per_window: int = Field(default=20, ge=1, le=10_000)
    invitation_window_seconds: int = Field(default=3600, ge=1, le=7 * 24 * 3600)
    # Who transcribes diaries: "local", faster-whisper in the analysis itself (the local
    # stack, tests, the bench); "transcribe", Amazon Transcribe batch jobs whose completion
    # event finishes the diary (the CDK app sets it with the "transcribe" grant).
    speech_engine: Literal["local", "transcribe"] = "local"


get_diary_settings = settings_getter(DiarySettings)
