"""Pool avatars drawn by the server from webcam frames (``POST /v1/pools/{pool_id}/avatar/frame``).

The frame (one JPEG, at most 256 KB) is analysed in the request (expressions
only), and the member's chosen template emoji is drawn where the face is, on a
plain background (``cheese_ml.emoji.frame_avatar``): nothing of the room is
in it, and the frame itself is never stored. The avatar PNG is stored where
the pool function keeps avatars and applied through the pool's own avatar
path (``functions.pool.avatars.avatar_arrived``), which broadcasts
``avatar_updated`` with the pool's sequence number; the S3 notification of the
same object arrives later as a repeated delivery and changes nothing. An
avatar identical to the member's current one (a still member) is not sent again.

Presence from frames: a frame with a face brings an away member back; after
``NO_FACE_FRAMES_AWAY`` frames in a row without a face the member goes away by
itself (``member_away`` / ``member_back`` with reason ``camera``).
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

import cv2

from cheese_ml.analysis import Face
from cheese_ml.emoji import EmojiTemplate, dominant_expression, frame_avatar
from cheese_ml.images import ImageError, decode_image
from cheese_runtime.db.session import session_scope
from cheese_runtime.observability import logger
from functions.emotion import storage
from functions.emotion.dal import AvatarChoiceRepository, TemplateRepository
from functions.emotion.errors import FrameNotJpeg, FrameTooLarge, FrameUnreadable, NotInPool
from functions.emotion.schemas import AvatarFrameOut, Expression
from functions.emotion.templates import drawable

MAX_FRAME_BYTES = 256 * 1024
MAX_FRAME_PIXELS = 1920 * 1080
DEFAULT_TEMPLATE_ID = "builtin-twemoji"
NO_FACE_FRAMES_AWAY = 3
PRESENCE_REASON = "camera"
# The server's focus estimate from a frame (used while the client sends no focus heartbeats).
MAX_FRONTAL_YAW = 25.0  # degrees
MAX_FRONTAL_PITCH = 20.0
FRONTAL_SCORE = 100
TURNED_SCORE = 40


def _template_of(user_id: str) -> tuple[str, EmojiTemplate]:
    """The member's chosen template (the default built-in one if none, or if it is gone)."""
    with session_scope() as session:
        choice = AvatarChoiceRepository(session).get(user_id)
        repo = TemplateRepository(session)
        template = repo.visible_to(user_id, choice.template_id) if choice else None
        if template is None or template.status != "ready":
            template = repo.get(DEFAULT_TEMPLATE_ID)
        assert template is not None, "the built-in templates are seeded by migration 0006_emoji"
        template_id, owner_id, builtin_set = template.id, template.owner_id, template.builtin_set
        name, attribution = template.name, template.attribution
    return template_id, drawable(template_id, owner_id, builtin_set, name, attribution)


def focus_estimate(face: Face | None) -> int:
    """The focus score a frame shows: a frontal face 100, a turned one 40, none 0."""
    if face is None:
        return 0
    frontal = (
        abs(face.quality.yaw) <= MAX_FRONTAL_YAW and abs(face.quality.pitch) <= MAX_FRONTAL_PITCH
    )
    return FRONTAL_SCORE if frontal else TURNED_SCORE


def _count_frame(pools: Any, pool_id: str, user_id: str, face: bool, feeds_focus: bool) -> int:
    """Record the frame on the member's presence item: the frames in a row without a face
    (returned), and how many focus heartbeats came from frames (``frame_hb``)."""
    clauses, values = [], {}
    if face:
        clauses.append("SET no_face_frames = :zero")
        values[":zero"] = {"N": "0"}
    added = ([] if face else ["no_face_frames :one"]) + (["frame_hb :one"] if feeds_focus else [])
    if added:
        clauses.append("ADD " + ", ".join(added))
        values[":one"] = {"N": "1"}
    expression = " ".join(clauses)
    updated = pools.store.db.update_item(
        TableName=pools.store.pools,
        Key=pools.store.member_key(pool_id, user_id),
        UpdateExpression=expression,
        ConditionExpression="attribute_exists(pk)",
        ExpressionAttributeValues=values,
        ReturnValues="ALL_NEW",
    )
    return int(updated["Attributes"].get("no_face_frames", {}).get("N", 0))


def _presence(pools: Any, member: dict[str, Any], user_id: str, face: Face | None) -> None:
    from functions.pool.connections import Caller
    from functions.pool.presence import ClientError as PresenceRefused

    pool_id, status = member["pool_id"], member.get("status")
    # The client's own focus heartbeats count in hb too: while every heartbeat so far came
    # from frames, the client sends none and the frames' estimate is the member's score.
    feeds_focus = status == "present" and int(member.get("hb", 0)) <= int(member.get("frame_hb", 0))
    without_face = _count_frame(pools, pool_id, user_id, face is not None, feeds_focus)
    caller = Caller(str(member.get("connection_id") or ""), user_id, 0)
    try:
        if face is not None and status == "away" and member.get("away_reason") == PRESENCE_REASON:
            pools.presence.back(caller, reason=PRESENCE_REASON)
        elif face is None and status == "present" and without_face >= NO_FACE_FRAMES_AWAY:
            pools.presence.away(caller, reason=PRESENCE_REASON)
        elif feeds_focus:
            pools.presence.focus(caller, focus_estimate(face), pool_id)
    except PresenceRefused as refused:  # e.g. frames faster than heartbeats may come
        logger.info("frame presence not applied", extra={"code": refused.code})


def frame_arrived(user_id: str, pool_id: str, data: bytes) -> AvatarFrameOut:
    from functions.pool.avatars import avatar_arrived
    from functions.pool.avatars import service as pool_service

    if len(data) > MAX_FRAME_BYTES:
        raise FrameTooLarge()
    pools = pool_service()
    pools.visible_meta(user_id, pool_id)
    member = pools.store.member(pool_id, user_id)
    if member is None:
        raise NotInPool()
    if not data.startswith(b"\xff\xd8\xff"):
        raise FrameNotJpeg()
    try:
        rgb = decode_image(data, max_pixels=MAX_FRAME_PIXELS)
    except ImageError as error:
        raise FrameUnreadable(f"The frame cannot be read: {error.message}") from error
    template_id, template = _template_of(user_id)
    avatar, face = frame_avatar(rgb, template)
    expression: Expression | None = None if face is None else dominant_expression(face)  # type: ignore[assignment]
    _presence(pools, {**member, "pool_id": pool_id}, user_id, face)
    ok, png = cv2.imencode(".png", cv2.cvtColor(avatar, cv2.COLOR_RGBA2BGRA))
    if not ok:
        raise RuntimeError("PNG encoding failed")
    picture = png.tobytes()
    # The pool's avatar key is avatars/{pool}/{user}/{ms}-{8 hex}.png; here the hex is the
    # picture's digest, so an unchanged avatar is recognised without reading it back.
    digest = hashlib.sha256(picture).hexdigest()[:8]
    updated = False
    if not str(member.get("avatar_key") or "").endswith(f"-{digest}.png"):
        key = f"avatars/{pool_id}/{user_id}/{int(time.time() * 1000):015d}-{digest}.png"
        storage.put(key, picture, "image/png")
        # The S3 notification of the same object may have applied it already.
        updated = avatar_arrived(storage.bucket(), key, len(picture)) or (
            (pools.store.member(pool_id, user_id) or {}).get("avatar_key") == key
        )
    return AvatarFrameOut(
        face=face is not None, expression=expression, updated=updated, template_id=template_id
    )
