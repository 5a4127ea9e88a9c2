"""Poses and mood through the local stack (issue 14): analysed with consent, erased on withdrawal,
pose types re-learned by the schedule."""

from __future__ import annotations

from typing import Any

import numpy as np
from sqlalchemy import select

from cheese_local.lambda_context import LocalLambdaContext
from cheese_ml.poses import INDEX
from cheese_runtime.db.session import session_scope
from functions.photos import pose_types
from functions.photos.models import CutPose, Face, PoseType
from tests.conftest import TestUser, signup
from tests.photos.helpers import upload, wait_status
from tests.photos.test_people_fixes import four_cut_print

SCHEDULED_EVENT = {
    "version": "0",
    "id": "00000000-0000-0000-0000-000000000000",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "account": "000000000000",
    "time": "2026-12-02T04:00:00Z",
    "region": "eu-west-1",
    "resources": [],
    "detail": {},
}
PRINT = ("obama.jpg", "biden.jpg", "single_face.jpg", "obama2.jpg")


def allow(user: TestUser, poses: bool = True, examples: bool = False) -> None:
    response = user.call(
        "PUT",
        "/v1/me/consent",
        json_body={
            "face_grouping": True,
            "expression_analysis": True,
            "pose_analysis": poses,
            "pose_examples": examples,
        },
    )
    assert response.status == 200, response.body
    body = response.json()
    assert (body["pose_analysis"], body["pose_examples"]) == (poses, examples)


def cut_poses(photo_id: str) -> list[CutPose]:
    with session_scope() as session:
        rows = list(
            session.scalars(
                select(CutPose).where(CutPose.photo_id == photo_id).order_by(CutPose.cut)
            )
        )
        session.expunge_all()
    return rows


def relearn() -> dict[str, Any]:
    return pose_types.handler(dict(SCHEDULED_EVENT), LocalLambdaContext("photos-pose-types"))


def test_each_cut_gets_its_pose_and_mood_with_consent_only(db) -> None:  # noqa: ANN001
    user, without = signup("poser"), signup("no-poses")
    allow(user)
    allow(without, poses=False)
    data = four_cut_print(PRINT)
    photo = wait_status(user, upload(user, data))
    assert photo["status"] == "analyzed"
    rows = cut_poses(photo["id"])
    assert [r.cut for r in rows] == [0, 1, 2, 3]
    faces = {f["id"]: f for f in photo["faces"]}
    with session_scope() as session:
        cut_of = {
            f.id: f.cut for f in session.scalars(select(Face).where(Face.photo_id == photo["id"]))
        }
    for row in rows:
        assert row.people_count == len(row.people) == 1
        person = row.people[0]
        assert person["face_id"] in faces and cut_of[person["face_id"]] == row.cut
        keypoints = np.array(person["keypoints"])
        assert keypoints.shape == (17, 3)
        # The keypoints are in the cut, the nose near the face the person was found from.
        x, y, w, h = row.rect
        nose = keypoints[INDEX["nose"]]
        box = faces[person["face_id"]]["box"]
        assert x <= nose[0] <= x + w and y <= nose[1] <= y + h
        assert box["x"] - box["w"] / 2 <= nose[0] <= box["x"] + 1.5 * box["w"]
        normalised = np.array(person["normalised"])
        hips = (normalised[INDEX["left_hip"]] + normalised[INDEX["right_hip"]]) / 2
        assert np.allclose(hips, 0.0, atol=1e-3)
        assert row.mood and row.description and row.smile is not None
        assert len(np.frombuffer(row.vector, np.float32)) == 34
    other = wait_status(without, upload(without, data))
    assert other["status"] == "analyzed" and cut_poses(other["id"]) == []

    # Re-learning counts the opted-in cuts only.
    summary = relearn()
    assert summary["types"] >= 1
    with session_scope() as session:
        single = list(session.scalars(select(PoseType).where(PoseType.people_count == 1)))
        assert sum(t.cuts for t in single) >= 4 and all(t.description for t in single)

    # Withdrawing pose analysis erases the poses at once.
    allow(user, poses=False)
    assert cut_poses(photo["id"]) == []


def test_the_pose_of_a_photo_shows_each_cuts_people_type_and_mood(db) -> None:  # noqa: ANN001
    user, other = signup("pose-viewer"), signup("pose-snooper")
    allow(user)
    allow(other)
    photo = wait_status(user, upload(user, four_cut_print(PRINT)))
    relearn()
    response = user.call("GET", f"/v1/photos/{photo['id']}/pose")
    assert response.status == 200, response.body
    pose = response.json()
    assert pose["photo_id"] == photo["id"] and pose["pose_status"] == "ready"
    assert [c["cut"] for c in pose["cuts"]] == [0, 1, 2, 3]
    faces = {f["id"] for f in photo["faces"]}
    with session_scope() as session:
        single = {
            t.id: t.description
            for t in session.scalars(select(PoseType).where(PoseType.people_count == 1))
        }
    for cut in pose["cuts"]:
        [person] = cut["people"]
        assert person["face_id"] in faces
        assert [k["name"] for k in person["keypoints"]][:3] == ["nose", "left_eye", "right_eye"]
        assert len(person["keypoints"]) == 17
        nose, rect = person["keypoints"][0], cut["rect"]
        assert rect["x"] <= nose["x"] <= rect["x"] + rect["w"]
        assert cut["mood"] and cut["description"] and cut["smile"] is not None
        assert set(cut["colour"]) == {"brightness", "warmth", "saturation"}
        # Matched to a learned type of one person, with that type's description.
        assert cut["pose_type"]["id"] in single
        assert cut["pose_type"]["description"] == single[cut["pose_type"]["id"]]

    # Another user's photo does not exist for them; a photo still uploading is pending.
    assert other.call("GET", f"/v1/photos/{photo['id']}/pose").status == 404
    pending = user.call(
        "POST", "/v1/photos/uploads", json_body={"content_type": "image/jpeg", "size_bytes": 1000}
    ).json()["photo_id"]
    assert user.call("GET", f"/v1/photos/{pending}/pose").json()["pose_status"] == "pending"
    # Without (or after withdrawing) the consent there is nothing to show.
    allow(user, poses=False)
    skipped = user.call("GET", f"/v1/photos/{photo['id']}/pose").json()
    assert (skipped["pose_status"], skipped["cuts"]) == ("skipped", [])


def test_untried_poses_and_moods_are_recommended_with_verified_de_identified_examples(
    db,  # noqa: ANN001
) -> None:
    import httpx

    from cheese_ml.images import decode_image
    from functions.photos.models import PoseExample

    sharer, learner, private = signup("pose-sharer"), signup("pose-learner"), signup("pose-private")
    allow(sharer, examples=True)
    allow(learner)
    allow(private)
    for user in (sharer, private):
        assert wait_status(user, upload(user, four_cut_print(PRINT)))["status"] == "analyzed"
    summary = relearn()
    assert summary["examples_verified"] >= 1

    listed = learner.call("GET", "/v1/recommendations/poses", query="people=1&limit=40")
    assert listed.status == 200, listed.body
    items = listed.json()["items"]
    assert items, "the learner has tried nothing: every type with an example is recommended"
    with session_scope() as session:
        examples = {e.id: e for e in session.scalars(select(PoseExample))}
        session.expunge_all()
    for item in items:
        assert 1 <= len(item["examples"]) <= 3 and item["people"] == 1 and item["popularity"] >= 1
        for example in item["examples"]:
            row = examples[example["id"]]
            # Only from the user who allows examples, and only verified ones.
            assert row.user_id == sharer.id and row.verified and row.identity_similarity < 0.65
            image = httpx.get(example["image_url"])
            assert image.status_code == 200 and decode_image(image.content).ndim == 3
    popularity = [i["popularity"] for i in items]
    assert popularity == sorted(popularity, reverse=True)

    # The sharer has tried the types their cuts are in: fewer are left for them.
    theirs = sharer.call("GET", "/v1/recommendations/poses", query="people=1&limit=40").json()
    assert len(theirs["items"]) < len(items)

    moods = learner.call("GET", "/v1/recommendations/moods").json()["items"]
    with session_scope() as session:
        sharer_moods = {
            m
            for labels in session.scalars(select(CutPose.mood).where(CutPose.user_id == sharer.id))
            for m in labels
        }
    assert moods and {m["mood"] for m in moods} >= sharer_moods
    assert (
        not {m["mood"] for m in sharer.call("GET", "/v1/recommendations/moods").json()["items"]}
        & sharer_moods
    )

    # Without pose analysis there is nothing "not tried" to read; bad input is a problem.
    nobody = signup("pose-nobody")
    allow(nobody, poses=False)
    refused = nobody.call("GET", "/v1/recommendations/poses")
    assert refused.status == 409 and refused.json()["type"].endswith("/consent-required")
    for query in ("people=0", "people=7", "people=x", "limit=1000"):
        assert learner.call("GET", "/v1/recommendations/poses", query=query).status == 422

    # The sharer withdraws examples: none of theirs is served any more, their images go.
    allow(sharer, examples=False)
    after = learner.call("GET", "/v1/recommendations/poses", query="people=1&limit=40").json()
    assert all(
        examples[e["id"]].user_id != sharer.id
        for i in after["items"]
        for e in i["examples"]
        if e["id"] in examples
    )
    assert all(httpx.get(e["image_url"]).status_code == 404 for i in items for e in i["examples"])


def test_a_drawn_face_gets_its_pose_in_its_cut(db) -> None:  # noqa: ANN001
    from tests.photos.test_people_beyond import far_away_in_a_large_photo

    user = signup("pose-drawer")
    allow(user)
    data, box = far_away_in_a_large_photo("obama.jpg", (130, 100, 260, 340))
    photo = wait_status(user, upload(user, data))
    assert photo["status"] == "analyzed" and photo["faces"] == [] and cut_poses(photo["id"]) == []
    drawn = user.call("POST", f"/v1/photos/{photo['id']}/faces", json_body={"box": box})
    assert drawn.status == 201, drawn.body
    [row] = cut_poses(photo["id"])
    assert [p["face_id"] for p in row.people] == [drawn.json()["id"]]
    pose = user.call("GET", f"/v1/photos/{photo['id']}/pose").json()
    assert pose["cuts"][0]["people"][0]["face_id"] == drawn.json()["id"]
