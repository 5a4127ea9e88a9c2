"""Emoji avatars from webcam frames, seen by the other members over the real WebSocket API."""

from __future__ import annotations

import uuid

import cv2
import httpx
import numpy as np
import pytest

from cheese_ml.emoji import AVATAR_BACKGROUND
from cheese_ml.images import decode_emoji_image, encode_jpeg
from tests.conftest import TestUser
from tests.photos.helpers import photo_bytes
from tests.pool.conftest import clients, create_pool, ws_url  # noqa: F401  (fixtures)


def webcam_frame(photo: str | None) -> bytes:
    """A 320x240 JPEG: a fixture face filling ~40% of the height, or a room without anyone."""
    from cheese_ml.analysis import default_analyzer
    from cheese_ml.images import decode_image

    if photo is None:
        room = decode_image(photo_bytes("free-mountain-vector-01.jpg"))
        return encode_jpeg(cv2.resize(room, (320, 240), interpolation=cv2.INTER_AREA), 85)
    rgb = decode_image(photo_bytes(photo))
    (face,) = default_analyzer().analyze(rgb, embeddings=False, expressions=False)
    scale = 240 / (face.box.h * 2.5)
    small = cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    cx = int((face.box.x + face.box.w / 2) * scale) + 400
    cy = int((face.box.y + face.box.h / 2) * scale) + 400
    padded = cv2.copyMakeBorder(small, 400, 400, 400, 400, cv2.BORDER_REFLECT)
    return encode_jpeg(padded[cy - 120 : cy + 120, cx - 160 : cx + 160], 85)


def post_frame(user: TestUser, pool_id: str, data: bytes, content_type: str = "image/jpeg"):  # noqa: ANN201
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="frame"; filename="f.jpg"\r\n'
            f"Content-Type: {content_type}\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return user.call(
        "POST",
        f"/v1/pools/{pool_id}/avatar/frame",
        body=body,
        headers={"content-type": f"multipart/form-data; boundary={boundary}"},
    )


def test_members_see_each_others_server_drawn_avatars(make_user, clients) -> None:  # noqa: ANN001, F811
    ann, bob = make_user("avatarAnn"), make_user("avatarBob")
    pool_id = create_pool(ann)
    a, b = clients(ann), clients(bob)
    for sock in (a, b):
        sock.send(action="enter", pool_id=pool_id)
        sock.event("entered")
    assert bob.call("PUT", "/v1/me/avatar", json_body={"template_id": "builtin-noto"}).status == 200
    frame = webcam_frame("0-f15-hao-ph.jpg")
    posted = post_frame(bob, pool_id, frame)
    assert posted.status == 200, posted.body
    assert posted.json() == {
        "face": True,
        "expression": "happy",
        "updated": True,
        "template_id": "builtin-noto",
    }
    event = a.event("avatar_updated", timeout=10, user_id=bob.id)
    assert isinstance(event["seq"], int)
    avatar = decode_emoji_image(httpx.get(event["url"]).content)
    assert avatar.shape == (192, 256, 4)
    plain = (avatar == np.array(AVATAR_BACKGROUND, dtype=np.uint8)).all(axis=2)
    assert 0.5 < plain.mean() < 0.95  # an emoji on the plain background, nothing else
    # The same frame again: the same avatar, nothing broadcast.
    again = post_frame(bob, pool_id, frame).json()
    assert again["updated"] is False
    # Ann's own avatar uses the default built-in template.
    assert post_frame(ann, pool_id, webcam_frame("obama.jpg")).json()["template_id"] == (
        "builtin-twemoji"
    )
    b.event("avatar_updated", timeout=10, user_id=ann.id)


def test_frames_without_a_face_make_the_member_away_and_a_face_brings_them_back(
    make_user,  # noqa: ANN001
    clients,  # noqa: ANN001, F811
) -> None:
    ann, bob = make_user("presAnn"), make_user("presBob")
    pool_id = create_pool(ann)
    a, b = clients(ann), clients(bob)
    for sock in (a, b):
        sock.send(action="enter", pool_id=pool_id)
        sock.event("entered")
    empty_room = webcam_frame(None)
    for _ in range(3):
        assert post_frame(bob, pool_id, empty_room).json()["face"] is False
    away = a.event("member_away", timeout=10, user_id=bob.id)
    assert away["reason"] == "camera"
    assert post_frame(bob, pool_id, webcam_frame("biden.jpg")).json()["face"] is True
    back = a.event("member_back", timeout=10, user_id=bob.id)
    assert back["reason"] == "camera" and back["seq"] > away["seq"]


@pytest.mark.parametrize(
    ("case", "status", "slug"),
    [
        ("outsider", 409, "not-in-pool"),
        ("not_jpeg", 415, "frame-not-jpeg"),
        ("too_large", 413, "frame-too-large"),
        ("unreadable", 422, "frame-unreadable"),
        ("no_pool", 404, "not-found"),
    ],
)
def test_bad_frames_and_non_members_are_refused(
    make_user,  # noqa: ANN001
    clients,  # noqa: ANN001, F811
    case: str,
    status: int,
    slug: str,
) -> None:
    ann = make_user("frameOwner")
    pool_id = create_pool(ann, public=False)
    a = clients(ann)
    a.send(action="enter", pool_id=pool_id)
    a.event("entered")
    sender, target, data = ann, pool_id, webcam_frame("obama.jpg")
    if case == "outsider":
        sender = make_user("frameOutsider")
        target = create_pool(sender)
    elif case == "not_jpeg":
        data = cv2.imencode(".png", np.zeros((240, 320, 3), np.uint8))[1].tobytes()
    elif case == "too_large":
        data = b"\xff\xd8\xff" + b"0" * (256 * 1024)
    elif case == "unreadable":
        data = b"\xff\xd8\xff\xe0 broken"
    elif case == "no_pool":
        sender = make_user("frameStranger")  # a private pool of someone else: not found
    response = post_frame(sender, target, data)
    assert response.status == status, response.body
    assert response.json()["type"].endswith(f"/{slug}")


def test_frames_feed_the_focus_score_when_the_client_sends_none(make_user, clients) -> None:  # noqa: ANN001, F811
    import time

    ann, bob = make_user("focusAnn"), make_user("focusBob")
    pool_id = create_pool(ann)
    a, b = clients(ann), clients(bob)
    for sock in (a, b):
        sock.send(action="enter", pool_id=pool_id)
        sock.event("entered")

    def bob_member() -> dict:
        members = ann.call("GET", f"/v1/pools/{pool_id}").json()["members"]
        return next(m for m in members if m["user_id"] == bob.id)

    frontal = webcam_frame("obama.jpg")
    for _ in range(2):
        time.sleep(0.3)  # heartbeats may not come faster than the pool's minimum interval
        assert post_frame(bob, pool_id, frontal).json()["face"] is True
    assert bob_member()["score"] == 100 and bob_member()["focused"] is True
    # Once the client sends its own heartbeats, frames no longer set the score.
    time.sleep(0.3)
    b.send(action="focus", score=10)
    a.wait_for(lambda f: f.get("user_id") == bob.id and f.get("score") == 10, timeout=10)
    time.sleep(0.3)
    post_frame(bob, pool_id, frontal)
    assert bob_member()["score"] == 10
