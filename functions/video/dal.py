"""Data access of the video function, and the photos function's people it reads."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from functions.photos.models import Face, Person
from functions.video.models import LiveSegment, LiveStream, Video, VideoAnonymisation, VideoChunk

if TYPE_CHECKING:
    import numpy as np

# A kept person's reference embeddings: their best faces in the user's photos.
REFERENCE_FACES = 20


class VideoRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, user_id: str, video_id: str, for_update: bool = False) -> Video | None:
        query = select(Video).where(Video.id == video_id, Video.user_id == user_id)
        if for_update:
            query = query.with_for_update()
        return self.session.scalars(query).first()

    def page(self, user_id: str, after: tuple[str, str] | None, limit: int) -> list[Video]:
        query = select(Video).where(Video.user_id == user_id)
        if after is not None:
            created, video_id = after
            query = query.where(
                (Video.created_at < created)
                | ((Video.created_at == created) & (Video.id < video_id))
            )
        return list(
            self.session.scalars(
                query.order_by(Video.created_at.desc(), Video.id.desc()).limit(limit)
            )
        )

    def anonymisations(self, video_ids: Sequence[str]) -> dict[str, list[VideoAnonymisation]]:
        found: dict[str, list[VideoAnonymisation]] = {video_id: [] for video_id in video_ids}
        if video_ids:
            rows = self.session.scalars(
                select(VideoAnonymisation)
                .where(VideoAnonymisation.video_id.in_(list(video_ids)))
                .order_by(VideoAnonymisation.created_at, VideoAnonymisation.id)
            )
            for row in rows:
                found[row.video_id].append(row)
        return found

    def anonymisation(
        self, anonymisation_id: str, for_update: bool = False
    ) -> VideoAnonymisation | None:
        query = select(VideoAnonymisation).where(VideoAnonymisation.id == anonymisation_id)
        if for_update:
            query = query.with_for_update()
        return self.session.scalars(query).first()

    def chunks(self, anonymisation_id: str, for_update: bool = False) -> list[VideoChunk]:
        query = (
            select(VideoChunk)
            .where(VideoChunk.anonymisation_id == anonymisation_id)
            .order_by(VideoChunk.number)
        )
        if for_update:
            query = query.with_for_update()
        return list(self.session.scalars(query))

    def delete_user(self, user_id: str) -> None:
        self.session.execute(delete(VideoChunk).where(VideoChunk.user_id == user_id))
        self.session.execute(
            delete(VideoAnonymisation).where(VideoAnonymisation.user_id == user_id)
        )
        self.session.execute(delete(Video).where(Video.user_id == user_id))
        self.session.execute(delete(LiveSegment).where(LiveSegment.user_id == user_id))
        self.session.execute(delete(LiveStream).where(LiveStream.user_id == user_id))


class LiveRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def stream(self, stream_id: str, for_update: bool = False) -> LiveStream | None:
        query = select(LiveStream).where(LiveStream.id == stream_id)
        if for_update:
            query = query.with_for_update()
        return self.session.scalars(query).first()

    def segment(
        self, stream_id: str, sequence: int, for_update: bool = False
    ) -> LiveSegment | None:
        query = select(LiveSegment).where(
            LiveSegment.stream_id == stream_id, LiveSegment.sequence == sequence
        )
        if for_update:
            query = query.with_for_update()
        return self.session.scalars(query).first()

    def segments(self, stream_id: str) -> list[LiveSegment]:
        return list(
            self.session.scalars(
                select(LiveSegment)
                .where(LiveSegment.stream_id == stream_id)
                .order_by(LiveSegment.sequence)
            )
        )


class PeopleDirectory:
    """The photos function's people of one user, read-only."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def resolve(self, user_id: str, refs: Sequence[str]) -> dict[str, str | None]:
        """ref ("me" or a person id) -> the user's person id, or None when there is none."""
        people = self.session.execute(
            select(Person.id, Person.is_me).where(Person.user_id == user_id)
        ).all()
        ids = {person_id for person_id, _ in people}
        me = next((person_id for person_id, is_me in people if is_me), None)
        return {ref: (me if ref == "me" else (ref if ref in ids else None)) for ref in refs}

    def embeddings(self, user_id: str, person_id: str) -> np.ndarray:
        """(n, 192) float32: the person's usable faces with an embedding, best detections first."""
        import numpy as np  # the worker's (ML image) only: API handlers never load numpy

        rows = self.session.scalars(
            select(Face.embedding)
            .where(
                Face.user_id == user_id,
                Face.person_id == person_id,
                Face.usable.is_(True),
                Face.embedding.is_not(None),
            )
            .order_by(Face.detection_score.desc())
            .limit(REFERENCE_FACES)
        ).all()
        if not rows:
            return np.zeros((0, 192), dtype=np.float32)
        # The query keeps only faces whose embedding is not NULL.
        return np.stack([np.frombuffer(raw, dtype=np.float32) for raw in rows if raw is not None])
