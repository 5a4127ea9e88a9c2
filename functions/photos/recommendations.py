"""Poses and moods a user has not tried yet, from everyone's opted-in cuts (issue 14).

- Poses: the learned types of N people (``pose_types``) that none of the user's cuts of
  N people lies within (the type's "tried" radius), ranked by popularity (distinct
  users), then by the mean smile of their cuts; only types with a verified example,
  each with 1–3 de-identified example images (``pose_examples``).
- Moods: the mood labels of opted-in users' cuts that none of the user's cuts has
  (``MoodStat``, counted at the re-learn), ranked the same way, with verified examples
  whose cut has that mood.

Both need the user's ``pose_analysis`` consent: "not tried" is read from their cuts.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from sqlalchemy import select

from cheese_runtime import consent
from cheese_runtime.db.session import session_scope
from functions.photos import poses_dal, storage
from functions.photos.models import CutPose, MoodStat, PoseExample
from functions.photos.schemas import (
    MoodRecommendation,
    MoodRecommendations,
    PoseExampleOut,
    PoseRecommendation,
    PoseRecommendations,
)

MAX_EXAMPLES = 3


def _rank(popularity: int, smile: float | None) -> tuple[int, float]:
    return (-popularity, -(smile if smile is not None else -1.0))


def _examples(rows: list[PoseExample]) -> list[PoseExampleOut]:
    return [
        PoseExampleOut(
            id=row.id,
            image_url=storage.presigned_get(row.object_key),
        )
        for row in rows[:MAX_EXAMPLES]
        if row.object_key
    ]


def poses(user_id: str, people: int, limit: int) -> PoseRecommendations:
    consent.require_consent(user_id, consent.POSE_ANALYSIS)
    with session_scope() as session:
        types = poses_dal.types_for(session, people)
        mine = poses_dal.user_vectors(session, user_id, people)
        untried = []
        for pose_type in types:
            centroid = poses_dal.vector_from_bytes(pose_type.centroid)
            if len(mine) and float(np.linalg.norm(mine - centroid, axis=1).min()) <= (
                pose_type.radius
            ):
                continue
            untried.append(pose_type)
        examples = poses_dal.served_examples(session, [t.id for t in untried])
        ranked = sorted(
            (t for t in untried if examples.get(t.id)), key=lambda t: _rank(t.users, t.smile)
        )
        return PoseRecommendations(
            items=[
                PoseRecommendation(
                    pose_type_id=t.id,
                    people=t.people_count,
                    description=list(t.description),
                    popularity=t.users,
                    cuts=t.cuts,
                    smile=t.smile,
                    examples=_examples(examples[t.id]),
                )
                for t in ranked[:limit]
            ]
        )


def moods(user_id: str, limit: int) -> MoodRecommendations:
    consent.require_consent(user_id, consent.POSE_ANALYSIS)
    with session_scope() as session:
        tried = {
            label
            for labels in session.scalars(select(CutPose.mood).where(CutPose.user_id == user_id))
            for label in labels
        }
        stats = [s for s in session.scalars(select(MoodStat)) if s.mood not in tried]
        ranked = sorted(stats, key=lambda s: _rank(s.users, s.smile))[:limit]
        served = poses_dal.served_examples(session, poses_dal.all_type_ids(session))
        examples = [e for group in served.values() for e in group]
        cut_moods = dict(
            session.execute(
                select(CutPose.id, CutPose.mood).where(
                    CutPose.id.in_([e.cut_pose_id for e in examples])
                )
            ).all()
        )
        by_mood: dict[str, list[PoseExample]] = defaultdict(list)
        for example in examples:
            for label in cut_moods.get(example.cut_pose_id) or []:
                by_mood[label].append(example)
        return MoodRecommendations(
            items=[
                MoodRecommendation(
                    mood=stat.mood,
                    popularity=stat.users,
                    cuts=stat.cuts,
                    smile=stat.smile,
                    examples=_examples(by_mood[stat.mood]),
                )
                for stat in ranked
            ]
        )
