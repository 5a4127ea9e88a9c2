"""People as the app reads and fixes them (issue 10, item 14): one person by id, merges that
the photos contradict, and "me" as smile_rank sees it."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from cheese_ml.fixtures import fixture_path
from cheese_ml.images import decode_image
from tests.conftest import signup, wait_until
from tests.idor import Attempt, assert_others_get_404
from tests.photos.helpers import consent, photo_bytes, upload, wait_status


def own_person(user, face_id: str) -> dict:  # noqa: ANN001
    response = user.call("POST", f"/v1/faces/{face_id}/assign", json_body={"person_id": None})
    assert response.status == 200, response.body
    return response.json()


def four_cut_print(names: tuple[str, str, str, str]) -> bytes:
    """A booth print: four photos in a 2×2 grid on a plain border (see functions/photos/cuts.py)."""
    frame_w, frame_h = 560, 840
    canvas = np.full((1800, 1200, 3), 250, np.uint8)
    for i, name in enumerate(names):
        rgb = decode_image(Path(fixture_path(name)).read_bytes())
        scale = max(frame_w / rgb.shape[1], frame_h / rgb.shape[0])
        resized = cv2.resize(rgb, (round(rgb.shape[1] * scale), round(rgb.shape[0] * scale)))
        top, left = (resized.shape[0] - frame_h) // 2, (resized.shape[1] - frame_w) // 2
        y, x = 40 + (i // 2) * (frame_h + 20), 30 + (i % 2) * (frame_w + 20)
        canvas[y : y + frame_h, x : x + frame_w] = resized[
            top : top + frame_h, left : left + frame_w
        ]
    return cv2.imencode(".jpg", cv2.cvtColor(canvas, cv2.COLOR_RGB2BGR))[1].tobytes()


def test_one_person_reads_as_in_the_list_and_is_nobody_elses(db) -> None:  # noqa: ANN001
    user, other = signup("person-owner"), signup("person-intruder")
    consent(user)
    photo = wait_status(user, upload(user, photo_bytes("obama.jpg")))
    person = own_person(user, photo["faces"][0]["id"])
    user.call("PATCH", f"/v1/people/{person['id']}", json_body={"name": "Barack"})

    response = user.call("GET", f"/v1/people/{person['id']}")
    assert response.status == 200, response.body
    [listed] = [
        p for p in user.call("GET", "/v1/people").json()["items"] if p["id"] == person["id"]
    ]
    one = response.json()
    assert one.keys() == listed.keys()
    assert {k: v for k, v in one.items() if k != "cover_face_url"} == {
        k: v for k, v in listed.items() if k != "cover_face_url"
    }
    assert one["name"] == "Barack" and one["photo_count"] == 1 and one["cover_face_url"]

    assert_others_get_404(other, [Attempt("GET", f"/v1/people/{person['id']}")])
    assert user.call("GET", f"/v1/people/{person['id']}").json()["name"] == "Barack"
    missing = user.call("GET", "/v1/people/00000000-0000-4000-8000-000000000000")
    assert missing.status == 404


def test_people_side_by_side_in_one_photo_are_not_merged(db) -> None:  # noqa: ANN001
    user = signup("merge-refused")
    consent(user)
    group = wait_status(user, upload(user, photo_bytes("sample2.jpg")))
    left, right = (own_person(user, f["id"]) for f in group["faces"][:2])

    refused = user.call(
        "POST", f"/v1/people/{left['id']}/merge", json_body={"person_ids": [right["id"]]}
    )
    assert refused.status == 409, refused.body
    problem = refused.json()
    assert problem["type"].endswith("/people-appear-together")
    assert problem["photo_ids"] == [group["id"]]
    # Nothing moved.
    assert user.call("GET", f"/v1/people/{right['id']}").json()["face_count"] == 1
    faces = user.call("GET", f"/v1/photos/{group['id']}").json()["faces"]
    assert len({f["person_id"] for f in faces[:2]}) == 2


def test_people_in_different_cuts_of_one_print_may_be_merged(db) -> None:  # noqa: ANN001
    user = signup("merge-cuts")
    consent(user)
    booth = wait_status(
        user, upload(user, four_cut_print(("obama.jpg", "obama2.jpg", "biden.jpg", "obama3.jpg")))
    )
    assert len(booth["faces"]) == 4
    top_left, top_right = sorted(
        booth["faces"], key=lambda f: (f["box"]["y"] > 900, f["box"]["x"])
    )[:2]
    a, b = own_person(user, top_left["id"]), own_person(user, top_right["id"])
    merged = user.call("POST", f"/v1/people/{a['id']}/merge", json_body={"person_ids": [b["id"]]})
    assert merged.status == 200, merged.body
    assert merged.json()["face_count"] == 2 and merged.json()["photo_count"] == 1


def test_smiles_say_is_me_once_the_person_is_marked_me(db) -> None:  # noqa: ANN001
    user = signup("smiling-me")
    consent(user)
    photo = wait_status(user, upload(user, photo_bytes("obama2.jpg")))
    face = photo["faces"][0]
    smiles: dict = {}

    def scored() -> bool:
        response = user.call("GET", f"/v1/photos/{photo['id']}/smiles")
        smiles.update(response.json() if response.status == 200 else {})
        return response.status == 200

    assert wait_until(scored, timeout=30, interval=0.2)
    assert [f["is_me"] for f in smiles["faces"]] == [False]
    me = own_person(user, face["id"])
    assert user.call("PATCH", f"/v1/people/{me['id']}", json_body={"is_me": True}).status == 200

    def says_me() -> bool:
        faces = user.call("GET", f"/v1/photos/{photo['id']}/smiles").json()["faces"]
        return [f["is_me"] for f in faces if f["face_id"] == face["id"]] == [True]

    assert wait_until(says_me, timeout=30, interval=0.2)
    user.call("PATCH", f"/v1/people/{me['id']}", json_body={"is_me": False})

    def says_not_me() -> bool:
        faces = user.call("GET", f"/v1/photos/{photo['id']}/smiles").json()["faces"]
        return [f["is_me"] for f in faces] == [False]

    assert wait_until(says_not_me, timeout=30, interval=0.2)
