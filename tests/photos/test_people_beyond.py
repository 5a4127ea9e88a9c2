"""People beyond Immich (issue 14): split and undoable merges, groups, the importance order
with background faces left out, and suggestions that never propose someone seen alongside."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from cheese_ml.fixtures import fixture_path
from cheese_ml.images import decode_image
from tests.conftest import signup
from tests.idor import Attempt, assert_others_get_404
from tests.photos.helpers import consent, upload, wait_status
from tests.photos.test_people_api import SAME_MAN, upload_all


def own_person(user, face_id: str) -> dict:  # noqa: ANN001
    response = user.call("POST", f"/v1/faces/{face_id}/assign", json_body={"person_id": None})
    assert response.status == 200, response.body
    return response.json()


def person(user, person_id: str) -> dict:  # noqa: ANN001
    response = user.call("GET", f"/v1/people/{person_id}")
    assert response.status == 200, response.body
    return response.json()


def in_the_background(name: str, scale: float = 0.22) -> bytes:
    """The photo shrunk to a small face (about 60 px) on a large plain picture."""
    rgb = decode_image(Path(fixture_path(name)).read_bytes())
    small = cv2.resize(
        rgb,
        (round(rgb.shape[1] * scale), round(rgb.shape[0] * scale)),
        interpolation=cv2.INTER_AREA,
    )
    canvas = np.full((900, 1200, 3), 235, np.uint8)
    canvas[300 : 300 + small.shape[0], 500 : 500 + small.shape[1]] = small
    return cv2.imencode(".jpg", cv2.cvtColor(canvas, cv2.COLOR_RGB2BGR))[1].tobytes()


def test_a_merge_is_undone_and_a_split_makes_a_new_person(db) -> None:  # noqa: ANN001
    user, other = signup("splitter"), signup("split-intruder")
    consent(user)
    photos = upload_all(user, (*SAME_MAN, "biden.jpg"))
    him = photos["obama.jpg"]["faces"][0]["person_id"]
    assert person(user, him)["face_count"] == 3
    biden = own_person(user, photos["biden.jpg"]["faces"][0]["id"])
    user.call("PATCH", f"/v1/people/{biden['id']}", json_body={"name": "Joe", "groups": ["work"]})

    merged = user.call("POST", f"/v1/people/{him}/merge", json_body={"person_ids": [biden["id"]]})
    assert merged.status == 200, merged.body
    body = merged.json()
    assert body["face_count"] == 4 and body["photo_count"] == 4 and body["name"] == "Joe"
    assert user.call("GET", f"/v1/people/{biden['id']}").status == 404

    assert_others_get_404(other, [Attempt("POST", f"/v1/people/merges/{body['merge_id']}/undo")])
    undone = user.call("POST", f"/v1/people/merges/{body['merge_id']}/undo")
    assert undone.status == 200, undone.body
    kept, restored = undone.json()["people"]
    assert (kept["id"], kept["face_count"], kept["name"]) == (him, 3, None)
    assert (restored["id"], restored["face_count"], restored["name"]) == (biden["id"], 1, "Joe")
    assert restored["groups"] == ["work"]
    assert person(user, biden["id"])["photo_count"] == 1
    faces = user.call("GET", f"/v1/photos/{photos['biden.jpg']['id']}").json()["faces"]
    assert faces[0]["person_id"] == biden["id"]
    again = user.call("POST", f"/v1/people/merges/{body['merge_id']}/undo")
    assert again.status == 409 and again.json()["type"].endswith("/merge-already-undone")

    # Two of his three faces are someone else, says the user: they become one new person.
    moving = [photos[name]["faces"][0]["id"] for name in ("obama2.jpg", "obama3.jpg")]
    assert_others_get_404(
        other, [Attempt("POST", f"/v1/people/{him}/split", json_body={"face_ids": moving})]
    )
    split = user.call("POST", f"/v1/people/{him}/split", json_body={"face_ids": moving})
    assert split.status == 201, split.body
    new = split.json()
    assert new["id"] != him and new["face_count"] == 2 and new["photo_count"] == 2
    assert person(user, him)["face_count"] == 1
    # Re-clustering keeps the user's split.
    assert user.call("POST", "/v1/people/recluster").status == 202
    assert person(user, new["id"])["face_count"] == 2 and person(user, him)["face_count"] == 1

    whole = user.call(
        "POST",
        f"/v1/people/{him}/split",
        json_body={"face_ids": [photos["obama.jpg"]["faces"][0]["id"]]},
    )
    assert whole.status == 422 and whole.json()["type"].endswith("/nothing-to-split")
    not_his = user.call(
        "POST",
        f"/v1/people/{him}/split",
        json_body={"face_ids": [photos["biden.jpg"]["faces"][0]["id"]]},
    )
    assert not_his.status == 404


def test_people_are_grouped_and_listed_by_group(db) -> None:  # noqa: ANN001
    user, other = signup("grouping-owner"), signup("grouping-intruder")
    consent(user)
    photos = upload_all(user, ("obama.jpg", "biden.jpg"))
    barack, joe = (
        own_person(user, photos[n]["faces"][0]["id"]) for n in ("obama.jpg", "biden.jpg")
    )

    patched = user.call(
        "PATCH", f"/v1/people/{barack['id']}", json_body={"groups": ["family", " family", "work"]}
    )
    assert patched.status == 200, patched.body
    assert patched.json()["groups"] == ["family", "work"]
    user.call("PATCH", f"/v1/people/{joe['id']}", json_body={"groups": ["work"]})

    def listed(group: str) -> list[str]:
        response = user.call("GET", "/v1/people", query=f"group={group}&all=true")
        assert response.status == 200, response.body
        return sorted(p["id"] for p in response.json()["items"])

    assert listed("family") == [barack["id"]]
    assert listed("work") == sorted([barack["id"], joe["id"]])
    assert listed("school") == []
    assert_others_get_404(
        other, [Attempt("PATCH", f"/v1/people/{joe['id']}", json_body={"groups": ["x"]})]
    )
    assert (
        user.call("PATCH", f"/v1/people/{joe['id']}", json_body={"groups": []}).json()["groups"]
        == []
    )
    too_long = user.call("PATCH", f"/v1/people/{joe['id']}", json_body={"groups": ["x" * 33]})
    assert too_long.status == 422


def test_people_are_ordered_by_importance_and_background_faces_wait_for_all(db) -> None:  # noqa: ANN001
    user = signup("importance")
    consent(user)
    photos = upload_all(user, (*SAME_MAN, "biden.jpg"))
    him = photos["obama.jpg"]["faces"][0]["person_id"]
    joe = own_person(user, photos["biden.jpg"]["faces"][0]["id"])
    passer_by = wait_status(user, upload(user, in_the_background("0-f15-hao-ph.jpg")))
    [small] = passer_by["faces"]
    assert small["usable"] and min(small["box"]["w"], small["box"]["h"]) < 80, small
    stranger = own_person(user, small["id"])

    default = user.call("GET", "/v1/people").json()["items"]
    assert [p["id"] for p in default] == [him, joe["id"]]
    assert default[0]["importance"] > default[1]["importance"] > 0
    everyone = user.call("GET", "/v1/people", query="all=true").json()["items"]
    assert [p["id"] for p in everyone] == [him, joe["id"], stranger["id"]]

    # Naming the passer-by says they matter: they are listed by default from then on.
    user.call("PATCH", f"/v1/people/{stranger['id']}", json_body={"name": "Hao"})
    assert stranger["id"] in [p["id"] for p in user.call("GET", "/v1/people").json()["items"]]
    # "Me" comes first.
    user.call("PATCH", f"/v1/people/{joe['id']}", json_body={"is_me": True})
    assert user.call("GET", "/v1/people").json()["items"][0]["id"] == joe["id"]


def test_suggestions_carry_similarity_and_skip_people_seen_alongside(db) -> None:  # noqa: ANN001
    user = signup("suggested")
    consent(user)
    photos = upload_all(user, ("obama.jpg", "obama2.jpg", "sample2.jpg"))
    first = own_person(user, photos["obama.jpg"]["faces"][0]["id"])
    second = own_person(user, photos["obama2.jpg"]["faces"][0]["id"])
    group = [own_person(user, f["id"]) for f in photos["sample2.jpg"]["faces"]]

    def suggested(person_id: str) -> list[dict]:
        response = user.call("GET", f"/v1/people/{person_id}/suggestions")
        assert response.status == 200, response.body
        return response.json()

    ranked = suggested(first["id"])
    assert ranked[0]["person"]["id"] == second["id"]
    assert 0.3 < ranked[0]["similarity"] <= 1.0
    assert [s["similarity"] for s in ranked] == sorted(
        (s["similarity"] for s in ranked), reverse=True
    )
    # The people side by side in sample2.jpg are never proposed for one another.
    for one in group:
        proposed = {s["person"]["id"] for s in suggested(one["id"])}
        assert not proposed & ({g["id"] for g in group} - {one["id"]}), proposed
        assert first["id"] in proposed


def far_away_in_a_large_photo(name: str, face_box: tuple[int, int, int, int]) -> tuple[bytes, dict]:
    """The photo shrunk to a 70 px face on a 6000×4000 picture: too small for the detector,
    which sees the photo at 640 px. Returns the picture and where the face is."""
    scale = 0.25
    rgb = decode_image(Path(fixture_path(name)).read_bytes())
    small = cv2.resize(
        rgb,
        (round(rgb.shape[1] * scale), round(rgb.shape[0] * scale)),
        interpolation=cv2.INTER_AREA,
    )
    canvas = np.full((4000, 6000, 3), 200, np.uint8)
    canvas[1500 : 1500 + small.shape[0], 3000 : 3000 + small.shape[1]] = small
    x, y, w, h = face_box
    box = {
        "x": 3000 + round(x * scale),
        "y": 1500 + round(y * scale),
        "w": round(w * scale),
        "h": round(h * scale),
    }
    return cv2.imencode(".jpg", cv2.cvtColor(canvas, cv2.COLOR_RGB2BGR))[1].tobytes(), box


def test_a_drawn_face_joins_the_right_person(db) -> None:  # noqa: ANN001
    user, other = signup("face-drawer"), signup("face-draw-intruder")
    consent(user)
    photos = upload_all(user, (*SAME_MAN, "biden.jpg"))
    him = photos["obama3.jpg"]["faces"][0]["person_id"]
    assert him is not None
    found = photos["obama3.jpg"]["faces"][0]["box"]
    data, box = far_away_in_a_large_photo(
        "obama3.jpg", (found["x"], found["y"], found["w"], found["h"])
    )
    far = wait_status(user, upload(user, data))
    assert far["status"] == "analyzed" and far["faces"] == []  # the detector missed him

    assert_others_get_404(
        other, [Attempt("POST", f"/v1/photos/{far['id']}/faces", json_body={"box": box})]
    )
    drawn = user.call("POST", f"/v1/photos/{far['id']}/faces", json_body={"box": box})
    assert drawn.status == 201, drawn.body
    face = drawn.json()
    assert face["drawn"] is True and face["usable"] and face["person_id"] == him
    assert person(user, him)["face_count"] == 4
    [listed] = user.call("GET", f"/v1/photos/{far['id']}").json()["faces"]
    assert listed["id"] == face["id"] and listed["person_id"] == him
    his_photos = user.call("GET", f"/v1/people/{him}/photos").json()["items"]
    assert far["id"] in [p["id"] for p in his_photos]

    outside = dict(box, x=5990)
    refused = user.call("POST", f"/v1/photos/{far['id']}/faces", json_body={"box": outside})
    assert refused.status == 422 and refused.json()["type"].endswith("/box-outside-photo")
