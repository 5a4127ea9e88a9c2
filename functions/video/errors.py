"""What the video function refuses, in its own words; functions/video/app.py maps each to HTTP."""

from __future__ import annotations

from cheese_runtime.errors import DomainError, ResourceNotFound


class VideoError(DomainError):
    """Every refusal of the video function."""


class VideoNotFound(VideoError, ResourceNotFound):
    default_detail = "No such video."


class VideoNotUploaded(VideoError):
    slug = "video-not-uploaded"
    title = "Video not uploaded"
    default_detail = (
        "The video has not arrived, or it is not what was declared (size, type): "
        "upload it with the presigned POST first."
    )


class UnknownPeople(VideoError):
    slug = "unknown-people"
    title = "Unknown people"
    default_detail = 'keep names people you do not have (use "me" or ids from GET /v1/people).'


class QueueUnavailable(VideoError):
    slug = "video-queue-unavailable"
    title = "Try again"
    default_detail = "The anonymisation could not be queued; nothing was started."


class LiveStreamNotFound(VideoError, ResourceNotFound):
    default_detail = "No such live stream."


class LiveSegmentNotFound(VideoError, ResourceNotFound):
    default_detail = "No such segment: ask for its upload first."


class LiveStreamEnded(VideoError):
    slug = "live-stream-ended"
    title = "Live stream ended"
    default_detail = "The stream has ended: it takes no more segments."


class SegmentNotUploaded(VideoError):
    slug = "live-segment-not-uploaded"
    title = "Segment not uploaded"
    default_detail = (
        "The segment has not arrived, or it is not what was declared (size, type): "
        "upload it with its presigned POST first."
    )
