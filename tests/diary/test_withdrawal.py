"""Emotion analysis and its consent: the timeline's status, and what a withdrawal erases.

Withdrawing ``expression_analysis`` (``PUT /v1/me/consent``, served by the
photos function) erases every diary's timeline, emotion summary and the
calendar's dominant emotion in the same transaction; the transcript, tags and
video stay. An analysis finishing after the withdrawal stores no timeline.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from sqlalchemy import text

from cheese_runtime import resources
from cheese_runtime.db.session import session_scope
from functions.diary import results
from tests.conftest import signup
from tests.diary.test_diary_api import analysed, new_diary
from tests.photos.helpers import consent

TIMELINE = [results.TimelinePoint(t=0.0, expression={"happy": 1.0})]
SUMMARY = results.EmotionSummary(dominant="happy", shares={"happy": 1.0})


def _diary(user: Any, diary_id: str) -> dict[str, Any]:
    response = user.call("GET", f"/v1/diaries/{diary_id}")
    assert response.status == 200, response.body
    return response.json()


def test_the_diary_says_why_it_has_no_timeline(db: Any) -> None:
    user = signup("reasons")
    pending = new_diary(user, upload=False)
    assert (_diary(user, pending)["timeline_status"], _diary(user, pending)["timeline"]) == (
        "pending",
        None,
    )

    no_consent = new_diary(user, upload=False)
    results.record_analysis(
        no_consent, duration_s=3, transcript=None, key_sentences=[], tags=[],
        emotion_skipped="no-consent",
    )  # fmt: skip
    got = _diary(user, no_consent)
    assert got["timeline"] is None and got["emotion_summary"] is None
    assert (got["timeline_status"], got["timeline_skipped_reason"]) == ("skipped", "no-consent")

    no_face = new_diary(user, upload=False)
    results.record_analysis(no_face, duration_s=3, transcript=None, key_sentences=[], tags=[])
    assert _diary(user, no_face)["timeline_skipped_reason"] == "no-face"

    failed = new_diary(user, upload=False)
    results.mark_failed(failed, "video-corrupt")
    assert _diary(user, failed)["timeline_status"] == "failed"

    with_timeline = new_diary(user, upload=False)
    analysed(with_timeline)
    got = _diary(user, with_timeline)
    assert (got["timeline_status"], got["timeline_skipped_reason"]) == ("ready", None)
    assert got["timeline"]


def test_withdrawing_expression_analysis_erases_every_diary_emotion(db: Any) -> None:
    user, other = signup("withdraws"), signup("keeps")
    consent(user, face_grouping=False, expression_analysis=True)
    mine = [new_diary(user, recorded_on="2026-05-01", upload=False) for _ in range(2)]
    for diary_id in mine:
        analysed(diary_id, dominant="sad")
    theirs = new_diary(other, recorded_on="2026-05-01", upload=False)
    analysed(theirs, dominant="happy")
    day = user.call("GET", "/v1/diaries/calendar", query="year=2026").json()["days"]
    assert day == [{"date": "2026-05-01", "count": 2, "dominant_emotion": "sad"}]

    consent(user, face_grouping=False, expression_analysis=False)

    for diary_id in mine:
        got = _diary(user, diary_id)
        assert got["timeline"] is None and got["emotion_summary"] is None
        assert got["dominant_emotion"] is None
        assert (got["timeline_status"], got["timeline_skipped_reason"]) == (
            "skipped",
            "consent-withdrawn",
        )
        # Not expression analyses: they stay.
        assert got["transcript"]["text"].startswith("Today I went hiking")
        assert got["tags"] == ["hiking", "sister", "mountain"] and got["status"] == "ready"
    assert user.call("GET", "/v1/diaries/calendar", query="year=2026").json()["days"] == [
        {"date": "2026-05-01", "count": 2, "dominant_emotion": None}
    ]
    listed = user.call("GET", "/v1/diaries").json()["items"]
    assert {d["dominant_emotion"] for d in listed} == {None}
    # SQL NULL in the rows, not a JSON null left behind.
    with session_scope() as session:
        rows = session.execute(
            text(
                "SELECT count(*) FROM diaries WHERE user_id = :u AND (timeline IS NOT NULL "
                "OR emotion_summary IS NOT NULL OR dominant_emotion IS NOT NULL)"
            ),
            {"u": user.id},
        ).scalar()
    assert rows == 0
    # Someone else's diary is untouched.
    assert _diary(other, theirs)["emotion_summary"]["dominant"] == "happy"


def test_an_analysis_finishing_after_the_withdrawal_stores_no_timeline(db: Any) -> None:
    user = signup("late-analysis")
    consent(user, face_grouping=False, expression_analysis=True)
    diary_id = new_diary(user, upload=False)
    # The consumer saw the consent, analysed the face, and the user withdrew meanwhile.
    consent(user, face_grouping=False, expression_analysis=False)
    assert results.record_analysis(
        diary_id, duration_s=3, transcript=None, key_sentences=[], tags=[],
        timeline=TIMELINE, emotion_summary=SUMMARY,
    )  # fmt: skip
    got = _diary(user, diary_id)
    assert got["timeline"] is None and got["dominant_emotion"] is None
    assert got["timeline_skipped_reason"] == "consent-withdrawn" and got["status"] == "ready"


WITHDRAWAL_IN_A_FRESH_PROCESS = r"""
import importlib, json, sys
from cheese_local.events import http_api_event
from cheese_local.lambda_context import LocalLambdaContext
from cheese_runtime import consent
module, token = sys.argv[1], sys.argv[2]
handler = importlib.import_module(module).handler
event = http_api_event(
    "PUT", "/v1/me/consent", route_key="PUT /v1/me/consent",
    headers={"authorization": "Bearer " + token, "content-type": "application/json"},
    body=json.dumps({"face_grouping": False, "expression_analysis": False}).encode(),
)
result = handler(event, LocalLambdaContext(function_name="consent"))
print(json.dumps({
    "status": result["statusCode"],
    "hooks": [f"{h.__module__}.{h.__name__}" for h in consent._HOOKS["expression_analysis"]],
}))
"""


def test_the_hook_runs_where_the_consent_is_withdrawn_in_aws(db) -> None:  # noqa: ANN001
    """The function serving PUT /v1/me/consent runs the diary's hook: in AWS its code is the
    ML image (every functions/ package), and the consent decision registers every function's
    hooks before it withdraws (a fresh process: nothing else imported them)."""
    serving = [
        f
        for f in resources.API_FUNCTIONS
        if any(r.method == "PUT" and r.path == "/v1/me/consent" for r in f.routes)
    ]
    assert len(serving) == 1 and serving[0].ml_image
    user = signup("fresh-withdrawal")
    consent(user, face_grouping=False, expression_analysis=True)
    out = subprocess.run(
        [sys.executable, "-c", WITHDRAWAL_IN_A_FRESH_PROCESS, serving[0].module, user.access_token],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    answer = json.loads(out.stdout.strip().splitlines()[-1])
    assert answer["status"] == 200
    assert "functions.diary.withdrawal.erase_emotion_analysis" in answer["hooks"]
