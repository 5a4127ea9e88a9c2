"""Nothing stays stuck (issue 10, item 9): the scheduled reconciler re-drives lost work and
fails what cannot recover; the anonymised view never answers 202 forever."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, update

from cheese_local.lambda_context import LocalLambdaContext
from cheese_runtime import aws, resources
from cheese_runtime.db.session import session_scope
from cheese_runtime.db.types import utcnow
from cheese_runtime.settings import get_settings
from functions.photos import reconciler, storage
from functions.photos.models import AnonymisedView, Face, Photo
from functions.photos.recovery_settings import get_recovery_settings
from tests.conftest import TestUser, signup, wait_until
from tests.photos.helpers import consent, photo_bytes, upload, wait_status

# What EventBridge Scheduler delivers to the job.
SCHEDULED_EVENT = {
    "version": "0",
    "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa",
    "detail-type": "Scheduled Event",
    "source": "aws.events",
    "account": "123456789012",
    "time": "2026-12-01T22:00:00Z",
    "region": "us-east-1",
    "resources": ["arn:aws:events:us-east-1:123456789012:rule/photos-reconcile"],
    "detail": {},
}
LONG_AGO = timedelta(hours=2)


def run_reconciler() -> dict:
    return reconciler.handler(dict(SCHEDULED_EVENT), LocalLambdaContext("photos-reconcile"))


def leave_stuck(photo_id: str, status: str, **values: object) -> None:
    """What a lost event or a crashed worker leaves behind: a status nobody will move."""
    with session_scope() as session:
        session.execute(delete(Face).where(Face.photo_id == photo_id))
        session.execute(
            update(Photo)
            .where(Photo.id == photo_id)
            .values(status=status, status_changed_at=utcnow() - LONG_AGO, **values)
        )


def delete_original(user: TestUser, photo_id: str) -> None:
    aws.client("s3").delete_object(
        Bucket=get_settings().photos_bucket, Key=storage.original_key(user.id, photo_id)
    )


def kept_person(user: TestUser, photo_id: str) -> str:
    """A person of the user's own from the photo's first face: the one a view keeps."""
    face_id = user.call("GET", f"/v1/photos/{photo_id}").json()["faces"][0]["id"]
    return user.call("POST", f"/v1/faces/{face_id}/assign", json_body={"person_id": None}).json()[
        "id"
    ]


def stored(photo_id: str) -> Photo:
    with session_scope() as session:
        photo = session.get(Photo, photo_id)
        assert photo is not None
        return photo


def test_the_job_is_scheduled_and_runs_when_the_local_stack_starts() -> None:
    assert resources.PHOTOS_RECONCILE in resources.SCHEDULED_JOBS
    assert resources.PHOTOS_RECONCILE.module == reconciler.__name__
    assert resources.PHOTOS_RECONCILE.run_at_start
    # Past SQS's own retries of the analysis (6 × its timeout is the visibility timeout).
    analysis = next(n for n in resources.BUCKET_NOTIFICATIONS if n.consumer == "photos-analysis")
    assert get_recovery_settings().stuck_after_seconds > 6 * analysis.timeout_seconds


def test_a_photo_stuck_in_processing_is_analysed_again(db) -> None:  # noqa: ANN001
    user = signup("stuck-processing")
    consent(user)
    photo_id = upload(user, photo_bytes("obama2.jpg"))
    faces = wait_status(user, photo_id)["faces"]
    leave_stuck(photo_id, "processing")
    assert user.call("GET", f"/v1/photos/{photo_id}").json()["faces"] == []

    run_reconciler()
    photo = wait_status(user, photo_id, ("analyzed", "failed"))
    assert photo["status"] == "analyzed" and len(photo["faces"]) == len(faces)
    assert stored(photo_id).redrives >= 1
    # The re-drive kept the original as it was.
    assert storage.exists(storage.original_key(user.id, photo_id))


def test_a_photo_whose_original_is_gone_fails_with_a_reason(db) -> None:  # noqa: ANN001
    user = signup("stuck-gone")
    photo_id = upload(user, photo_bytes("obama.jpg"))
    wait_status(user, photo_id)
    leave_stuck(photo_id, "processing")
    delete_original(user, photo_id)
    run_reconciler()
    photo = user.call("GET", f"/v1/photos/{photo_id}").json()
    assert (photo["status"], photo["failure_reason"]) == ("failed", "original-missing")


def test_an_upload_that_never_came_fails_once_its_url_expired(db) -> None:  # noqa: ANN001
    user = signup("never-uploaded")
    fresh, expired = (
        user.call(
            "POST",
            "/v1/photos/uploads",
            json_body={"content_type": "image/jpeg", "size_bytes": 1234},
        ).json()["photo_id"]
        for _ in range(2)
    )
    leave_stuck(fresh, "pending")
    leave_stuck(expired, "pending", created_at=utcnow() - LONG_AGO)
    run_reconciler()
    assert user.call("GET", f"/v1/photos/{fresh}").json()["status"] == "pending"
    photo = user.call("GET", f"/v1/photos/{expired}").json()
    assert (photo["status"], photo["failure_reason"]) == ("failed", "upload-missing")


def test_re_drives_are_bounded(db) -> None:  # noqa: ANN001
    user = signup("stuck-forever")
    photo_id = upload(user, photo_bytes("biden.jpg"))
    wait_status(user, photo_id)
    leave_stuck(photo_id, "processing", redrives=get_recovery_settings().max_redrives)
    run_reconciler()
    photo = user.call("GET", f"/v1/photos/{photo_id}").json()
    assert (photo["status"], photo["failure_reason"]) == ("failed", "analysis-stuck")


def test_a_lost_render_request_is_re_driven_to_ready(db) -> None:  # noqa: ANN001
    user = signup("lost-render")
    consent(user)
    photo_id = upload(user, photo_bytes("obama2.jpg"))
    wait_status(user, photo_id)
    person = kept_person(user, photo_id)
    key = storage.anonymised_key(user.id, photo_id, [person], "mosaic")
    with session_scope() as session:
        session.add(
            AnonymisedView(
                object_key=key,
                user_id=user.id,
                photo_id=photo_id,
                keep_person_ids=[person],
                style="mosaic",
                status="rendering",
                status_changed_at=utcnow() - LONG_AGO,
            )
        )
    path, query = f"/v1/photos/{photo_id}/anonymised", f"keep={person}&style=mosaic"
    assert user.call("GET", path, query=query).status == 202
    run_reconciler()
    assert wait_until(lambda: user.call("GET", path, query=query).status == 200, timeout=60)

    def row_removed() -> bool:  # just after the object is stored
        with session_scope() as session:
            return session.get(AnonymisedView, key) is None

    assert wait_until(row_removed, timeout=10)


def test_a_view_of_a_lost_original_is_refused_instead_of_rendering_forever(db) -> None:  # noqa: ANN001
    user = signup("render-gone")
    consent(user)
    photo_id = upload(user, photo_bytes("obama.jpg"))
    wait_status(user, photo_id)
    person = kept_person(user, photo_id)
    delete_original(user, photo_id)
    path, query = f"/v1/photos/{photo_id}/anonymised", f"keep={person}&style=blur"
    first = user.call("GET", path, query=query)
    assert first.status == 202
    answers: list = []

    def refused() -> bool:
        answers.append(user.call("GET", path, query=query))
        return answers[-1].status != 202

    assert wait_until(refused, timeout=60, interval=0.3)
    problem = answers[-1]
    assert problem.status == 409, problem.body
    assert problem.json()["type"].endswith("/anonymised-view-failed")
    assert problem.json()["failure_reason"] == "original-missing"


def test_a_render_that_never_finishes_ends_failed(db) -> None:  # noqa: ANN001
    user = signup("render-stuck")
    consent(user)
    photo_id = upload(user, photo_bytes("biden.jpg"))
    wait_status(user, photo_id)
    person = kept_person(user, photo_id)
    key = storage.anonymised_key(user.id, photo_id, [person], "cartoon")
    with session_scope() as session:
        session.add(
            AnonymisedView(
                object_key=key,
                user_id=user.id,
                photo_id=photo_id,
                keep_person_ids=[person],
                style="cartoon",
                status="rendering",
                redrives=get_recovery_settings().max_redrives,
                status_changed_at=utcnow() - LONG_AGO,
            )
        )
    run_reconciler()
    answer = user.call(
        "GET", f"/v1/photos/{photo_id}/anonymised", query=f"keep={person}&style=cartoon"
    )
    assert answer.status == 409 and answer.json()["failure_reason"] == "render-stuck"
