"""Poses and moods a user has not tried yet, from everyone's opted-in cuts (issue 14).

- Poses: the learned types of N people (``pose_types``) that none of the user's cuts of
  N people lies within (the type's "tried" radius), ranked by popularity (distinct
  users), then by the mean smile of their cuts; only types with a verified example,
  each with 1–3 de-identified example images (``pose_examples``).
- Moods: the mood labels of opted-in users' cuts that none of the user's cuts has,
  ranked the same way, with verified examples whose cut has that mood.

Both need the user's ``pose_analysis`` consent: "not tried" is read from their cuts.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
from sqlalchemy import select

from cheese_runtime import consent
from cheese_runtime.db.session import session_scope
from functions.photos import poses_dal, storage
from functions.photos.models import CutPose, PoseExample
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
        users: dict[str, set[str]] = defaultdict(set)
        smiles: dict[str, list[float]] = defaultdict(list)
        cuts: dict[str, int] = defaultdict(int)
        rows = session.execute(
            select(CutPose.id, CutPose.user_id, CutPose.mood, CutPose.smile).where(
                CutPose.user_id.in_(poses_dal.granted(consent.POSE_ANALYSIS))
            )
        ).all()
        cut_moods = {}
        for row in rows:
            cut_moods[row.id] = row.mood
            for label in row.mood:
                users[label].add(row.user_id)
                cuts[label] += 1
                if row.smile is not None:
                    smiles[label].append(row.smile)
        by_mood: dict[str, list[PoseExample]] = defaultdict(list)
        served = poses_dal.served_examples(session, poses_dal.all_type_ids(session))
        for example in (e for group in served.values() for e in group):
            for label in cut_moods.get(example.cut_pose_id, []):
                by_mood[label].append(example)
        labels = [label for label in users if label not in tried]
        average = {m: round(float(np.mean(s)), 2) if s else None for m, s in smiles.items()}
        ranked = sorted(labels, key=lambda m: _rank(len(users[m]), average.get(m)))
        return MoodRecommendations(
            items=[
                MoodRecommendation(
                    mood=label,
                    popularity=len(users[label]),
                    cuts=cuts[label],
                    smile=average.get(label),
                    examples=_examples(by_mood[label]),
                )
                for label in ranked[:limit]
            ]
        )
