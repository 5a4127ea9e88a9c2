"""People form from real photos, and users fix them: rename, hide, me, merge, assign, suggestions."""

from __future__ import annotations

from tests.conftest import signup, wait_until
from tests.photos.helpers import consent, photo_bytes, upload, wait_status

SAME_MAN = ("obama.jpg", "obama2.jpg", "obama3.jpg")
OTHERS = ("biden.jpg", "single_face.jpg", "0-f15-hao-ph.jpg")


def upload_all(user, names) -> dict[str, dict]:  # noqa: ANN001
    ids = {name: upload(user, photo_bytes(name)) for name in names}
    for photo_id in ids.values():
        wait_status(user, photo_id)
    # Read again once all are in: a later photo can give an earlier face its person.
    return {
        name: user.call("GET", f"/v1/photos/{photo_id}").json() for name, photo_id in ids.items()
    }


def people(user) -> list[dict]:  # noqa: ANN001
    return user.call("GET", "/v1/people", query="include_hidden=true").json()["items"]


def test_the_same_man_in_three_photos_becomes_one_person_and_nobody_else_joins(db) -> None:  # noqa: ANN001
    user = signup("grouper")
    consent(user)
    photos = upload_all(user, SAME_MAN + OTHERS)
    his_faces = {p["faces"][0]["person_id"] for name, p in photos.items() if name in SAME_MAN}
    assert len(his_faces) == 1 and None not in his_faces, his_faces
    [him] = [p for p in people(user) if p["id"] in his_faces]
    assert him["photo_count"] == 3 and him["face_count"] == 3
    assert him["cover_face_url"]
    other_faces = {p["faces"][0]["person_id"] for name, p in photos.items() if name in OTHERS}
    assert not (other_faces & his_faces)
    # "every photo with him"
    listed = user.call("GET", f"/v1/people/{him['id']}/photos").json()["items"]
    assert sorted(p["id"] for p in listed) == sorted(photos[name]["id"] for name in SAME_MAN)


def test_a_man_seen_in_only_two_photos_is_a_person_a_look_apart_pair_is_not(db) -> None:  # noqa: ANN001
    """Two photos of bieber (0.23 apart) are a person at the second upload; walter's two
    photos (0.41 apart, years between them) are not; the re-cluster agrees."""
    user = signup("two-photos")
    consent(user)
    bieber = ("Justin-Bieber2_crop.jpg", "bieber_small.jpg")
    walter = ("walter2_crop.jpg", "breakingbad.jpg")
    photos = upload_all(user, bieber + walter)

    def persons() -> tuple[set, set]:
        read = {
            name: user.call("GET", f"/v1/photos/{p['id']}").json() for name, p in photos.items()
        }
        his = {read[name]["faces"][0]["person_id"] for name in bieber}
        walter_faces = [read["walter2_crop.jpg"]["faces"][0]] + [
            f
            for f in read["breakingbad.jpg"]["faces"]
            if f["box"]["x"] > 1000  # jesse is left
        ]
        assert len(walter_faces) == 2
        return his, {f["person_id"] for f in walter_faces}

    his, walters = persons()
    assert len(his) == 1 and None not in his
    [him] = [p for p in people(user) if p["id"] in his]
    assert him["face_count"] == 2 and him["photo_count"] == 2
    assert walters == {None}
    assert user.call("POST", "/v1/people/recluster").status == 202
    assert wait_until(lambda: persons() == (his, {None}))


def test_users_fix_people_and_reclustering_keeps_their_fixes(db) -> None:  # noqa: ANN001
    user = signup("fixer")
    consent(user)
    photos = upload_all(user, (*SAME_MAN, "biden.jpg"))
    him = photos["obama.jpg"]["faces"][0]["person_id"]
    renamed = user.call(
        "PATCH", f"/v1/people/{him}", json_body={"name": "Barack", "is_me": True}
    ).json()
    assert renamed["name"] == "Barack" and renamed["is_me"] is True

    # Biden is put into Barack by hand (a wrong merge the user insists on), then split out again.
    biden_face = photos["biden.jpg"]["faces"][0]["id"]
    joined = user.call(
        "POST", f"/v1/faces/{biden_face}/assign", json_body={"person_id": him}
    ).json()
    assert joined["face_count"] == 4
    alone = user.call(
        "POST", f"/v1/faces/{biden_face}/assign", json_body={"person_id": None}
    ).json()
    assert alone["id"] != him and alone["face_count"] == 1

    # Re-clustering (202, asynchronous) never undoes a manual assignment.
    assert user.call("POST", "/v1/people/recluster").status == 202

    def settled() -> bool:
        current = {p["id"]: p for p in people(user)}
        return him in current and alone["id"] in current and current[alone["id"]]["face_count"] == 1

    assert wait_until(settled, timeout=30, interval=0.5)

    # Suggestions are ordered by similarity; merging folds people together.
    suggestions = user.call("GET", f"/v1/people/{alone['id']}/suggestions").json()
    similarities = [s["similarity"] for s in suggestions]
    assert similarities == sorted(similarities, reverse=True)
    merged = user.call(
        "POST", f"/v1/people/{him}/merge", json_body={"person_ids": [alone["id"]]}
    ).json()
    assert merged["face_count"] == 4 and merged["name"] == "Barack" and merged["is_me"] is True
    assert user.call("PATCH", f"/v1/people/{alone['id']}", json_body={"name": "x"}).status == 404

    hidden = user.call("PATCH", f"/v1/people/{him}", json_body={"hidden": True}).json()
    assert hidden["hidden"] is True
    assert him not in {p["id"] for p in user.call("GET", "/v1/people").json()["items"]}
    assert him in {p["id"] for p in people(user)}


def test_only_one_person_is_me(db) -> None:  # noqa: ANN001
    user = signup("me")
    consent(user)
    photos = upload_all(user, ("obama.jpg", "biden.jpg"))
    first = user.call(
        "POST",
        f"/v1/faces/{photos['obama.jpg']['faces'][0]['id']}/assign",
        json_body={"person_id": None},
    ).json()
    second = user.call(
        "POST",
        f"/v1/faces/{photos['biden.jpg']['faces'][0]['id']}/assign",
        json_body={"person_id": None},
    ).json()
    user.call("PATCH", f"/v1/people/{first['id']}", json_body={"is_me": True})
    user.call("PATCH", f"/v1/people/{second['id']}", json_body={"is_me": True})
    assert [p["id"] for p in people(user) if p["is_me"]] == [second["id"]]


def test_filtering_photos_by_people_needs_all_of_them(db) -> None:  # noqa: ANN001
    user = signup("filter")
    consent(user)
    photos = upload_all(user, ("sample2.jpg", "obama.jpg"))
    group = photos["sample2.jpg"]["faces"]
    a = user.call(
        "POST", f"/v1/faces/{group[0]['id']}/assign", json_body={"person_id": None}
    ).json()
    b = user.call(
        "POST", f"/v1/faces/{group[1]['id']}/assign", json_body={"person_id": None}
    ).json()
    solo = user.call(
        "POST",
        f"/v1/faces/{photos['obama.jpg']['faces'][0]['id']}/assign",
        json_body={"person_id": None},
    ).json()
    both = user.call("GET", "/v1/photos", query=f"person_ids={a['id']},{b['id']}").json()["items"]
    assert [p["id"] for p in both] == [photos["sample2.jpg"]["id"]]
    assert (
        user.call("GET", "/v1/photos", query=f"person_ids={a['id']},{solo['id']}").json()["items"]
        == []
    )


def test_one_four_cut_print_with_the_same_man_in_three_cuts_makes_him_one_person(db) -> None:  # noqa: ANN001
    import cv2
    import numpy as np

    from cheese_ml.fixtures import fixture_path
    from cheese_ml.images import decode_image

    frame_w, frame_h = 560, 840
    canvas = np.full((1800, 1200, 3), 250, np.uint8)
    for i, name in enumerate(("obama.jpg", "obama2.jpg", "biden.jpg", "obama3.jpg")):
        rgb = decode_image(fixture_path(name).read_bytes())
        scale = max(frame_w / rgb.shape[1], frame_h / rgb.shape[0])
        resized = cv2.resize(rgb, (round(rgb.shape[1] * scale), round(rgb.shape[0] * scale)))
        top, left = (resized.shape[0] - frame_h) // 2, (resized.shape[1] - frame_w) // 2
        y, x = 40 + (i // 2) * (frame_h + 20), 30 + (i % 2) * (frame_w + 20)
        canvas[y : y + frame_h, x : x + frame_w] = resized[
            top : top + frame_h, left : left + frame_w
        ]
    booth_print = cv2.imencode(".jpg", cv2.cvtColor(canvas, cv2.COLOR_RGB2BGR))[1].tobytes()

    user = signup("four-cut")
    consent(user)
    photo = wait_status(user, upload(user, booth_print))
    assert len(photo["faces"]) == 4
    persons = [f["person_id"] for f in photo["faces"]]
    # Biden is in the bottom-left cut.
    biden = next(
        f
        for f in photo["faces"]
        if f["box"]["x"] + f["box"]["w"] / 2 < 600 and f["box"]["y"] + f["box"]["h"] / 2 > 900
    )
    his = {p for f, p in zip(photo["faces"], persons, strict=True) if f is not biden}
    assert len(his) == 1 and None not in his, persons
    assert biden["person_id"] not in his
