"""The diary API through the Lambda handlers, moto's S3 and the database.

The analysis' results are written through functions.diary.results, the one
interface the analysis consumers use (their own tests run them on real video).
"""

from __future__ import annotations

from datetime import date

import httpx
import pytest
from sqlalchemy import func, select

from cheese_runtime import aws, consent
from cheese_runtime.consent import Consents
from cheese_runtime.db.session import session_scope
from cheese_runtime.settings import get_settings
from functions.diary import results
from functions.diary.models import Diary, DiaryComment
from tests.conftest import TestUser, signup, wait_until
from tests.idor import Attempt, assert_others_get_404

# The first bytes of an MP4 (ftyp box, isom brand): enough for the upload policy and the sniffer.
MP4_HEAD = bytes.fromhex("0000001c667479706973736f6d0000020069736f6d69736f326d703431") + b"\0" * 64


def objects_under(prefix: str) -> list[str]:
    listed = aws.client("s3").list_objects_v2(Bucket=get_settings().photos_bucket, Prefix=prefix)
    return [o["Key"] for o in listed.get("Contents", [])]


def new_diary(
    user: TestUser, recorded_on: str = "2026-03-14", title: str | None = None, upload: bool = True
) -> str:
    """A diary, its video uploaded unless ``upload`` is False.

    The uploaded bytes are only an MP4 header: the local stack's analysis
    consumer fails them (``upload-sniffed-type``) in the background, so a test
    that writes a failure of its own creates its diary without an upload.
    """
    body = {"recorded_on": recorded_on, "content_type": "video/mp4", "size_bytes": len(MP4_HEAD)}
    if title is not None:
        body["title"] = title
    created = user.call("POST", "/v1/diaries", json_body=body)
    assert created.status == 201, created.body
    if not upload:
        return created.json()["diary_id"]
    form = created.json()["upload"]
    posted = httpx.post(
        form["url"], data=form["fields"], files={"file": ("diary.mp4", MP4_HEAD, "video/mp4")}
    )
    assert posted.status_code in (200, 201, 204), posted.text
    return created.json()["diary_id"]


def analysed(
    diary_id: str,
    text: str = "Today I went hiking with my sister. The mountain was beautiful.",
    tags: tuple[str, ...] = ("hiking", "sister", "mountain"),
    dominant: str = "happy",
    language: str = "en-US",
) -> None:
    """Record an analysis with a timeline, the diarist having granted emotion analysis
    (``record_analysis`` drops a timeline the diarist has not consented to)."""
    with session_scope() as session:
        diary = session.get(Diary, diary_id)
        assert diary is not None
        Consents(session).decide(diary.user_id, {consent.EXPRESSION_ANALYSIS: True})
    words = [
        results.TranscriptWord(word=w, start=i * 0.5, end=i * 0.5 + 0.4)
        for i, w in enumerate(text.split())
    ]
    shares = {"happy": 0.1, "sad": 0.1, "neutral": 0.1} | {dominant: 0.7}
    assert results.record_analysis(
        diary_id,
        duration_s=12.5,
        transcript=results.Transcript(language=language, text=text, words=words),
        key_sentences=[text.split(".")[0] + "."],
        tags=list(tags),
        timeline=[
            results.TimelinePoint(t=0.0, expression={"sad": 0.8, "happy": 0.2}),
            results.TimelinePoint(t=0.5, expression={"sad": 0.2, "happy": 0.8}),
        ],
        emotion_summary=results.EmotionSummary(
            dominant=dominant,
            shares=shares,
            stretches=[{"start": 0, "end": 12.5, "label": dominant}],
        ),
    )


def test_a_diary_is_recorded_analysed_and_edited_and_edits_survive_reanalysis(db) -> None:  # noqa: ANN001
    user = signup("diarist")
    diary_id = new_diary(user, title="  Hike  day ")
    pending = user.call("GET", f"/v1/diaries/{diary_id}").json()
    assert pending["status"] == "pending" and pending["title"] == "Hike day"
    assert pending["video_url"] is None and pending["timeline"] is None and pending["mine"]
    assert objects_under(f"diaries/{user.id}/{diary_id}/") == [
        f"diaries/{user.id}/{diary_id}/video"
    ]

    analysed(diary_id)
    ready = user.call("GET", f"/v1/diaries/{diary_id}").json()
    assert ready["status"] == "ready" and ready["duration_s"] == 12.5
    assert httpx.get(ready["video_url"]).content == MP4_HEAD
    assert ready["transcript"]["words"][0] == {"word": "Today", "start": 0.0, "end": 0.4}
    assert ready["tags"] == ["hiking", "sister", "mountain"]
    assert ready["key_sentences"] == ["Today I went hiking with my sister."]
    assert ready["timeline"][1]["expression"]["happy"] == 0.8
    assert ready["emotion_summary"]["dominant"] == "happy" and ready["dominant_emotion"] == "happy"

    patched = user.call(
        "PATCH", f"/v1/diaries/{diary_id}", json_body={"title": "Seoraksan", "tags": ["Family"]}
    )
    assert patched.status == 200 and patched.json()["tags"] == ["Family"]
    analysed(diary_id, text="A different transcript now.", tags=("transcript",))
    again = user.call("GET", f"/v1/diaries/{diary_id}").json()
    assert again["title"] == "Seoraksan" and again["tags"] == ["Family"]
    assert again["transcript"]["text"] == "A different transcript now."
    assert (
        user.call("GET", "/v1/diaries", query="tag=family").json()["items"][0]["diary_id"]
        == diary_id
    )

    # null hands the tags back to the analysis.
    reset = user.call("PATCH", f"/v1/diaries/{diary_id}", json_body={"tags": None}).json()
    assert reset["tags"] == ["transcript"]
    assert user.call("GET", "/v1/diaries", query="tag=family").json()["items"] == []

    assert user.call("DELETE", f"/v1/diaries/{diary_id}").status == 204
    assert user.call("GET", f"/v1/diaries/{diary_id}").status == 404
    assert objects_under(f"diaries/{user.id}/{diary_id}/") == []


def test_failed_analysis_shows_its_reason_and_a_late_failure_keeps_results(db) -> None:  # noqa: ANN001
    user = signup("failer")
    diary_id = new_diary(user, upload=False)
    assert results.mark_failed(diary_id, "video-too-long")
    failed = user.call("GET", f"/v1/diaries/{diary_id}").json()
    assert failed["status"] == "failed" and failed["failure_reason"] == "video-too-long"
    assert results.start_analysis(diary_id) is not None
    analysed(diary_id)
    assert results.already_analysed(diary_id)
    results.mark_failed(diary_id, "processing-error")
    assert user.call("GET", f"/v1/diaries/{diary_id}").json()["status"] == "ready"
    assert not results.record_analysis(
        "00000000-0000-0000-0000-000000000000",
        duration_s=1,
        transcript=None,
        key_sentences=[],
        tags=[],
    )


@pytest.mark.parametrize(
    ("body", "status", "slug"),
    [
        (
            {"content_type": "video/mp4", "size_bytes": 200 * 1024 * 1024 + 1},
            413,
            "video-too-large",
        ),
        ({"content_type": "video/avi", "size_bytes": 10}, 422, "validation-error"),
        ({"content_type": "video/mp4", "size_bytes": 0}, 422, "validation-error"),
        (
            {"content_type": "video/mp4", "size_bytes": 10, "recorded_on": "3026-01-01"},
            422,
            "validation-error",
        ),
    ],
)
def test_uploads_that_cannot_be_diaries_are_refused(db, body, status, slug) -> None:  # noqa: ANN001
    user = signup("refused")
    response = user.call("POST", "/v1/diaries", json_body={"recorded_on": "2026-01-02"} | body)
    assert response.status == status, response.body
    assert response.json()["type"] == f"https://cheese.dev/problems/{slug}"


def test_search_by_dates_tag_and_transcript_words_pages_with_cursors(db) -> None:  # noqa: ANN001
    user = signup("searcher")
    other = signup("neighbour")
    hike = new_diary(user, "2026-05-01")
    analysed(hike)
    korean = new_diary(user, "2026-05-02")
    analysed(
        korean,
        text="오늘은 친구와 카페에 갔다. 커피가 맛있었다.",
        tags=("카페", "친구"),
        language="ko-KR",
    )
    plain = [new_diary(user, f"2026-06-{day:02d}") for day in range(1, 6)]
    analysed(new_diary(other, "2026-05-01"))

    def ids(query: str) -> list[str]:
        page = user.call("GET", "/v1/diaries", query=query)
        assert page.status == 200, page.body
        return [d["diary_id"] for d in page.json()["items"]]

    assert ids("q=HIKING sister") == [hike]
    assert ids("q=hiking%20cafe") == []
    assert ids("q=%EC%B9%B4%ED%8E%98") == [korean]  # 카페
    assert ids("tag=%EC%B9%9C%EA%B5%AC") == [korean]  # 친구
    assert ids("from=2026-05-02&to=2026-05-31") == [korean]
    assert ids("q=100%25") == [] and ids("q=_") == []  # LIKE wildcards are literal

    seen, cursor = [], None
    while True:
        page = user.call(
            "GET", "/v1/diaries", query="limit=3" + (f"&cursor={cursor}" if cursor else "")
        ).json()
        seen += [d["diary_id"] for d in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [*reversed(plain), korean, hike]
    bad = user.call("GET", "/v1/diaries", query="cursor=bm90LWpzb24")
    assert bad.status == 400 and bad.json()["type"].endswith("/invalid-cursor")


def test_the_calendar_counts_diaries_per_day_with_the_dominant_emotion(db) -> None:  # noqa: ANN001
    user = signup("calendar")
    for emotion in ("sad", "happy", "happy"):
        analysed(new_diary(user, "2026-02-03"), dominant=emotion)
    analysed(new_diary(user, "2026-02-04"), dominant="surprise")
    new_diary(user, "2026-02-05")  # not analysed yet
    new_diary(user, "2025-12-31")
    analysed(new_diary(signup("other"), "2026-02-03"), dominant="angry")

    days = user.call("GET", "/v1/diaries/calendar", query="year=2026").json()["days"]
    assert days == [
        {"date": "2026-02-03", "count": 3, "dominant_emotion": "happy"},
        {"date": "2026-02-04", "count": 1, "dominant_emotion": "surprise"},
        {"date": "2026-02-05", "count": 1, "dominant_emotion": None},
    ]
    assert [
        d["date"]
        for d in user.call("GET", "/v1/diaries/calendar", query="year=2025").json()["days"]
    ] == ["2025-12-31"]
    assert user.call("GET", "/v1/diaries/calendar", query="year=abc").status == 422


def test_other_users_get_404_for_every_diary_route(db) -> None:  # noqa: ANN001
    owner, intruder = signup("owner"), signup("intruder")
    diary_id = new_diary(owner)
    analysed(diary_id)
    before = owner.call("GET", f"/v1/diaries/{diary_id}").json()
    before.pop("video_url")
    channel = intruder.call("POST", "/v1/channels", json_body={"name": "Mine"}).json()["channel_id"]
    assert_others_get_404(
        intruder,
        [
            Attempt("GET", f"/v1/diaries/{diary_id}"),
            Attempt("PATCH", f"/v1/diaries/{diary_id}", {"title": "x"}),
            Attempt("DELETE", f"/v1/diaries/{diary_id}"),
            Attempt("GET", f"/v1/diaries/{diary_id}/comments"),
            Attempt("POST", f"/v1/diaries/{diary_id}/comments", {"body": "hi"}),
            Attempt("POST", f"/v1/channels/{channel}/diaries", {"diary_id": diary_id}),
        ],
    )
    after = owner.call("GET", f"/v1/diaries/{diary_id}").json()
    after.pop("video_url")
    assert after == before
    assert intruder.call("GET", "/v1/diaries", query="q=hiking").json()["items"] == []


class Channel:
    """One channel with a person in every position of the permission matrix."""

    def __init__(self) -> None:
        self.owner = signup("owner")
        self.member = signup("member")
        self.invited = signup("invited")
        self.outsider = signup("outsider")
        self.leaver = signup("leaver")
        created = self.owner.call("POST", "/v1/channels", json_body={"name": "Family"})
        assert created.status == 201, created.body
        self.id = created.json()["channel_id"]
        for user in (self.member, self.invited, self.leaver):
            sent = self.owner.call(
                "POST", f"/v1/channels/{self.id}/invitations", json_body={"email": user.email}
            )
            assert sent.status == 202, sent.body
        for user in (self.member, self.leaver):
            accept(user, self.id)
        assert self.leaver.call("POST", f"/v1/channels/{self.id}/leave").status == 204
        self.diary = new_diary(self.owner)
        analysed(self.diary)
        shared = self.owner.call(
            "POST", f"/v1/channels/{self.id}/diaries", json_body={"diary_id": self.diary}
        )
        assert shared.status == 201, shared.body


def accept(user: TestUser, channel_id: str) -> None:
    invitations = user.call("GET", "/v1/me/invitations").json()["items"]
    invitation = next(i for i in invitations if i["channel_id"] == channel_id)
    answered = user.call("POST", f"/v1/invitations/{invitation['invitation_id']}/accept")
    assert answered.status == 200 and answered.json()["status"] == "accepted", answered.body


def test_the_permission_matrix_of_a_channel(db) -> None:  # noqa: ANN001
    channel = Channel()
    c = channel.id
    comment = channel.member.call(
        "POST", f"/v1/diaries/{channel.diary}/comments", json_body={"body": "Looks fun!"}
    ).json()["comment_id"]
    member_diary = new_diary(channel.member)

    for reader in (channel.owner, channel.member):
        got = reader.call("GET", f"/v1/channels/{c}")
        assert got.status == 200
        assert {m["user_id"] for m in got.json()["members"]} == {
            channel.owner.id,
            channel.member.id,
        }
        listed = reader.call("GET", f"/v1/channels/{c}/diaries").json()["items"]
        assert [d["diary_id"] for d in listed] == [channel.diary]
        assert reader.call("GET", f"/v1/diaries/{channel.diary}").status == 200
        assert [
            x["comment_id"]
            for x in reader.call("GET", f"/v1/diaries/{channel.diary}/comments").json()["items"]
        ] == [comment]
        assert c in [x["channel_id"] for x in reader.call("GET", "/v1/channels").json()["items"]]

    # A member reads, shares their own diary, comments; only the owner invites and removes.
    assert (
        channel.member.call(
            "POST", f"/v1/channels/{c}/diaries", json_body={"diary_id": member_diary}
        ).status
        == 201
    )
    assert (
        channel.member.call(
            "POST", f"/v1/channels/{c}/invitations", json_body={"email": "x@example.com"}
        ).status
        == 403
    )
    assert (
        channel.member.call("DELETE", f"/v1/channels/{c}/members/{channel.owner.id}").status == 403
    )
    assert channel.owner.call("POST", f"/v1/channels/{c}/leave").status == 409

    for stranger in (channel.invited, channel.outsider, channel.leaver):
        assert c not in [
            x["channel_id"] for x in stranger.call("GET", "/v1/channels").json()["items"]
        ]
        assert_others_get_404(
            stranger,
            [
                Attempt("GET", f"/v1/channels/{c}"),
                Attempt("GET", f"/v1/channels/{c}/diaries"),
                Attempt("POST", f"/v1/channels/{c}/diaries", {"diary_id": channel.diary}),
                Attempt("DELETE", f"/v1/channels/{c}/diaries/{channel.diary}"),
                Attempt("POST", f"/v1/channels/{c}/invitations", {"email": "y@example.com"}),
                Attempt("POST", f"/v1/channels/{c}/leave"),
                Attempt("DELETE", f"/v1/channels/{c}/members/{channel.member.id}"),
                Attempt("GET", f"/v1/diaries/{channel.diary}"),
                Attempt("GET", f"/v1/diaries/{member_diary}"),
                Attempt("GET", f"/v1/diaries/{channel.diary}/comments"),
                Attempt("POST", f"/v1/diaries/{channel.diary}/comments", {"body": "hi"}),
                Attempt("PATCH", f"/v1/comments/{comment}", {"body": "edited"}),
                Attempt("DELETE", f"/v1/comments/{comment}"),
            ],
        )

    # The owner removes the member: access ends at once, and the member's diary leaves too.
    assert (
        channel.owner.call("DELETE", f"/v1/channels/{c}/members/{channel.member.id}").status == 204
    )
    assert channel.member.call("GET", f"/v1/channels/{c}").status == 404
    assert channel.member.call("GET", f"/v1/diaries/{channel.diary}").status == 404
    assert channel.owner.call("GET", f"/v1/diaries/{member_diary}").status == 404
    assert (
        channel.owner.call("DELETE", f"/v1/channels/{c}/members/{channel.member.id}").status == 404
    )


def test_members_read_the_transcript_only_when_its_author_shares_it(db) -> None:  # noqa: ANN001
    channel = Channel()
    seen = channel.member.call("GET", f"/v1/diaries/{channel.diary}").json()
    assert seen["transcript"] is None and not seen["mine"]
    assert seen["timeline"] and seen["key_sentences"] and seen["tags"] and seen["video_url"]
    assert (
        channel.member.call(
            "PATCH", f"/v1/diaries/{channel.diary}", json_body={"title": "x"}
        ).status
        == 404
    )
    channel.owner.call(
        "PATCH", f"/v1/diaries/{channel.diary}", json_body={"share_transcript": True}
    )
    seen = channel.member.call("GET", f"/v1/diaries/{channel.diary}").json()
    assert seen["transcript"]["text"].startswith("Today I went hiking")


def test_an_invitation_answers_the_same_whether_or_not_the_email_has_an_account(db) -> None:  # noqa: ANN001
    owner, friend = signup("owner"), signup("friend")
    c = owner.call("POST", "/v1/channels", json_body={"name": "Club"}).json()["channel_id"]
    known = owner.call(
        "POST", f"/v1/channels/{c}/invitations", json_body={"email": friend.email.upper()}
    )
    unknown = owner.call(
        "POST", f"/v1/channels/{c}/invitations", json_body={"email": "nobody-here@example.com"}
    )
    assert known.status == unknown.status == 202
    assert (
        set(known.json()) == set(unknown.json())
        and known.json()["status"] == unknown.json()["status"]
    )
    assert (
        owner.call(
            "POST", f"/v1/channels/{c}/invitations", json_body={"email": "not-an-email"}
        ).status
        == 422
    )

    invitation = friend.call("GET", "/v1/me/invitations").json()["items"][0]
    assert invitation["channel_name"] == "Club" and invitation["invited_by"] == owner.id
    assert owner.call("POST", f"/v1/invitations/{invitation['invitation_id']}/accept").status == 404
    declined = friend.call("POST", f"/v1/invitations/{invitation['invitation_id']}/decline")
    assert declined.status == 200 and friend.call("GET", "/v1/me/invitations").json()["items"] == []
    assert (
        friend.call("POST", f"/v1/invitations/{invitation['invitation_id']}/accept").status == 409
    )
    assert friend.call("GET", f"/v1/channels/{c}").status == 404
    # Invited again, the friend can join.
    owner.call("POST", f"/v1/channels/{c}/invitations", json_body={"email": friend.email})
    accept(friend, c)
    assert friend.call("GET", f"/v1/channels/{c}").status == 200
    # Inviting a member again changes nothing; after leaving, an invitation starts anew.
    owner.call("POST", f"/v1/channels/{c}/invitations", json_body={"email": friend.email})
    assert friend.call("GET", "/v1/me/invitations").json()["items"] == []
    assert friend.call("POST", f"/v1/channels/{c}/leave").status == 204
    owner.call("POST", f"/v1/channels/{c}/invitations", json_body={"email": friend.email})
    accept(friend, c)
    assert friend.call("GET", f"/v1/channels/{c}").status == 200


def test_comments_their_authors_edit_and_the_channel_owner_deletes(db) -> None:  # noqa: ANN001
    channel = Channel()
    other = Channel()  # a second channel of another owner where the same diarist ... is not
    path = f"/v1/diaries/{channel.diary}/comments"
    mine = channel.member.call("POST", path, json_body={"body": "  Beautiful!  "}).json()
    assert mine["body"] == "Beautiful!" and mine["channel_id"] == channel.id and mine["mine"]
    reply = channel.owner.call("POST", path, json_body={"body": "Thanks"}).json()
    assert reply["channel_id"] is None

    assert (
        channel.owner.call(
            "PATCH", f"/v1/comments/{mine['comment_id']}", json_body={"body": "x"}
        ).status
        == 403
    )
    assert channel.member.call("DELETE", f"/v1/comments/{reply['comment_id']}").status == 403
    edited = channel.member.call(
        "PATCH", f"/v1/comments/{mine['comment_id']}", json_body={"body": "Wow"}
    )
    assert edited.status == 200 and edited.json()["body"] == "Wow" and edited.json()["updated_at"]
    assert (
        channel.member.call(
            "PATCH", f"/v1/comments/{mine['comment_id']}", json_body={"body": " "}
        ).status
        == 422
    )

    # Pages oldest first, with cursors.
    for n in range(3):
        channel.member.call("POST", path, json_body={"body": f"more {n}"})
    first = channel.owner.call("GET", path, query="limit=2").json()
    rest = channel.owner.call("GET", path, query=f"limit=10&cursor={first['next_cursor']}").json()
    bodies = [x["body"] for x in first["items"] + rest["items"]]
    assert bodies == ["Wow", "Thanks", "more 0", "more 1", "more 2"] and rest["next_cursor"] is None

    assert channel.owner.call("DELETE", f"/v1/comments/{mine['comment_id']}").status == 204
    assert (
        channel.member.call(
            "PATCH", f"/v1/comments/{mine['comment_id']}", json_body={"body": "x"}
        ).status
        == 404
    )
    assert other.member.call("GET", path).status == 404


def test_comments_made_in_one_channel_stay_in_it(db) -> None:  # noqa: ANN001
    author, first, second = signup("author"), signup("first"), signup("second")
    diary = new_diary(author)
    channels = []
    for friend in (first, second):
        c = author.call("POST", "/v1/channels", json_body={"name": friend.email}).json()[
            "channel_id"
        ]
        author.call("POST", f"/v1/channels/{c}/invitations", json_body={"email": friend.email})
        accept(friend, c)
        author.call("POST", f"/v1/channels/{c}/diaries", json_body={"diary_id": diary})
        channels.append(c)
    path = f"/v1/diaries/{diary}/comments"
    by_first = first.call("POST", path, json_body={"body": "from the first"}).json()
    assert (
        second.call("POST", path, json_body={"body": "x", "channel_id": channels[0]}).status == 404
    )
    assert [x["body"] for x in second.call("GET", path).json()["items"]] == []
    assert second.call("DELETE", f"/v1/comments/{by_first['comment_id']}").status == 404
    assert [x["body"] for x in author.call("GET", path).json()["items"]] == ["from the first"]
    # The author owns both channels: they may delete a member's comment.
    assert author.call("DELETE", f"/v1/comments/{by_first['comment_id']}").status == 204


def test_account_deletion_erases_diaries_videos_derived_objects_and_comments(db) -> None:  # noqa: ANN001
    channel = Channel()
    leaver = channel.member
    own = new_diary(leaver)
    analysed(own)
    aws.client("s3").put_object(
        Bucket=get_settings().photos_bucket,
        Key=f"derived/{leaver.id}/diary/{own}/transcribe/output.json",
        Body=b"{}",
    )
    path = f"/v1/diaries/{channel.diary}/comments"
    leaver.call("POST", path, json_body={"body": "on someone else's diary"})
    assert leaver.call("DELETE", "/v1/auth/me").status == 202

    def nothing_left() -> bool:
        with session_scope() as session:
            rows = session.scalar(
                select(func.count()).select_from(Diary).where(Diary.user_id == leaver.id)
            ) + session.scalar(
                select(func.count())
                .select_from(DiaryComment)
                .where(DiaryComment.author_id == leaver.id)
            )
        return (
            rows == 0
            and not objects_under(f"diaries/{leaver.id}/")
            and not objects_under(f"derived/{leaver.id}/diary/")
        )

    assert wait_until(nothing_left, timeout=30)
    assert channel.owner.call("GET", path).json()["items"] == []
    members = channel.owner.call("GET", f"/v1/channels/{channel.id}").json()["members"]
    assert [m["user_id"] for m in members] == [channel.owner.id]


def test_recording_day_is_a_date(db) -> None:  # noqa: ANN001
    user = signup("dates")
    assert new_diary(user, date(2024, 2, 29).isoformat())


def test_text_with_nul_or_control_characters_is_refused_everywhere(db) -> None:  # noqa: ANN001
    # PostgreSQL text cannot hold NUL: stored, it was a 500 there (and kept as-is on SQLite).
    user = signup("nul")
    body = {"recorded_on": "2026-01-02", "content_type": "video/mp4", "size_bytes": 10}
    diary_id = new_diary(user, upload=False)
    refused = [
        user.call("POST", "/v1/diaries", json_body=body | {"title": "a\x00b"}),
        user.call("PATCH", f"/v1/diaries/{diary_id}", json_body={"title": "a\x1bb"}),
        user.call("PATCH", f"/v1/diaries/{diary_id}", json_body={"tags": ["ok", "a\x00"]}),
        user.call("GET", "/v1/diaries", query="q=a%00b"),
        user.call("GET", "/v1/diaries", query="tag=a%00"),
        user.call("POST", f"/v1/diaries/{diary_id}/comments", json_body={"body": "hi\x00"}),
    ]
    assert [r.status for r in refused] == [422] * len(refused), [r.body for r in refused]
    assert {r.json()["type"] for r in refused} == {"https://cheese.dev/problems/validation-error"}
    assert user.call("GET", f"/v1/diaries/{diary_id}").json()["title"] is None
