"""How much a person matters to the user, for the order of the people list.

A person matters more the more faces and the larger they are, and the more photos they share
with the user ("me"). A person seen only small and once or twice, never named, is a face in
the background (a passer-by behind the group): left out of the default list.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Shorter side of the face box, in pixels of the original photo. Faces are clustered from 40 px
# (cheese_ml.analysis.MIN_FACE_SIDE); a face under this size is a face in the background.
BACKGROUND_FACE_PX = 80
# A person seen this many times is someone the user keeps meeting, whatever the face size.
BACKGROUND_MAX_FACES = 2
# A face this large (shorter side, px) counts fully for size.
FULL_FACE_PX = 224


@dataclass
class PersonFaces:
    """What the list needs to know about one person's faces."""

    face_sizes: list[int] = field(default_factory=list)
    photo_ids: set[str] = field(default_factory=set)


def importance(faces: PersonFaces, me_photo_ids: set[str]) -> float:
    """Faces, plus up to one more per face for its size, plus two per photo with "me"."""
    size_credit = sum(min(1.0, size / FULL_FACE_PX) for size in faces.face_sizes)
    with_me = len(faces.photo_ids & me_photo_ids)
    return round(len(faces.face_sizes) + size_credit + 2.0 * with_me, 3)


def is_background(faces: PersonFaces, *, named: bool, is_me: bool) -> bool:
    if named or is_me or len(faces.face_sizes) > BACKGROUND_MAX_FACES:
        return False
    return max(faces.face_sizes, default=0) < BACKGROUND_FACE_PX
