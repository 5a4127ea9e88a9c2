"""Cut poses, pose types and pose examples in the database."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sqlalchemy import Select, delete, select
from sqlalchemy.orm import Session

from cheese_ml.pose import configured_model
from cheese_runtime import consent
from cheese_runtime.db.consent import ConsentRecord
from functions.photos.models import CutPose, PoseExample, PoseType
from functions.photos.pose_analysis import CutAnalysis


def vector_to_bytes(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype=np.float32).tobytes()


def vector_from_bytes(data: bytes) -> np.ndarray:
    return np.frombuffer(data, dtype=np.float32)


def replace_cut_poses(
    session: Session, user_id: str, photo_id: str, cuts: Sequence[CutAnalysis]
) -> list[CutPose]:
    """The photo's cut poses are exactly ``cuts`` (a re-analysis replaces, never adds)."""
    session.execute(delete(CutPose).where(CutPose.photo_id == photo_id))
    rows = [
        CutPose(
            photo_id=photo_id,
            user_id=user_id,
            cut=c.cut,
            rect=list(c.rect),
            people_count=c.people_count,
            people=c.people,
            vector=vector_to_bytes(c.vector),
            description=c.description,
            mood=c.mood,
            colour=c.colour,
            smile=c.smile,
            model=configured_model(),
        )
        for c in cuts
        if c.people_count
    ]
    session.add_all(rows)
    session.flush()
    return rows


def for_photo(session: Session, photo_id: str) -> list[CutPose]:
    return list(
        session.scalars(select(CutPose).where(CutPose.photo_id == photo_id).order_by(CutPose.cut))
    )


def user_vectors(session: Session, user_id: str, people_count: int) -> np.ndarray:
    """The user's cut vectors with ``people_count`` people, (n, 34 * people_count)."""
    rows = session.scalars(
        select(CutPose.vector).where(
            CutPose.user_id == user_id, CutPose.people_count == people_count
        )
    ).all()
    if not rows:
        return np.zeros((0, 34 * people_count), dtype=np.float32)
    return np.stack([vector_from_bytes(v) for v in rows])


def granted(scope: consent.Scope) -> Select[str]:
    """The ids of users who allow ``scope`` now (a subquery)."""
    return select(ConsentRecord.user_id).where(
        ConsentRecord.scope == scope.name, ConsentRecord.granted.is_(True)
    )


def opted_in_cuts(
    session: Session, people_count: int
) -> tuple[list[str], list[str], np.ndarray, np.ndarray]:
    """Every cut of ``people_count`` people whose owner allows pose analysis now.

    (cut ids, user ids, vectors (n, d) float32, smiles (n,) with NaN where unknown).
    """
    rows = session.execute(
        select(CutPose.id, CutPose.user_id, CutPose.vector, CutPose.smile).where(
            CutPose.people_count == people_count,
            CutPose.user_id.in_(granted(consent.POSE_ANALYSIS)),
        )
    ).all()
    d = 34 * people_count
    if not rows:
        return [], [], np.zeros((0, d), np.float32), np.zeros(0)
    vectors = np.frombuffer(b"".join(r.vector for r in rows), dtype=np.float32).reshape(-1, d)
    smiles = np.array([np.nan if r.smile is None else r.smile for r in rows], dtype=np.float64)
    return [r.id for r in rows], [r.user_id for r in rows], vectors, smiles


def people_counts(session: Session) -> list[int]:
    return sorted(
        session.scalars(
            select(CutPose.people_count)
            .where(CutPose.user_id.in_(granted(consent.POSE_ANALYSIS)))
            .distinct()
        ).all()
    )


def types_for(session: Session, people_count: int) -> list[PoseType]:
    return list(
        session.scalars(
            select(PoseType).where(PoseType.people_count == people_count).order_by(PoseType.id)
        )
    )


def all_types(session: Session) -> list[PoseType]:
    return list(session.scalars(select(PoseType)))


def all_type_ids(session: Session) -> list[str]:
    return list(session.scalars(select(PoseType.id)))


def served_examples(session: Session, type_ids: Sequence[str]) -> dict[str, list[PoseExample]]:
    """Verified examples of the types, only of owners who allow pose_examples right now."""
    if not type_ids:
        return {}
    rows = session.scalars(
        select(PoseExample)
        .where(
            PoseExample.pose_type_id.in_(list(type_ids)),
            PoseExample.verified.is_(True),
            PoseExample.object_key.is_not(None),
            PoseExample.user_id.in_(granted(consent.POSE_EXAMPLES)),
        )
        .order_by(PoseExample.pose_type_id, PoseExample.id)
    )
    out: dict[str, list[PoseExample]] = {}
    for row in rows:
        out.setdefault(row.pose_type_id, []).append(row)
    return out


def example_keys_of_user(session: Session, user_id: str) -> list[str]:
    return [
        k
        for k in session.scalars(
            select(PoseExample.object_key).where(PoseExample.user_id == user_id)
        )
        if k
    ]


def forget_examples(session: Session, user_id: str) -> list[str]:
    """Delete the user's example rows; returns their object keys (for the caller to delete)."""
    keys = example_keys_of_user(session, user_id)
    session.execute(delete(PoseExample).where(PoseExample.user_id == user_id))
    return keys


def forget_poses(session: Session, user_id: str) -> list[str]:
    """Delete the user's cut poses and examples; returns the examples' object keys."""
    keys = forget_examples(session, user_id)
    session.execute(delete(CutPose).where(CutPose.user_id == user_id))
    return keys
