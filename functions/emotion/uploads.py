"""Consumer of S3 ObjectCreated notifications under ``emoji-templates/`` (S3 → SQS → here).

Each of a template's seven uploads is checked when it arrives: at most 512 KB,
PNG or WebP with transparency, at most 1024 px a side (the hardened decoder,
``cheese_ml.images.decode_emoji_image``), and an opaque area large enough to
cover a face. The image becomes ``ready`` or ``failed`` with a reason, and the
template ``ready`` when all seven passed, ``failed`` when one did not. At least
once: an image already checked is not checked again; a key nobody issued
(or of a deleted template) is removed.
"""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit

from cheese_ml.emoji import covering_problem
from cheese_ml.images import ImageError, decode_emoji_image
from cheese_runtime import aws
from cheese_runtime.consumers import StoredObject, s3_object_consumer
from cheese_runtime.db.session import session_scope
from cheese_runtime.observability import logger, metrics
from functions.emotion import storage
from functions.emotion.dal import TemplateRepository

REASONS = {
    "empty": "the file is empty",
    "unsupported_format": "not a PNG or WebP image",
    "too_many_pixels": "the image is larger than 1024 px a side",
    "too_large": "the image is larger than 1024 px a side",
    "no_alpha": "the image has no transparency (an emoji needs an alpha channel)",
    "corrupt": "the image is damaged or truncated",
}


def check(data: bytes) -> tuple[str | None, tuple[int, int] | None, str | None]:
    """(failure reason or None, (width, height), "png" | "webp") of an uploaded emoji."""
    if len(data) > storage.EMOJI_MAX_BYTES:
        return f"the file is larger than {storage.EMOJI_MAX_BYTES // 1024} KB", None, None
    try:
        rgba = decode_emoji_image(data)
    except ImageError as error:
        return REASONS.get(error.code, error.message), None, None
    kind = "png" if data.startswith(b"\x89PNG") else "webp"
    size = (rgba.shape[1], rgba.shape[0])
    return covering_problem(rgba), size, kind


def image_arrived(key: str) -> None:
    parsed = storage.parse_template_image_key(key)
    if parsed is None:
        logger.warning("unexpected key under emoji-templates/", extra={"key": key})
        return
    owner_id, template_id, expression = parsed
    with session_scope() as session:
        repo = TemplateRepository(session)
        template = repo.get_for_update(template_id)
        image = repo.image_for_update(template_id, expression) if template else None
        if template is None or image is None or template.owner_id != owner_id:
            orphan = True
        else:
            orphan = False
            if image.status == "ready":
                return  # a repeated delivery
    if orphan:
        aws.client("s3").delete_object(Bucket=storage.bucket(), Key=key)
        logger.info("emoji upload without template removed", extra={"key": key})
        return
    head = storage.head(key)
    if head is None:
        return  # replaced or deleted since; its own event follows
    reason: str | None
    if int(head["ContentLength"]) > storage.EMOJI_MAX_BYTES:
        reason, size, kind = (
            f"the file is larger than {storage.EMOJI_MAX_BYTES // 1024} KB",
            None,
            None,
        )
    else:
        reason, size, kind = check(storage.read(key))
    with session_scope() as session:
        repo = TemplateRepository(session)
        template = repo.get_for_update(template_id)
        image = repo.image_for_update(template_id, expression)
        if template is None or image is None:
            return
        image.status = "failed" if reason else "ready"
        image.failure_reason = reason
        image.content_type = kind
        image.width, image.height = size if size else (None, None)
        session.flush()
        repo.refresh_status(template)
        status = template.status
    metrics.add_metric(
        name="EmojiImagesRefused" if reason else "EmojiImagesAccepted",
        unit=MetricUnit.Count,
        value=1,
    )
    logger.info(
        "emoji image checked",
        extra={
            "template_id": template_id,
            "expression": expression,
            "ok": not reason,
            "template": status,
        },
    )


def object_arrived(stored: StoredObject) -> None:
    if stored.event_name.startswith("ObjectCreated"):
        image_arrived(stored.key)


handler = s3_object_consumer(object_arrived)
