"""Scheduled job (photos-pose-types): re-learn the pose types from every opted-in cut.

For each number of people, k-means over the group vectors of the cuts whose owner
allows pose analysis now (``cheese_ml.poses.learn_pose_types``); each type gets its
popularity (cuts, distinct users), the mean smile of its cuts, and the description of
its most central cut. All types are replaced in one transaction, so readers see the
old set or the new one. Then each type's examples are chosen, de-identified and
verified (``pose_examples``); the previous examples' images are deleted.
"""

from __future__ import annotations

import time
from collections import defaultdict

import numpy as np
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from cheese_ml.poses import learn_pose_types
from cheese_runtime import consent
from cheese_runtime.db.session import session_scope
from cheese_runtime.handlers import NoPayload, scheduled_handler
from cheese_runtime.observability import logger
from functions.photos import pose_examples, poses_dal, storage
from functions.photos.models import CutPose, MoodStat, PoseExample, PoseType

# A type's "tried" radius is at least this (group-vector distance): with few members the
# quantile radius can be ~0, and then only an identical cut would count as tried. Two
# MoveNet readings of one photo and its mirror differ by ~0.05 (tests/photos/test_poses_ml).
MIN_RADIUS = 0.12


def learn(session: Session) -> dict[int, list[PoseType]]:
    """Replace every pose type with ones learned now; returns them by number of people."""
    learned: dict[int, list[PoseType]] = {}
    counts = poses_dal.people_counts(session)
    session.execute(delete(PoseExample))
    session.execute(delete(PoseType))
    for people in counts:
        ids, users, vectors, smiles = poses_dal.opted_in_cuts(session, people)
        if not ids:
            continue
        types = learn_pose_types(vectors.astype(np.float64))
        owners = np.array(users)
        rows: list[PoseType] = []
        central_ids: list[str] = []
        for j in range(len(types.centroids)):
            members = np.nonzero(types.labels == j)[0]
            if len(members) == 0:
                continue
            own = np.linalg.norm(vectors[members] - types.centroids[j], axis=1)
            central_ids.append(ids[int(members[int(np.argmin(own))])])
            member_smiles = smiles[members]
            known = member_smiles[~np.isnan(member_smiles)]
            rows.append(
                PoseType(
                    people_count=people,
                    centroid=poses_dal.vector_to_bytes(types.centroids[j]),
                    radius=max(MIN_RADIUS, float(types.radius[j])),
                    cuts=len(members),
                    users=len(set(owners[members].tolist())),
                    smile=round(float(known.mean()), 2) if len(known) else None,
                    description=[],
                )
            )
        descriptions = dict(
            session.execute(
                select(CutPose.id, CutPose.description).where(CutPose.id.in_(central_ids))
            ).all()
        )
        for row, central in zip(rows, central_ids, strict=True):
            row.description = list(descriptions.get(central) or [])
        session.add_all(rows)
        learned[people] = rows
    session.flush()
    return learned


def learn_moods(session: Session) -> int:
    """Replace the mood statistics with those of every opted-in cut now; returns the moods."""
    users: dict[str, set[str]] = defaultdict(set)
    cuts: dict[str, int] = defaultdict(int)
    smiles: dict[str, list[float]] = defaultdict(list)
    for user_id, labels, smile in session.execute(
        select(CutPose.user_id, CutPose.mood, CutPose.smile).where(
            CutPose.user_id.in_(poses_dal.granted(consent.POSE_ANALYSIS))
        )
    ):
        for label in labels:
            users[label].add(user_id)
            cuts[label] += 1
            if smile is not None:
                smiles[label].append(smile)
    session.execute(delete(MoodStat))
    session.add_all(
        MoodStat(
            mood=label,
            users=len(users[label]),
            cuts=cuts[label],
            smile=round(float(np.mean(smiles[label])), 2) if smiles[label] else None,
        )
        for label in users
    )
    session.flush()
    return len(users)


def run(_: NoPayload) -> dict[str, float]:
    started = time.perf_counter()
    with session_scope() as session:
        stale = [key for key in session.scalars(select(PoseExample.object_key)) if key]
        learned = learn(session)
        moods = learn_moods(session)
    learning = time.perf_counter() - started
    # The old examples went with their types; their images go once the new set is in.
    storage.delete_keys(stale)
    with session_scope() as session:
        examples = pose_examples.choose_examples(session, poses_dal.all_types(session))
    summary = {
        "people_counts": float(len(learned)),
        "types": float(sum(len(rows) for rows in learned.values())),
        "moods": float(moods),
        "examples_verified": float(examples["verified"]),
        "examples_failed": float(examples["failed"]),
        "learning_seconds": round(learning, 3),
        "seconds": round(time.perf_counter() - started, 3),
    }
    logger.info("pose types re-learned", extra=summary)
    return summary


handler = scheduled_handler(run, NoPayload)
