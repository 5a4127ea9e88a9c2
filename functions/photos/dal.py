"""Data access for photos, faces and people (consent is cheese_runtime.consent)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, and_, delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from functions.photos.models import Face, Person, Photo

# numpy is imported where embeddings are converted: listing photos (a cold
# start's usual first request) needs none.
if TYPE_CHECKING:
    import numpy as np


def embedding_to_bytes(embedding: np.ndarray) -> bytes:
    import numpy as np

    return np.asarray(embedding, dtype="<f4").tobytes()


def embedding_from_bytes(data: bytes) -> np.ndarray:
    import numpy as np

    return np.frombuffer(data, dtype="<f4")


class DuplicatePhoto(Exception):
    def __init__(self, photo_id: str) -> None:
        super().__init__(photo_id)
        self.photo_id = photo_id


class PhotoRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def add(self, photo: Photo) -> Photo:
        """Insert, or raise DuplicatePhoto when the user already has this content."""
        try:
            with self._session.begin_nested():
                self._session.add(photo)
                self._session.flush()
        except IntegrityError:
            existing = self.by_sha256(photo.user_id, photo.sha256) if photo.sha256 else None
            if existing is None:
                raise
            raise DuplicatePhoto(existing.id) from None
        return photo

    def by_sha256(self, user_id: str, sha256: str) -> Photo | None:
        return self._session.scalar(
            select(Photo).where(Photo.user_id == user_id, Photo.sha256 == sha256)
        )

    def owned(self, user_id: str, photo_id: str) -> Photo | None:
        """The photo if it belongs to the user; others' photos are indistinguishable from missing ones."""
        return self._session.scalar(
            select(Photo).where(Photo.id == photo_id, Photo.user_id == user_id)
        )

    def get_for_update(self, photo_id: str) -> Photo | None:
        return self._session.scalar(select(Photo).where(Photo.id == photo_id).with_for_update())

    def page(
        self,
        user_id: str,
        *,
        limit: int,
        after: tuple[datetime, str] | None,
        person_ids: Sequence[str],
        source: str | None,
        taken_from: datetime | None,
        taken_to: datetime | None,
    ) -> list[Photo]:
        # A duplicate is shown as the photo it duplicates.
        query: Select[Photo] = select(Photo).where(
            Photo.user_id == user_id, Photo.status != "duplicate"
        )
        if source:
            query = query.where(Photo.source == source)
        if taken_from:
            query = query.where(Photo.taken_at >= taken_from)
        if taken_to:
            query = query.where(Photo.taken_at < taken_to)
        if person_ids:
            # Photos in which every one of the given people appears.
            with_all = (
                select(Face.photo_id)
                .where(Face.user_id == user_id, Face.person_id.in_(person_ids))
                .group_by(Face.photo_id)
                .having(func.count(func.distinct(Face.person_id)) == len(person_ids))
            )
            query = query.where(Photo.id.in_(with_all))
        if after:
            taken_at, photo_id = after
            query = query.where(
                or_(
                    Photo.taken_at < taken_at, and_(Photo.taken_at == taken_at, Photo.id < photo_id)
                )
            )
        return list(
            self._session.scalars(
                query.order_by(Photo.taken_at.desc(), Photo.id.desc()).limit(limit)
            )
        )

    def delete(self, photo_id: str) -> None:
        self._session.execute(delete(Photo).where(Photo.id == photo_id))

    def delete_duplicates_of(self, photo_id: str) -> list[str]:
        """Delete the photos found to duplicate this one; returns their ids."""
        ids = list(self._session.scalars(select(Photo.id).where(Photo.duplicate_of == photo_id)))
        if ids:
            self._session.execute(delete(Photo).where(Photo.id.in_(ids)))
        return ids


class FaceRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def for_photo(self, photo_id: str) -> list[Face]:
        return list(
            self._session.scalars(
                select(Face).where(Face.photo_id == photo_id).order_by(Face.box_x)
            )
        )

    def for_photos(self, photo_ids: Sequence[str]) -> dict[str, list[Face]]:
        faces: dict[str, list[Face]] = {pid: [] for pid in photo_ids}
        if photo_ids:
            for face in self._session.scalars(
                select(Face).where(Face.photo_id.in_(photo_ids)).order_by(Face.box_x)
            ):
                faces[face.photo_id].append(face)
        return faces

    def owned(self, user_id: str, face_id: str) -> Face | None:
        return self._session.scalar(select(Face).where(Face.id == face_id, Face.user_id == user_id))

    def delete_for_photo(self, photo_id: str) -> None:
        self._session.execute(delete(Face).where(Face.photo_id == photo_id))

    def clusterable(self, user_id: str) -> list[Face]:
        """The user's faces that take part in grouping: usable and with an embedding."""
        return list(
            self._session.scalars(
                select(Face).where(
                    Face.user_id == user_id, Face.usable.is_(True), Face.embedding.is_not(None)
                )
            )
        )

    def grouped_summary(self, user_id: str) -> list[tuple[str, str, dict[str, Any]]]:
        """(person id, photo id, quality) of every face of the user that is in a person."""
        rows = self._session.execute(
            select(Face.person_id, Face.photo_id, Face.quality).where(
                Face.user_id == user_id, Face.person_id.is_not(None)
            )
        )
        # person_id IS NOT NULL above; the test narrows the nullable column's type.
        return [
            (person_id, photo_id, quality)
            for person_id, photo_id, quality in rows
            if person_id is not None
        ]

    def for_person(self, person_id: str) -> list[Face]:
        return list(self._session.scalars(select(Face).where(Face.person_id == person_id)))

    def forget_embeddings(self, user_id: str) -> None:
        self._session.execute(
            update(Face)
            .where(Face.user_id == user_id)
            .values(embedding=None, person_id=None, assigned_manually=False, index_face_id=None)
        )

    def forget_expressions(self, user_id: str) -> None:
        self._session.execute(
            update(Face).where(Face.user_id == user_id).values(expression=None, smile=None)
        )

    def index_face_ids(self, user_id: str, photo_id: str | None = None) -> list[str]:
        query = select(Face.index_face_id).where(
            Face.user_id == user_id, Face.index_face_id.is_not(None)
        )
        if photo_id:
            query = query.where(Face.photo_id == photo_id)
        return list(self._session.scalars(query))

    def by_index_ids(self, user_id: str, index_face_ids: Sequence[str]) -> dict[str, Face]:
        if not index_face_ids:
            return {}
        faces = self._session.scalars(
            select(Face).where(Face.user_id == user_id, Face.index_face_id.in_(index_face_ids))
        )
        return {f.index_face_id: f for f in faces if f.index_face_id is not None}

    def users_with_waiting_faces(self) -> list[str]:
        return list(
            self._session.scalars(
                select(Face.user_id)
                .where(Face.usable.is_(True), Face.embedding.is_not(None), Face.person_id.is_(None))
                .distinct()
            )
        )


class PersonRepository:
    def __init__(self, session: Session) -> None:
        self._session = session

    def owned(self, user_id: str, person_id: str) -> Person | None:
        return self._session.scalar(
            select(Person).where(Person.id == person_id, Person.user_id == user_id)
        )

    def owned_many(self, user_id: str, person_ids: Sequence[str]) -> list[Person]:
        return list(
            self._session.scalars(
                select(Person).where(Person.user_id == user_id, Person.id.in_(person_ids))
            )
        )

    def for_user(self, user_id: str) -> list[Person]:
        return list(self._session.scalars(select(Person).where(Person.user_id == user_id)))

    def counts(self, user_id: str) -> dict[str, tuple[int, int]]:
        """person id -> (photo count, face count)."""
        rows = self._session.execute(
            select(Face.person_id, func.count(func.distinct(Face.photo_id)), func.count(Face.id))
            .where(Face.user_id == user_id, Face.person_id.is_not(None))
            .group_by(Face.person_id)
        )
        return {
            person_id: (photos, faces) for person_id, photos, faces in rows if person_id is not None
        }

    def add(self, user_id: str, person_id: str) -> Person:
        person = Person(id=person_id, user_id=user_id, hidden=False, is_me=False)
        self._session.add(person)
        self._session.flush()
        return person

    def delete_empty(self, user_id: str) -> None:
        """People left without faces disappear (a named one too: nothing would show it)."""
        with_faces = select(Face.person_id).where(
            Face.user_id == user_id, Face.person_id.is_not(None)
        )
        self._session.execute(
            delete(Person).where(Person.user_id == user_id, Person.id.not_in(with_faces))
        )

    def delete_for_user(self, user_id: str) -> None:
        self._session.execute(delete(Person).where(Person.user_id == user_id))

    def clear_me(self, user_id: str) -> None:
        self._session.execute(update(Person).where(Person.user_id == user_id).values(is_me=False))
