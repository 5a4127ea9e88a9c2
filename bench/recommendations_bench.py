"""Pose and mood recommendations at 100k opted-in cuts, on PostgreSQL; prints one JSON object.

    .venv/bin/python bench/recommendations_bench.py [--cuts 100000] [--users 1000]

A scratch database gets `--users` users (all allowing pose analysis, a third also
examples), 4 cuts per photo and `--cuts` cuts of 1–3 people (60/30/10 %), each
with a synthetic group vector (unit length, like `cheese_ml.poses.group_vector`:
60 base poses per number of people jittered, each user keeping to 4 of them),
1–3 mood labels and a smile. The pose types are re-learned from them by the
schedule's own `pose_types.learn` (timed: goal ≤ 60 s), each type given three
verified example rows (their images are not rendered here: that is the
de-identification's cost, benched in `deidentify_bench.py`). Then the routes' own
service functions, `recommendations.poses` and `recommendations.moods`, run for
random users: p50 and p99 (goal p99 ≤ 50 ms).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from bench.common import copy_users, libpq_dsn, log, scratch_postgres, summary_ms
from cheese_ml.poses import MOODS

PEOPLE_SHARES = ((1, 0.6), (2, 0.3), (3, 0.1))
BASE_POSES = 60
FAVOURITES = 4


def load(url: str, users: int, cuts: int) -> list[str]:
    """The users, consents, photos and cuts; returns the user ids."""
    import psycopg

    rng = random.Random(7)
    vectors = np.random.default_rng(7)
    now = datetime.now(UTC)
    dsn = libpq_dsn(url)
    ids = [str(uuid.UUID(int=rng.getrandbits(128), version=4)) for _ in range(users)]
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("SET TIME ZONE 'UTC'")
        copy_users(conn, ids, "poser", now)
        with conn.cursor().copy(
            "COPY consent_records (user_id, scope, granted, changed_at) FROM STDIN"
        ) as copy:
            for n, uid in enumerate(ids):
                copy.write_row((uid, "pose_analysis", True, now))
                copy.write_row((uid, "pose_examples", n % 3 == 0, now))
        photos = [(str(uuid.uuid4()), ids[i % users]) for i in range(cuts // 4 + 1)]
        with conn.cursor().copy(
            "COPY photos (id, user_id, status, source, content_type, created_at, taken_at, "
            "status_changed_at, redrives) FROM STDIN"
        ) as copy:
            for pid, uid in photos:
                copy.write_row((pid, uid, "analyzed", "upload", "image/jpeg", now, now, now, 0))
        with conn.cursor().copy(
            "COPY cut_poses (id, photo_id, user_id, cut, rect, people_count, people, vector, "
            "description, mood, colour, smile, model, created_at) FROM STDIN"
        ) as copy:
            counts, shares = zip(*PEOPLE_SHARES, strict=True)
            # Poses cluster: BASE_POSES per number of people, each user with a few favourites.
            bases = {people: vectors.normal(size=(BASE_POSES, 34 * people)) for people in counts}
            favourites = {uid: rng.sample(range(BASE_POSES), FAVOURITES) for uid in ids}
            for n in range(cuts):
                pid, uid = photos[n // 4]
                people = rng.choices(counts, shares)[0]
                base = bases[people][rng.choice(favourites[uid])]
                vector = (base + vectors.normal(0, 0.15, size=base.shape)).astype(np.float32)
                vector /= np.linalg.norm(vector)
                copy.write_row(
                    (
                        str(uuid.uuid4()),
                        pid,
                        uid,
                        n % 4,
                        "[0, 0, 600, 900]",
                        people,
                        "[]",
                        vector.tobytes(),
                        '["standing"]',
                        json.dumps(rng.sample(MOODS, rng.randint(1, 3))),
                        '{"brightness": 0.5, "warmth": 0.5, "saturation": 0.5}',
                        round(rng.uniform(0, 100), 2),
                        "movenet_lightning",
                        now,
                    )
                )
    return ids


def give_examples() -> int:
    """Three verified example rows per type, from cuts of users who allow examples."""
    from sqlalchemy import select

    from cheese_runtime import consent
    from cheese_runtime.db.session import session_scope
    from functions.photos import poses_dal
    from functions.photos.models import CutPose, PoseExample

    made = 0
    with session_scope() as session:
        for pose_type in poses_dal.all_types(session):
            cuts = session.execute(
                select(CutPose.id, CutPose.user_id)
                .where(
                    CutPose.people_count == pose_type.people_count,
                    CutPose.user_id.in_(poses_dal.granted(consent.POSE_EXAMPLES)),
                )
                .limit(3)
            ).all()
            for cut in cuts:
                session.add(
                    PoseExample(
                        pose_type_id=pose_type.id,
                        cut_pose_id=cut.id,
                        user_id=cut.user_id,
                        object_key=f"derived/{cut.user_id}/pose-examples/{uuid.uuid4()}.jpg",
                        verified=True,
                        identity_similarity=0.1,
                        oks=0.9,
                    )
                )
                made += 1
    return made


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cuts", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=1_000)
    parser.add_argument("--requests", type=int, default=300)
    args = parser.parse_args()
    from cheese_local.stack import LocalStack

    with scratch_postgres("cheese_bench_recommendations") as url:
        if url is None:
            print(json.dumps({"error": "PostgreSQL is required for these figures"}))
            return 1
        with tempfile.TemporaryDirectory() as data_dir:
            stack = LocalStack(data_dir=Path(data_dir), database_url=url)
            settings = stack.start()
            for poller in stack.pollers:
                poller.stop()
            try:
                log(f"[recommendations-bench] loading {args.cuts} cuts of {args.users} users")
                users = load(settings.sqlalchemy_url, args.users, args.cuts)
                from cheese_runtime.db.session import session_scope
                from functions.photos import pose_types, recommendations

                started = time.perf_counter()
                with session_scope() as session:
                    learned = pose_types.learn(session)
                relearn_s = time.perf_counter() - started
                examples = give_examples()
                rng = random.Random(11)
                timings: dict[str, list[float]] = {"poses": [], "moods": []}
                recommended = 0
                for _ in range(args.requests):
                    user = rng.choice(users)
                    people = rng.choice((1, 2, 3))
                    started = time.perf_counter()
                    recommended += len(recommendations.poses(user, people, 10).items)
                    timings["poses"].append(time.perf_counter() - started)
                    started = time.perf_counter()
                    recommendations.moods(user, 10)
                    timings["moods"].append(time.perf_counter() - started)
            finally:
                stack.stop()
    figures = {name: summary_ms(values) for name, values in timings.items()}
    print(
        json.dumps(
            {
                "cuts": args.cuts,
                "users": args.users,
                "types": sum(len(rows) for rows in learned.values()),
                "example_rows": examples,
                "relearn_s": round(relearn_s, 2),
                "poses_route_service": figures["poses"],
                "moods_route_service": figures["moods"],
                "mean_types_recommended": round(recommended / args.requests, 2),
                "goals": {
                    "relearn_le_60_s": relearn_s <= 60,
                    "poses_p99_le_50_ms": figures["poses"]["p99_ms"] <= 50,
                    "moods_p99_le_50_ms": figures["moods"]["p99_ms"] <= 50,
                },
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
