"""Consumer of S3 ObjectCreated notifications under ``avatars/`` (S3 → SQS → this handler).

An avatar thumbnail lands at ``avatars/{pool_id}/{user_id}/{ms-timestamp}-{rand}.{ext}``
through the presigned POST of ``POST /v1/pools/{id}/avatar``. Its arrival
is checked (size, declared and sniffed type; anything else is deleted), then
updates the member's avatar (newest upload wins, in one sequenced
transaction) and broadcasts ``avatar_updated`` with a short-lived GET URL.
Deliveries are at least once: a repeated or older upload changes nothing.
"""

from __future__ import annotations

import re

from aws_lambda_powertools.metrics import MetricUnit

from cheese_runtime import aws
from cheese_runtime import storage as files
from cheese_runtime.consumers import StoredObject, s3_object_consumer
from cheese_runtime.observability import logger, metrics
from cheese_runtime.settings import get_settings
from functions.pool.config import get_pool_settings
from functions.pool.dal import OpFailed, PoolMissing, update_op
from functions.pool.service import AVATAR_EXTENSIONS, PoolService, service_for

KEY = re.compile(
    r"^avatars/(?P<pool>[A-Za-z0-9_-]{1,64})/(?P<user>[A-Za-z0-9_-]{1,64})/(?P<ver>\d{13,15})-[0-9a-f]{8}"
    r"\.(?P<ext>jpg|png|webp)$"
)
CONTENT_TYPES = {ext: content_type for content_type, ext in AVATAR_EXTENSIONS.items()}


def service() -> PoolService:
    return service_for(get_settings(), get_pool_settings())


def _discard(bucket: str, key: str, why: str) -> None:
    logger.warning("avatar upload discarded", extra={"key": key, "reason": why})
    aws.client("s3").delete_object(Bucket=bucket, Key=key)


def avatar_arrived(bucket: str, key: str, size: int) -> bool:
    """Apply one uploaded avatar; True when it became the member's avatar."""
    svc = service()
    match = KEY.match(key)
    if not match:
        _discard(bucket, key, "unexpected key")
        return False
    if size > svc.pool_settings.avatar_max_bytes or size <= 0:
        _discard(bucket, key, "size")
        return False
    pool_id, user_id, version = match["pool"], match["user"], int(match["ver"])
    member = svc.store.member(pool_id, user_id)
    if member is None:
        _discard(bucket, key, "not a member")
        return False
    if member.get("avatar_key") == key or int(member.get("avatar_ver", 0)) >= version:
        return False  # a repeated delivery, or an older upload arriving late
    try:
        files.verify_arrival(bucket, svc.avatar_spec(key, CONTENT_TYPES[match["ext"]]))
    except files.UploadRejected as rejected:
        if rejected.reason == "missing":
            return False  # replaced and deleted by a newer upload already
        _discard(bucket, key, rejected.reason)
        return False
    op = update_op(
        svc.store.pools,
        svc.store.member_key(pool_id, user_id),
        "SET avatar_key = :k, avatar_ver = :v",
        {":k": key, ":v": version},
        "attribute_exists(pk) AND (attribute_not_exists(avatar_ver) OR avatar_ver < :v)",
    )
    try:
        seq = svc.store.sequenced(pool_id, [op])
    except OpFailed:
        return False
    except PoolMissing:
        _discard(bucket, key, "pool gone")
        return False
    previous = member.get("avatar_key")
    if previous and previous != key:
        aws.client("s3").delete_object(Bucket=bucket, Key=previous)
    url = svc.avatar_url({"avatar_key": key})
    svc.presence._emit(
        pool_id,
        {
            "type": "avatar_updated",
            "pool_id": pool_id,
            "seq": seq,
            "user_id": user_id,
            "url": url,
            "expires_in": svc.pool_settings.avatar_url_seconds,
        },
    )
    metrics.add_metric(name="AvatarsUpdated", unit=MetricUnit.Count, value=1)
    return True


def object_arrived(stored: StoredObject) -> None:
    if stored.event_name.startswith("ObjectCreated"):
        avatar_arrived(stored.bucket, stored.key, stored.size)  # Busy: retried by SQS


handler = s3_object_consumer(object_arrived)
