"""What the emoji-face service refuses, in its own words; functions/emotion/app.py maps each to HTTP."""

from __future__ import annotations

from cheese_runtime.errors import DomainError, ResourceNotFound


class EmotionError(DomainError):
    """Every refusal of the emoji-face function."""


class TemplateNotFound(EmotionError, ResourceNotFound):
    default_detail = "No such template."


class TaskNotFound(EmotionError, ResourceNotFound):
    default_detail = "No such task."


class PhotoNotFound(EmotionError, ResourceNotFound):
    default_detail = "No such photo."


class EmotionConsentRequired(EmotionError):
    """The runtime's consent-required problem, worded for emoji faces (emotion analysis)."""

    slug = "consent-required"
    title = "Consent required"
    default_detail = (
        "Emoji faces analyse the expressions in your photos: emotion analysis needs your "
        "consent first (PUT /v1/me/consent with expression_analysis: true). It is never used "
        "to judge anyone at work or school."
    )


class TemplateNotReady(EmotionError):
    slug = "template-not-ready"
    title = "Template not ready"
    default_detail = (
        "This template's seven images have not all arrived and passed their checks yet."
    )


class PhotoNotReady(EmotionError):
    slug = "photo-not-ready"
    title = "Photo not ready"
    default_detail = "This photo has not arrived yet, or it could not be read."


class BuiltinTemplateReadOnly(EmotionError):
    slug = "builtin-template"
    title = "Built-in template"
    default_detail = "Built-in templates cannot be changed or deleted."


class TaskQueueUnavailable(EmotionError):
    slug = "task-queue-unavailable"
    title = "Try again"
    default_detail = "The task could not be queued; nothing was started."


class NotInPool(EmotionError):
    slug = "not-in-pool"
    title = "Not in this pool"
    default_detail = "Enter the pool before sending webcam frames."


class FrameTooLarge(EmotionError):
    slug = "frame-too-large"
    title = "Frame too large"
    default_detail = "Send one JPEG frame of at most 256 KB."


class FrameNotJpeg(EmotionError):
    slug = "frame-not-jpeg"
    title = "Frame not a JPEG"
    default_detail = "The frame must be one JPEG image."


class FrameUnreadable(EmotionError):
    slug = "frame-unreadable"
    title = "Frame unreadable"
