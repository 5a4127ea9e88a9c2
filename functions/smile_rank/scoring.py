"""Smile points of a photo, and the duplicate tests. Pure functions.

Points of a usable face with a smile score s (0–100): ``round(s / 10)`` (0–10,
half to even); the face of the person the owner marked "me" counts
``me_weight`` times (2 by default). Faces that are not usable (too small or
blurred) or have no score (no consent to expression analysis) earn nothing. A
photo earns the sum, at most ``photo_cap``; a user earns at most ``daily_cap``
per UTC day (a photo that crosses the cap earns what is left).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from cheese_runtime.events import AnalyzedFace

UNSIGNED_64 = 1 << 64


@dataclass(frozen=True)
class FaceScore:
    face_id: str
    smile: float | None
    is_me: bool
    usable: bool
    points: int

    def as_json(self) -> dict[str, Any]:
        return {
            "face_id": self.face_id,
            "smile": self.smile,
            "is_me": self.is_me,
            "usable": self.usable,
            "points": self.points,
        }


def face_points(face: AnalyzedFace, me_weight: int) -> int:
    if not face.usable or face.smile is None:
        return 0
    smile = min(100.0, max(0.0, float(face.smile)))
    return round(smile / 10) * (me_weight if face.is_me else 1)


def score_faces(faces: list[AnalyzedFace], me_weight: int) -> list[FaceScore]:
    return [
        FaceScore(f.face_id, f.smile, f.is_me, f.usable, face_points(f, me_weight)) for f in faces
    ]


def photo_points(scores: list[FaceScore], photo_cap: int) -> int:
    return min(photo_cap, sum(s.points for s in scores))


def face_signature(faces: list[AnalyzedFace]) -> str:
    """Who is in the photo: sorted person ids of the usable faces ("?" for unknown people)."""
    return ",".join(sorted(f.person_id or "?" for f in faces if f.usable))


def parse_dhash(value: str) -> int | None:
    """A 64-bit hex dHash as a signed 64-bit integer (BIGINT), or None when malformed."""
    try:
        unsigned = int(value, 16)
    except (TypeError, ValueError):
        return None
    if not 0 <= unsigned < UNSIGNED_64 or len(value) > 16:
        return None
    return unsigned - UNSIGNED_64 if unsigned >= 1 << 63 else unsigned


def hamming(a: int, b: int) -> int:
    return ((a ^ b) & (UNSIGNED_64 - 1)).bit_count()
