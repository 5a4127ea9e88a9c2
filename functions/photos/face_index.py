"""Face index backends, chosen by ``CHEESE_FACE_INDEX_BACKEND``.

``local`` (default, and a production option ~100x cheaper per photo than
Rekognition): our own embeddings live in the database and one user's faces
are searched in memory (``clustering.Gallery``).

``rekognition``: one collection per deployment; every face is indexed with
``ExternalImageId`` = the owner's user id, searches are filtered to the
owner's faces, and each person becomes a Rekognition user
(``CreateUser``/``AssociateFaces``) so that Rekognition's own user search
works for them too.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass

from cheese_runtime import aws
from cheese_runtime.observability import logger
from cheese_runtime.settings import get_settings

# Rekognition's IndexFaces indexes at most this many (largest) faces per image.
REKOGNITION_MAX_FACES = 100
# Rekognition's default FaceMatchThreshold.
REKOGNITION_MATCH_THRESHOLD = 80.0


@dataclass(frozen=True)
class PixelBox:
    x: int
    y: int
    w: int
    h: int


def iou(a: PixelBox, b: PixelBox) -> float:
    ix = max(0, min(a.x + a.w, b.x + b.w) - max(a.x, b.x))
    iy = max(0, min(a.y + a.h, b.y + b.h) - max(a.y, b.y))
    inter = ix * iy
    union = a.w * a.h + b.w * b.h - inter
    return inter / union if union else 0.0


class RekognitionFaceIndex:
    def __init__(self, collection_id: str | None = None) -> None:
        self.collection_id = collection_id or get_settings().rekognition_collection_id
        self._client = aws.client("rekognition")

    def index_photo(
        self,
        user_id: str,
        image: bytes,
        width: int,
        height: int,
        faces: Sequence[tuple[str, PixelBox]],
    ) -> dict[str, str]:
        """Index the photo's faces; returns our face id -> Rekognition FaceId (matched by box overlap)."""
        response = self._client.index_faces(
            CollectionId=self.collection_id,
            Image={"Bytes": image},
            ExternalImageId=user_id,
            MaxFaces=REKOGNITION_MAX_FACES,
            QualityFilter="AUTO",
            DetectionAttributes=[],
        )
        matched: dict[str, str] = {}
        for record in response.get("FaceRecords", []):
            bb = record["Face"]["BoundingBox"]
            theirs = PixelBox(
                round(bb["Left"] * width),
                round(bb["Top"] * height),
                round(bb["Width"] * width),
                round(bb["Height"] * height),
            )
            best = max(faces, key=lambda f: iou(f[1], theirs), default=None)
            if best is not None and iou(best[1], theirs) >= 0.3 and best[0] not in matched:
                matched[best[0]] = record["Face"]["FaceId"]
            else:
                # A face Rekognition sees and we do not: it must not linger in the collection.
                self.delete_faces([record["Face"]["FaceId"]])
        return matched

    def search(self, user_id: str, index_face_id: str, limit: int = 50) -> list[tuple[str, float]]:
        """The owner's other faces most similar to one, as (Rekognition FaceId, cosine-like distance)."""
        response = self._client.search_faces(
            CollectionId=self.collection_id,
            FaceId=index_face_id,
            MaxFaces=limit,
            FaceMatchThreshold=REKOGNITION_MATCH_THRESHOLD,
        )
        return [
            (m["Face"]["FaceId"], round(1 - m["Similarity"] / 100, 6))
            for m in response.get("FaceMatches", [])
            if m["Face"].get("ExternalImageId") == user_id
        ]

    def associate_person(self, user_id: str, person_id: str, index_face_ids: Sequence[str]) -> None:
        rekognition_user = f"{user_id}.{person_id}"
        with contextlib.suppress(self._client.exceptions.ConflictException):
            self._client.create_user(CollectionId=self.collection_id, UserId=rekognition_user)
        for start in range(0, len(index_face_ids), 100):
            self._client.associate_faces(
                CollectionId=self.collection_id,
                UserId=rekognition_user,
                FaceIds=list(index_face_ids[start : start + 100]),
            )

    def delete_faces(self, index_face_ids: Sequence[str]) -> None:
        for start in range(0, len(index_face_ids), 4096):
            self._client.delete_faces(
                CollectionId=self.collection_id, FaceIds=list(index_face_ids[start : start + 4096])
            )

    def delete_user_faces(self, user_id: str) -> int:
        """Every face the collection holds for the user (found by ExternalImageId), deleted."""
        face_ids: list[str] = []
        for page in self._client.get_paginator("list_faces").paginate(
            CollectionId=self.collection_id
        ):
            face_ids += [
                f["FaceId"] for f in page.get("Faces", []) if f.get("ExternalImageId") == user_id
            ]
        self.delete_faces(face_ids)
        logger.info("face index entries erased", extra={"count": len(face_ids)})
        return len(face_ids)


def external_index() -> RekognitionFaceIndex | None:
    """The external index when configured; None for the local backend (nothing outside the database)."""
    return RekognitionFaceIndex() if get_settings().face_index_backend == "rekognition" else None
