"""Diaries: recording (presigned upload), reading, editing, deleting, listing, the calendar."""

from __future__ import annotations

from collections import Counter
from datetime import date

from sqlalchemy.orm import Session

from cheese_runtime.db.session import session_scope
from cheese_runtime.errors import InvalidCursor
from cheese_runtime.pagination import decode_cursor, encode_cursor
from functions.diary import storage
from functions.diary.dal import Diaries
from functions.diary.errors import DiaryNotFound, VideoTooLarge
from functions.diary.models import Diary
from functions.diary.results import (
    TRANSCRIBING,
    normalise_tag,
    public_status,
    replace_tag_index,
    search_text,
)
from functions.diary.schemas import (
    CalendarDay,
    CalendarOut,
    DiaryCreated,
    DiaryIn,
    DiaryOut,
    DiaryPage,
    DiaryPatch,
    DiarySummary,
    DiaryUpload,
)

MAX_QUERY_WORDS = 8


def create_diary(user_id: str, request: DiaryIn) -> DiaryCreated:
    if request.size_bytes > storage.MAX_VIDEO_BYTES:
        raise VideoTooLarge()
    with session_scope() as session:
        diary = Diary(
            user_id=user_id,
            recorded_on=request.recorded_on,
            title=request.title,
            content_type=request.content_type,
            size_bytes=request.size_bytes,
            object_key="",
        )
        session.add(diary)
        session.flush()
        diary.object_key = storage.video_key(user_id, diary.id)
        spec = storage.upload_spec(diary.object_key, request.content_type, request.size_bytes)
    post = storage.presigned_upload(spec)
    return DiaryCreated(
        diary_id=diary.id,
        status="pending",
        upload=DiaryUpload(
            url=post.url,
            fields=post.fields,
            expires_in=post.expires_in,
            max_bytes=storage.MAX_VIDEO_BYTES,
        ),
    )


def summary(diary: Diary, viewer_id: str) -> DiarySummary:
    return DiarySummary(
        diary_id=diary.id,
        recorded_on=diary.recorded_on,
        title=diary.title,
        status=public_status(diary.status),  # type: ignore[arg-type]
        failure_reason=diary.failure_reason,
        duration_s=diary.duration_s,
        thumbnail_url=storage.presigned_get(diary.thumbnail_key) if diary.thumbnail_key else None,
        tags=diary.tags,
        dominant_emotion=diary.dominant_emotion,
        mine=diary.user_id == viewer_id,
        created_at=diary.created_at,
    )


def timeline_status(diary: Diary) -> tuple[str, str | None]:
    """(``timeline_status``, ``timeline_skipped_reason``) of a diary: why its timeline is null."""
    if diary.timeline is not None:
        return "ready", None
    if diary.emotion_skipped is not None:
        return "skipped", diary.emotion_skipped
    if diary.status == "failed":
        return "failed", None
    # Analysed before reasons were recorded (migration 0015): skipped, reason unknown.
    return ("skipped", None) if diary.analysed_at is not None else ("pending", None)


def detail(diary: Diary, viewer_id: str) -> DiaryOut:
    """The whole diary; a channel member sees the transcript only if its author shares it."""
    mine = diary.user_id == viewer_id
    uploaded = diary.status in ("processing", TRANSCRIBING, "ready")
    status, skipped = timeline_status(diary)
    return DiaryOut(
        **summary(diary, viewer_id).model_dump(),
        video_url=storage.presigned_get(diary.object_key) if uploaded else None,
        timeline=diary.timeline,  # type: ignore[arg-type]
        timeline_status=status,  # type: ignore[arg-type]
        timeline_skipped_reason=skipped,  # type: ignore[arg-type]
        transcript=diary.transcript if (mine or diary.share_transcript) else None,  # type: ignore[arg-type]
        key_sentences=diary.key_sentences or [],
        emotion_summary=diary.emotion_summary,  # type: ignore[arg-type]
        share_transcript=diary.share_transcript,
    )


def get_diary(user_id: str, diary_id: str) -> DiaryOut:
    with session_scope() as session:
        diary = Diaries(session).readable(user_id, diary_id)
        if diary is None:
            raise DiaryNotFound()
        return detail(diary, user_id)


def update_diary(user_id: str, diary_id: str, patch: DiaryPatch) -> DiaryOut:
    """The user's edits: kept in their own columns, which re-analysis never writes."""
    with session_scope() as session:
        diary = Diaries(session).own(user_id, diary_id, lock=True)
        if diary is None:
            raise DiaryNotFound()
        changes = patch.model_dump(exclude_unset=True)
        if "title" in changes:
            diary.title = patch.title
        if "tags" in changes:
            # null gives the tags back to the analysis.
            diary.user_tags = patch.tags
            replace_tag_index(session, diary)
        if patch.share_transcript is not None:
            diary.share_transcript = patch.share_transcript
        session.flush()
        return detail(diary, user_id)


def delete_diary(user_id: str, diary_id: str) -> None:
    """The row (its tags, shares and comments cascade), then its video and derived objects."""
    with session_scope() as session:
        diary = Diaries(session).own(user_id, diary_id, lock=True)
        if diary is None:
            raise DiaryNotFound()
        session.delete(diary)
    storage.delete_diary_objects(user_id, diary_id)


def _day_cursor(cursor: str | None) -> tuple[date, str] | None:
    position = decode_cursor(cursor)
    if position is None:
        return None
    try:
        return date.fromisoformat(str(position["d"])), str(position["id"])
    except (KeyError, ValueError) as exc:
        raise InvalidCursor() from exc


def _next_day_cursor(diaries: list[Diary], limit: int) -> str | None:
    if len(diaries) <= limit:
        return None
    last = diaries[limit - 1]
    return encode_cursor({"d": last.recorded_on.isoformat(), "id": last.id})


def query_words(q: str | None) -> list[str]:
    """The words of ``q`` as the transcripts are searched (every word must occur)."""
    if q is None:
        return []
    return search_text(q).split()[:MAX_QUERY_WORDS]


def list_diaries(
    user_id: str,
    *,
    recorded_from: date | None,
    recorded_to: date | None,
    tag: str | None,
    q: str | None,
    cursor: str | None,
    limit: int,
) -> DiaryPage:
    after = _day_cursor(cursor)
    with session_scope() as session:
        diaries = Diaries(session).page(
            user_id,
            after=after,
            limit=limit + 1,
            recorded_from=recorded_from,
            recorded_to=recorded_to,
            tag=normalise_tag(tag) if tag else None,
            words=query_words(q),
        )
        return DiaryPage(
            items=[summary(d, user_id) for d in diaries[:limit]],
            next_cursor=_next_day_cursor(diaries, limit),
        )


def list_channel_diaries(
    session: Session, user_id: str, channel_id: str, cursor: str | None, limit: int
) -> DiaryPage:
    """The diaries shared in a channel the caller is a member of (checked by the caller)."""
    diaries = Diaries(session).in_channel(channel_id, _day_cursor(cursor), limit + 1)
    return DiaryPage(
        items=[summary(d, user_id) for d in diaries[:limit]],
        next_cursor=_next_day_cursor(diaries, limit),
    )


def calendar(user_id: str, year: int) -> CalendarOut:
    """Days with diaries: how many, and the emotion that dominated most of them that day."""
    with session_scope() as session:
        rows = Diaries(session).in_year(user_id, date(year, 1, 1), date(year, 12, 31))
    counts: Counter[date] = Counter(day for day, _ in rows)
    emotions: dict[date, Counter[str]] = {}
    for day, emotion in rows:
        if emotion is not None:
            emotions.setdefault(day, Counter())[emotion] += 1
    return CalendarOut(
        year=year,
        days=[
            CalendarDay(
                date=day,
                count=count,
                # Ties go to the emotion seen first that day (most_common keeps insertion order).
                dominant_emotion=emotions[day].most_common(1)[0][0] if day in emotions else None,
            )
            for day, count in sorted(counts.items())
        ],
    )
