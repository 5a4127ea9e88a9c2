"""The emoji-face API through the Lambda handlers, moto and the database, on real photos."""

from __future__ import annotations

import json

import httpx
import pytest
from sqlalchemy import func, select

from cheese_runtime import aws
from cheese_runtime.db.session import session_scope
from cheese_runtime.settings import get_settings
from functions.emotion.models import EmojiTask, EmojiTemplate
from tests.conftest import signup, wait_until
from tests.emotion.helpers import (
    EXPRESSIONS,
    emoji_png,
    make_template,
    post_upload,
    wait_task,
    wait_template,
)
from tests.idor import Attempt, assert_others_get_404
from tests.photos.helpers import consent, photo_bytes, upload, wait_status

BUILTIN = "builtin-twemoji"


def objects_under(prefix: str) -> list[str]:
    listed = aws.client("s3").list_objects_v2(Bucket=get_settings().photos_bucket, Prefix=prefix)
    return [o["Key"] for o in listed.get("Contents", [])]


def analysed_photo(user, name: str) -> dict:  # noqa: ANN001
    consent(user, face_grouping=False, expression_analysis=True)
    return wait_status(user, upload(user, photo_bytes(name)))


def test_builtin_templates_are_listed_with_their_attribution(db) -> None:  # noqa: ANN001
    from cheese_ml import emoji_sets

    user = signup("lister")
    page = user.call("GET", "/v1/emoji/templates", query="sort=new").json()
    builtins = {t["template_id"]: t for t in page["items"] if t["builtin"]}
    assert set(builtins) == {"builtin-twemoji", "builtin-noto"}
    for template in builtins.values():
        spec = emoji_sets.manifest()[template["template_id"].removeprefix("builtin-")]
        assert template["attribution"] == spec.attribution
        assert template["status"] == "ready" and not template["mine"]
        assert [i["expression"] for i in template["images"]] == list(EXPRESSIONS)


def test_a_template_is_ready_when_its_seven_images_arrived_and_passed(db) -> None:  # noqa: ANN001
    user = signup("maker")
    created = make_template(user, "Blobs", public=True)
    assert len(created["uploads"]) == 7 and created["status"] == "uploading"
    assert {u["expression"] for u in created["uploads"]} == set(EXPRESSIONS)
    assert created["uploads"][0]["max_bytes"] == 512 * 1024
    ready = wait_template(user, created["template_id"])
    assert ready["status"] == "ready" and ready["failure_reason"] is None
    assert all(i["status"] == "ready" and i["url"] for i in ready["images"])
    assert httpx.get(ready["images"][0]["url"]).content == emoji_png(
        ready["images"][0]["expression"]
    )
    mine = user.call("GET", "/v1/me/emoji/templates").json()["items"]
    assert [t["template_id"] for t in mine] == [created["template_id"]]


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        ("jpeg", "not a PNG or WebP image"),
        ("no_alpha", "no transparency"),
        ("too_big", "larger than 1024 px"),
        ("ring", "too small to cover a face"),
        ("truncated", "damaged or truncated"),
    ],
)
def test_templates_with_bad_images_are_refused_with_clear_reasons(
    db, bad: str, reason: str
) -> None:  # noqa: ANN001
    import io

    import numpy as np
    from PIL import Image

    def encoded(image: Image.Image, fmt: str) -> bytes:
        buffer = io.BytesIO()
        image.save(buffer, format=fmt)
        return buffer.getvalue()

    ring = np.zeros((256, 256, 4), dtype=np.uint8)
    ring[:8], ring[-8:], ring[:, :8], ring[:, -8:] = 255, 255, 255, 255
    data = {
        "jpeg": encoded(Image.new("RGB", (64, 64), "yellow"), "JPEG"),
        "no_alpha": encoded(Image.new("RGB", (64, 64), "yellow"), "PNG"),
        "too_big": encoded(Image.new("RGBA", (1100, 40), (255, 200, 0, 255)), "PNG"),
        "ring": encoded(Image.fromarray(ring, "RGBA"), "PNG"),
        "truncated": emoji_png("sad")[:300],
    }[bad]
    user = signup("badimg")
    created = make_template(user, images={"sad": data})
    failed = wait_template(user, created["template_id"])
    assert failed["status"] == "failed"
    assert failed["failure_reason"].startswith("sad: ") and reason in failed["failure_reason"]
    sad = next(i for i in failed["images"] if i["expression"] == "sad")
    assert sad["status"] == "failed" and reason in sad["failure_reason"]


def test_files_over_512_kb_are_refused_by_the_policy_and_on_arrival(db) -> None:  # noqa: ANN001
    import base64

    user = signup("huge")
    created = user.call("POST", "/v1/emoji/templates", json_body={"name": "Big"}).json()
    upload_form = created["uploads"][0]
    policy = json.loads(base64.b64decode(upload_form["fields"]["policy"]))
    assert ["content-length-range", 1, 512 * 1024] in policy["conditions"]
    assert ["starts-with", "$Content-Type", "image/"] in policy["conditions"]
    # moto does not enforce POST policies: the arrival check refuses the file all the same.
    oversized = emoji_png(upload_form["expression"]) + b"\0" * (512 * 1024)
    assert post_upload(upload_form, oversized) in (200, 201, 204)
    failed = wait_template(user, created["template_id"])
    assert failed["status"] == "failed" and "larger than 512 KB" in failed["failure_reason"]


def test_a_task_covers_every_face_with_the_emoji_of_its_expression(db) -> None:  # noqa: ANN001
    from cheese_ml.analysis import default_analyzer
    from cheese_ml.images import decode_image

    user = signup("tasker")
    photo = analysed_photo(user, "sample4.jpg")
    accepted = user.call(
        "POST", "/v1/emoji/tasks", json_body={"photo_id": photo["id"], "template_id": BUILTIN}
    )
    assert accepted.status == 202, accepted.body
    task = wait_task(user, accepted.json()["task_id"])
    assert task["status"] == "done", task
    assert len(task["faces"]) == 4
    for face in task["faces"]:
        assert set(face["expression"]) == set(EXPRESSIONS)
        assert face["dominant"] == max(face["expression"], key=face["expression"].get)
        assert face["emoji"] == face["dominant"]
    result = decode_image(httpx.get(task["result_url"]).content)
    assert default_analyzer().detect(result) == []  # no face is left to find
    results = user.call("GET", "/v1/me/emoji/results").json()["items"]
    assert [r["task_id"] for r in results] == [task["task_id"]]


def test_the_posed_surprise_photo_gets_the_surprise_emoji_of_a_user_template(db) -> None:  # noqa: ANN001
    user = signup("surprised")
    template = wait_template(user, make_template(user, "Mine")["template_id"])
    photo = analysed_photo(user, "0-f1-su-ph.jpg")
    accepted = user.call(
        "POST",
        "/v1/emoji/tasks",
        json_body={"photo_id": photo["id"], "template_id": template["template_id"]},
    ).json()
    task = wait_task(user, accepted["task_id"])
    assert task["status"] == "done"
    assert [f["emoji"] for f in task["faces"]] == ["surprise"]
    assert task["template_name"] == "Mine"


def test_tasks_need_emotion_analysis_consent(db) -> None:  # noqa: ANN001
    user = signup("noconsent")
    consent(user, face_grouping=False, expression_analysis=False)
    photo = wait_status(user, upload(user, photo_bytes("sample1.jpg")))
    refused = user.call(
        "POST", "/v1/emoji/tasks", json_body={"photo_id": photo["id"], "template_id": BUILTIN}
    )
    assert refused.status == 409
    problem = refused.json()
    assert problem["type"].endswith("/consent-required") and "emotion analysis" in problem["detail"]


def test_a_template_not_ready_or_a_photo_not_mine_is_refused(db) -> None:  # noqa: ANN001
    user, other = signup("owner"), signup("other")
    photo = analysed_photo(user, "sample1.jpg")
    pending = user.call("POST", "/v1/emoji/templates", json_body={"name": "Later"}).json()
    refused = user.call(
        "POST",
        "/v1/emoji/tasks",
        json_body={"photo_id": photo["id"], "template_id": pending["template_id"]},
    )
    assert refused.status == 409 and refused.json()["type"].endswith("/template-not-ready")
    consent(other, face_grouping=False, expression_analysis=True)
    stolen = other.call(
        "POST", "/v1/emoji/tasks", json_body={"photo_id": photo["id"], "template_id": BUILTIN}
    )
    assert stolen.status == 404


def test_others_cannot_read_or_use_my_private_template_task_or_result(db) -> None:  # noqa: ANN001
    owner, intruder = signup("alice"), signup("mallory")
    template = wait_template(owner, make_template(owner, "Private")["template_id"])
    photo = analysed_photo(owner, "obama.jpg")
    task = wait_task(
        owner,
        owner.call(
            "POST",
            "/v1/emoji/tasks",
            json_body={"photo_id": photo["id"], "template_id": template["template_id"]},
        ).json()["task_id"],
    )
    consent(intruder, face_grouping=False, expression_analysis=True)
    tid = template["template_id"]
    assert_others_get_404(
        intruder,
        [
            Attempt("GET", f"/v1/emoji/templates/{tid}"),
            Attempt("PATCH", f"/v1/emoji/templates/{tid}", {"public": True}),
            Attempt("DELETE", f"/v1/emoji/templates/{tid}"),
            Attempt("GET", f"/v1/emoji/tasks/{task['task_id']}"),
            Attempt("POST", "/v1/emoji/tasks", {"photo_id": photo["id"], "template_id": BUILTIN}),
            Attempt("PUT", "/v1/me/avatar", {"template_id": tid}),
        ],
    )
    intruder_photo = wait_status(intruder, upload(intruder, photo_bytes("biden.jpg")))
    assert_others_get_404(
        intruder,
        [
            Attempt(
                "POST", "/v1/emoji/tasks", {"photo_id": intruder_photo["id"], "template_id": tid}
            )
        ],
    )
    listed = intruder.call("GET", "/v1/emoji/templates").json()["items"]
    assert tid not in {t["template_id"] for t in listed}
    assert intruder.call("GET", "/v1/me/emoji/results").json()["items"] == []
    before = owner.call("GET", f"/v1/emoji/templates/{tid}").json()
    before.pop("images")  # presigned URLs differ per call
    after = owner.call("GET", f"/v1/emoji/templates/{tid}").json()
    after.pop("images")
    assert after == before


def test_a_public_template_is_usable_by_others_and_only_its_owner_changes_it(db) -> None:  # noqa: ANN001
    owner, other = signup("sharer"), signup("user")
    template = wait_template(owner, make_template(owner, "Shared", public=True)["template_id"])
    tid = template["template_id"]
    seen = other.call("GET", f"/v1/emoji/templates/{tid}").json()
    assert seen["status"] == "ready" and not seen["mine"]
    assert other.call("PATCH", f"/v1/emoji/templates/{tid}", json_body={"name": "x"}).status == 404
    assert other.call("DELETE", f"/v1/emoji/templates/{tid}").status == 404
    assert (
        owner.call("PATCH", f"/v1/emoji/templates/{tid}", json_body={"name": " Re  named "}).json()[
            "name"
        ]
        == "Re named"
    )
    assert (
        owner.call("PATCH", f"/v1/emoji/templates/{BUILTIN}", json_body={"name": "x"}).status == 403
    )
    photo = analysed_photo(other, "0-f15-hao-ph.jpg")
    task = wait_task(
        other,
        other.call(
            "POST", "/v1/emoji/tasks", json_body={"photo_id": photo["id"], "template_id": tid}
        ).json()["task_id"],
    )
    assert task["status"] == "done" and [f["emoji"] for f in task["faces"]] == ["happy"]
    # Deleting the template keeps the results made with it viewable.
    assert owner.call("DELETE", f"/v1/emoji/templates/{tid}").status == 204
    assert other.call("GET", f"/v1/emoji/templates/{tid}").status == 404
    kept = other.call("GET", f"/v1/emoji/tasks/{task['task_id']}").json()
    assert kept["status"] == "done" and httpx.get(kept["result_url"]).status_code == 200
    assert not objects_under(f"emoji-templates/{owner.id}/{tid}/")


def _task_message(task_id: str, user_id: str, receive_count: int = 1) -> dict:
    from cheese_local.events import eventbridge_event, received_message

    detail = {"task_id": task_id, "user_id": user_id}
    body = json.dumps(eventbridge_event("EmojiTaskRequested", detail))
    return received_message(body, receive_count) | {"MessageId": f"m-{task_id}"}


def _run_worker(message: dict) -> dict:
    from cheese_local.events import sqs_event
    from cheese_local.lambda_context import LocalLambdaContext
    from functions.emotion import worker

    return worker.handler(
        sqs_event([message], "arn:aws:sqs:us-east-1:000000000000:cheese-emotion-tasks"),
        LocalLambdaContext("emotion-tasks"),
    )


def test_a_duplicate_message_gives_one_result_and_counts_once(db) -> None:  # noqa: ANN001
    user = signup("dup")
    photo = analysed_photo(user, "sample2.jpg")
    task_id = user.call(
        "POST",
        "/v1/emoji/tasks",
        json_body={"photo_id": photo["id"], "template_id": "builtin-noto"},
    ).json()["task_id"]
    done = wait_task(user, task_id)
    with session_scope() as session:
        uses = session.get(EmojiTemplate, "builtin-noto").use_count
    for _ in range(2):
        assert _run_worker(_task_message(task_id, user.id)) == {"batchItemFailures": []}
    again = user.call("GET", f"/v1/emoji/tasks/{task_id}").json()
    assert again["faces"] == done["faces"] and again["finished_at"] == done["finished_at"]
    with session_scope() as session:
        assert session.get(EmojiTemplate, "builtin-noto").use_count == uses
    assert objects_under(f"derived/{user.id}/emoji/") == [f"derived/{user.id}/emoji/{task_id}.jpg"]


def test_a_poison_task_ends_failed_with_a_reason_and_its_message_fails(db) -> None:  # noqa: ANN001
    user = signup("poison")
    photo = analysed_photo(user, "sample1.jpg")
    # The photo's original is damaged after it was analysed.
    aws.client("s3").put_object(
        Bucket=get_settings().photos_bucket,
        Key=f"originals/{user.id}/{photo['id']}",
        Body=b"\xff\xd8\xff not really a JPEG",
    )
    with session_scope() as session:
        task = EmojiTask(
            user_id=user.id, photo_id=photo["id"], template_id=BUILTIN, template_name="Twemoji"
        )
        session.add(task)
        session.flush()
        task_id = task.id
    message = _task_message(task_id, user.id)
    for _ in range(2):  # failed on every delivery, until SQS moves it to the DLQ
        failures = _run_worker(message)["batchItemFailures"]
        assert failures == [{"itemIdentifier": message["MessageId"]}]
    failed = user.call("GET", f"/v1/emoji/tasks/{task_id}").json()
    assert failed["status"] == "failed" and failed["failure_reason"] == "image-corrupt"
    assert failed["result_url"] is None


def test_ranking_counts_templates_and_expressions_of_done_tasks(db) -> None:  # noqa: ANN001
    user = signup("ranker")
    photo = analysed_photo(user, "0-f15-hao-ph.jpg")
    before = user.call("GET", "/v1/emoji/ranking", query="period=day").json()
    happy_before = next(
        (e["faces"] for e in before["expressions"] if e["expression"] == "happy"), 0
    )
    for _ in range(2):
        wait_task(
            user,
            user.call(
                "POST",
                "/v1/emoji/tasks",
                json_body={"photo_id": photo["id"], "template_id": "builtin-noto"},
            ).json()["task_id"],
        )
    for period in ("day", "week", "all"):
        ranking = user.call("GET", "/v1/emoji/ranking", query=f"period={period}").json()
        assert ranking["period"] == period
        noto = next(t for t in ranking["templates"] if t["template_id"] == "builtin-noto")
        assert noto["uses"] >= 2 and noto["builtin"]
        happy = next(e for e in ranking["expressions"] if e["expression"] == "happy")
        assert happy["faces"] >= happy_before + 2
    day = user.call("GET", "/v1/emoji/ranking", query="period=day").json()
    assert next(e for e in day["expressions"] if e["expression"] == "happy")["faces"] == (
        happy_before + 2
    )
    assert user.call("GET", "/v1/emoji/ranking", query="period=year").status == 422


def test_templates_page_by_popularity_and_age(db) -> None:  # noqa: ANN001
    user = signup("pager")
    for index in range(3):
        user.call("POST", "/v1/emoji/templates", json_body={"name": f"T{index}"})
    seen: list[str] = []
    cursor = None
    while True:
        query = "sort=new&limit=2" + (f"&cursor={cursor}" if cursor else "")
        page = user.call("GET", "/v1/emoji/templates", query=query).json()
        seen += [t["template_id"] for t in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) and {"builtin-twemoji", "builtin-noto"} <= set(seen)
    mine = [t["name"] for t in user.call("GET", "/v1/me/emoji/templates").json()["items"]]
    assert mine == ["T2", "T1", "T0"]
    popular = user.call("GET", "/v1/emoji/templates", query="sort=popular&limit=100").json()
    counts = [t["use_count"] for t in popular["items"]]
    assert counts == sorted(counts, reverse=True)
    assert user.call("GET", "/v1/emoji/templates", query="cursor=garbage!").status == 400


def test_account_deletion_erases_templates_tasks_and_results(db) -> None:  # noqa: ANN001
    user = signup("leaver")
    template = wait_template(user, make_template(user)["template_id"])
    photo = analysed_photo(user, "obama2.jpg")
    wait_task(
        user,
        user.call(
            "POST",
            "/v1/emoji/tasks",
            json_body={"photo_id": photo["id"], "template_id": template["template_id"]},
        ).json()["task_id"],
    )
    assert user.call("PUT", "/v1/me/avatar", json_body={"template_id": BUILTIN}).status == 200
    assert objects_under(f"emoji-templates/{user.id}/") and objects_under(
        f"derived/{user.id}/emoji/"
    )
    assert user.call("DELETE", "/v1/auth/me").status == 202

    def nothing_left() -> bool:
        with session_scope() as session:
            rows = session.scalar(
                select(func.count()).select_from(EmojiTask).where(EmojiTask.user_id == user.id)
            ) + session.scalar(
                select(func.count())
                .select_from(EmojiTemplate)
                .where(EmojiTemplate.owner_id == user.id)
            )
        return (
            rows == 0
            and not objects_under(f"emoji-templates/{user.id}/")
            and not objects_under(f"derived/{user.id}/emoji/")
        )

    assert wait_until(nothing_left, timeout=30, interval=0.5)


def test_withdrawing_emotion_analysis_consent_erases_emoji_results(db) -> None:  # noqa: ANN001
    user = signup("withdrawer")
    template = wait_template(user, make_template(user)["template_id"])
    photo = analysed_photo(user, "sample3.jpg")
    task = wait_task(
        user,
        user.call(
            "POST", "/v1/emoji/tasks", json_body={"photo_id": photo["id"], "template_id": BUILTIN}
        ).json()["task_id"],
    )
    assert task["status"] == "done" and objects_under(f"derived/{user.id}/emoji/")
    consent(user, face_grouping=False, expression_analysis=False)
    assert user.call("GET", f"/v1/emoji/tasks/{task['task_id']}").status == 404
    assert user.call("GET", "/v1/me/emoji/results").json()["items"] == []
    assert not objects_under(f"derived/{user.id}/emoji/")
    # Templates are pictures, not analyses: they stay.
    assert user.call("GET", f"/v1/emoji/templates/{template['template_id']}").status == 200
