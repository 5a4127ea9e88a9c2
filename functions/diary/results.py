"""The one interface the analysis writes a diary's results through.

The analysis consumers (``functions/diary/analysis``, in the ML image) call
:func:`start_analysis` when a diary's video has arrived, then either
:func:`record_analysis` with everything they found or :func:`mark_failed`
with a reason. They never touch the tables otherwise. Each call is one
transaction and is idempotent: the analysis runs at least once per upload,
and recording the same results twice leaves the same row.

What the analysis writes replaces the previous analysis (re-analysis); the
user's title and tag edits are columns it never writes, so they survive.

With Amazon Transcribe the speech comes later than the rest: the analysis
records everything else with ``transcript_pending=True`` (the diary waits in
:data:`TRANSCRIBING`, which the API shows as ``processing``), and the job's
completion consumer finishes it with :func:`record_transcript`.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from cheese_runtime import consent
from cheese_runtime.db.session import session_scope
from cheese_runtime.db.types import utcnow
from functions.diary.models import Diary, DiaryTag

MAX_TAGS = 8
MAX_KEY_SENTENCES = 3
FAILURE_REASON_LENGTH = 300
# The stored status of a diary analysed but for its Transcribe job (shown as "processing").
TRANSCRIBING = "transcribing"


def public_status(status: str) -> str:
    """The status a client sees: pending → processing → ready | failed."""
    return "processing" if status == TRANSCRIBING else status


# Why an analysed diary has no emotion timeline (``Diary.emotion_skipped``).
EmotionSkipped = Literal["no-consent", "no-face", "consent-withdrawn"]
EMOTION_SKIPPED_REASONS: tuple[str, ...] = get_args(EmotionSkipped)


class TranscriptWord(BaseModel):
    model_config = ConfigDict(frozen=True)

    word: str
    start: float = Field(ge=0)
    end: float = Field(ge=0)


class Transcript(BaseModel):
    """What was said: ``language`` as BCP 47 (``ko-KR``, ``en-US``), the text and timed words."""

    model_config = ConfigDict(frozen=True)

    language: str
    text: str
    words: list[TranscriptWord] = []


class TimelinePoint(BaseModel):
    """The diarist's expression probabilities at ``t`` seconds (7 labels, summing to 1)."""

    model_config = ConfigDict(frozen=True)

    t: float = Field(ge=0)
    expression: dict[str, float]


class EmotionStretch(BaseModel):
    model_config = ConfigDict(frozen=True)

    start: float = Field(ge=0)
    end: float = Field(ge=0)
    label: str


class EmotionSummary(BaseModel):
    """The dominant emotion of the whole diary, each label's share, and the dominant per stretch."""

    model_config = ConfigDict(frozen=True)

    dominant: str
    shares: dict[str, float]
    stretches: list[EmotionStretch] = []


@dataclass(frozen=True)
class DiaryToAnalyse:
    """What the analysis needs to know about a diary it has claimed."""

    diary_id: str
    user_id: str
    recorded_on: date
    object_key: str
    content_type: str
    size_bytes: int
    status: str


def search_text(text: str) -> str:
    """The transcript as ``q`` searches it: NFKC, casefolded, single spaces."""
    return " ".join(unicodedata.normalize("NFKC", text).casefold().split())


def normalise_tag(tag: str) -> str:
    return " ".join(unicodedata.normalize("NFKC", tag).casefold().split())


def replace_tag_index(session: Session, diary: Diary) -> None:
    """Rewrite the diary's rows in ``diary_tags`` from its effective tags."""
    session.execute(delete(DiaryTag).where(DiaryTag.diary_id == diary.id))
    for tag in dict.fromkeys(normalise_tag(t) for t in diary.tags if normalise_tag(t)):
        session.add(DiaryTag(diary_id=diary.id, tag=tag[:64]))


def _locked(session: Session, diary_id: str) -> Diary | None:
    return session.scalars(select(Diary).where(Diary.id == diary_id).with_for_update()).first()


def _to_analyse(diary: Diary) -> DiaryToAnalyse:
    return DiaryToAnalyse(
        diary_id=diary.id,
        user_id=diary.user_id,
        recorded_on=diary.recorded_on,
        object_key=diary.object_key,
        content_type=diary.content_type,
        size_bytes=diary.size_bytes,
        status=diary.status,
    )


def find_for_analysis(diary_id: str) -> DiaryToAnalyse | None:
    """What an analysis needs to know of a diary, without claiming it; None when gone."""
    with session_scope() as session:
        diary = session.get(Diary, diary_id)
        return None if diary is None else _to_analyse(diary)


def start_analysis(diary_id: str) -> DiaryToAnalyse | None:
    """Claim a diary for analysis (pending/failed/ready → processing).

    None when the diary is gone (deleted, account erased): the message is done.
    A diary already ``ready`` is claimed again only by an explicit re-analysis;
    the consumer decides that (a duplicate upload event should not re-run it,
    see :func:`already_analysed`).
    """
    with session_scope() as session:
        diary = _locked(session, diary_id)
        if diary is None:
            return None
        diary.status, diary.failure_reason = "processing", None
        return _to_analyse(diary)


def already_analysed(diary_id: str) -> bool:
    """True if the diary is ``ready`` or waits for its transcript only (a duplicate event
    must not analyse it again)."""
    with session_scope() as session:
        status = session.scalar(select(Diary.status).where(Diary.id == diary_id))
    return status in ("ready", TRANSCRIBING)


def _store_transcript(
    session: Session,
    diary: Diary,
    transcript: Transcript | None,
    key_sentences: list[str],
    tags: list[str],
) -> None:
    diary.transcript = None if transcript is None else transcript.model_dump(mode="json")
    diary.search_text = None if transcript is None else search_text(transcript.text)
    diary.key_sentences = list(key_sentences[:MAX_KEY_SENTENCES])
    diary.auto_tags = list(dict.fromkeys(t.strip() for t in tags if t.strip()))[:MAX_TAGS]
    replace_tag_index(session, diary)


def record_analysis(
    diary_id: str,
    *,
    duration_s: float,
    transcript: Transcript | None,
    key_sentences: list[str],
    tags: list[str],
    timeline: list[TimelinePoint] | None = None,
    emotion_summary: EmotionSummary | None = None,
    thumbnail_key: str | None = None,
    emotion_skipped: EmotionSkipped | None = None,
    transcript_pending: bool = False,
) -> bool:
    """Store one analysis' results and mark the diary ``ready``; False if the diary is gone.

    ``transcript_pending``: the speech is with Amazon Transcribe; everything else
    is stored and the diary waits in :data:`TRANSCRIBING` for
    :func:`record_transcript`.

    ``timeline``/``emotion_summary`` are None when the user has not consented
    to emotion analysis (``expression_analysis``) or no face was found;
    ``emotion_skipped`` says which (``"no-face"`` when left unsaid).

    The consent is checked again here, under the lock ``Consents.decide``
    takes to withdraw it: a withdrawal that came while the video was being
    analysed has erased the diarist's timelines already, and this late one is
    dropped too (``consent-withdrawn``) rather than outliving the consent.
    """
    if timeline is None or emotion_summary is None:
        timeline, emotion_summary = None, None
        emotion_skipped = emotion_skipped or "no-face"
    else:
        emotion_skipped = None
    with session_scope() as session:
        user_id = session.scalar(select(Diary.user_id).where(Diary.id == diary_id))
        # The consent record is locked before the diary, in the order a withdrawal takes
        # them (the consent, then its hooks' rows), so the two cannot deadlock.
        if (
            user_id is not None
            and timeline is not None
            and not consent.Consents(session).lock(user_id, consent.EXPRESSION_ANALYSIS)
        ):
            timeline, emotion_summary, emotion_skipped = None, None, "consent-withdrawn"
        diary = _locked(session, diary_id)
        if diary is None:
            return False
        diary.duration_s = duration_s
        _store_transcript(session, diary, transcript, key_sentences, tags)
        diary.timeline = None if timeline is None else [p.model_dump(mode="json") for p in timeline]
        diary.emotion_summary = (
            None if emotion_summary is None else emotion_summary.model_dump(mode="json")
        )
        diary.dominant_emotion = None if emotion_summary is None else emotion_summary.dominant
        diary.emotion_skipped = emotion_skipped
        if thumbnail_key is not None:
            diary.thumbnail_key = thumbnail_key
        diary.status = TRANSCRIBING if transcript_pending else "ready"
        diary.failure_reason, diary.analysed_at = None, utcnow()
    return True


def record_transcript(
    diary_id: str, transcript: Transcript, key_sentences: list[str], tags: list[str]
) -> bool:
    """Finish a diary waiting for its Transcribe job; False unless it was waiting (a
    duplicate completion event, a diary deleted or failed since)."""
    with session_scope() as session:
        diary = _locked(session, diary_id)
        if diary is None or diary.status != TRANSCRIBING:
            return False
        _store_transcript(session, diary, transcript, key_sentences, tags)
        diary.status, diary.failure_reason, diary.analysed_at = "ready", None, utcnow()
    return True


def mark_failed(diary_id: str, reason: str) -> bool:
    """Show the diary ``failed`` with a reason (a slug such as ``video-too-long``); False if gone.

    A diary already ``ready`` keeps its results: a late failure of a duplicate
    delivery must not hide an analysis that succeeded.
    """
    with session_scope() as session:
        diary = _locked(session, diary_id)
        if diary is None:
            return False
        if diary.status != "ready":
            diary.status, diary.failure_reason = "failed", reason[:FAILURE_REASON_LENGTH]
    return True
