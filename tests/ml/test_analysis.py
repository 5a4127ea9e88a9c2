"""analyze() on real photos: detection recall, landmarks, identity, smiles, quality, consent."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from cheese_ml.analysis import EXPRESSION_LABELS, Analyzer, Face, head_pose
from tests.ml.conftest import GROUP_PHOTO_FACES, face_at
from tests.ml.labels import FACES, SAME_PERSON


def roc_auc(positives: list[float], negatives: list[float]) -> float:
    """Probability that a random positive scores above a random negative (ties count half)."""
    pos, neg = np.asarray(positives)[:, None], np.asarray(negatives)[None, :]
    return float(((pos > neg) + 0.5 * (pos == neg)).mean())


def test_every_face_of_the_group_photos_is_found(analysed: dict[str, list[Face]]) -> None:
    found = 0
    for photo, expected in GROUP_PHOTO_FACES.items():
        faces = analysed[photo]
        assert len(faces) == expected, photo
        # One-to-one: each labelled face lies in exactly one box, each box holds one labelled face.
        matched = {id(face_at(faces, x, y)) for x, y, _ in FACES[photo]}
        assert len(matched) == expected, photo
        found += len(matched)
    assert found == 22


def test_other_labelled_photos_have_their_faces(analysed: dict[str, list[Face]]) -> None:
    for photo, labelled in FACES.items():
        assert len(analysed[photo]) == len(labelled), photo
        for x, y, _ in labelled:
            face_at(analysed[photo], x, y)


def test_no_face_in_a_landscape(analysed: dict[str, list[Face]]) -> None:
    assert analysed["free-mountain-vector-01.jpg"] == []


def test_no_face_in_textures_and_flat_images(analyzer: Analyzer) -> None:
    rng = np.random.default_rng(7)
    noise = rng.integers(0, 256, (900, 1200, 3), dtype=np.uint8)
    gradient = np.broadcast_to(
        np.linspace(0, 255, 1200, dtype=np.uint8)[None, :, None], (900, 1200, 3)
    )
    flat = np.full((480, 640, 3), 128, dtype=np.uint8)
    for image in (noise, np.ascontiguousarray(gradient), flat):
        assert analyzer.analyze(image) == []


def test_landmarks_lie_inside_their_boxes(analysed: dict[str, list[Face]]) -> None:
    count = 0
    for faces in analysed.values():
        for face in faces:
            box = face.box
            for x, y in face.landmarks:
                assert box.x <= x <= box.x + box.w and box.y <= y <= box.y + box.h
            left_eye, right_eye, _nose, left_mouth, right_mouth = face.landmarks
            assert left_eye[1] < left_mouth[1] and right_eye[1] < right_mouth[1]  # eyes above mouth
            count += 1
    assert count >= 36


def test_boxes_are_clipped_integer_pixels(
    analysed: dict[str, list[Face]], photos: dict[str, np.ndarray]
) -> None:
    for photo, faces in analysed.items():
        height, width = photos[photo].shape[:2]
        for face in faces:
            box = face.box
            assert all(isinstance(v, int) for v in (box.x, box.y, box.w, box.h))
            assert box.x >= 0 and box.y >= 0 and box.w > 0 and box.h > 0
            assert box.x + box.w <= width and box.y + box.h <= height


def test_same_person_is_closer_than_anyone_else(analysed: dict[str, list[Face]]) -> None:
    same = [analysed[photo][0].embedding for photo in SAME_PERSON]
    others = [
        face_at(analysed[photo], x, y).embedding
        for photo, labelled in FACES.items()
        if photo not in SAME_PERSON
        for x, y, _ in labelled
    ]
    assert len(others) == 33
    same_similarities = [float(same[i] @ same[j]) for i in range(3) for j in range(i + 1, 3)]
    cross_similarities = [float(s @ o) for s in same for o in others]
    assert min(same_similarities) > max(cross_similarities) + 0.2, (
        same_similarities,
        max(cross_similarities),
    )


def test_embeddings_are_unit_192d_float32(analysed: dict[str, list[Face]]) -> None:
    for faces in analysed.values():
        for face in faces:
            assert face.embedding is not None and face.embedding.dtype == np.float32
            assert face.embedding.shape == (192,)
            assert abs(float(np.linalg.norm(face.embedding)) - 1.0) < 1e-4


def test_rgba_and_crop_of_the_same_photo_match(analysed: dict[str, list[Face]]) -> None:
    # 32bit.png is obama2.jpg as RGBA; obama_partial_face.jpg is a crop of obama.jpg.
    assert float(analysed["32bit.png"][0].embedding @ analysed["obama2.jpg"][0].embedding) > 0.95
    assert (
        float(analysed["obama_partial_face.jpg"][0].embedding @ analysed["obama.jpg"][0].embedding)
        > 0.7
    )


def test_smiling_faces_score_higher(analysed: dict[str, list[Face]]) -> None:
    smiling, not_smiling = [], []
    for photo, labelled in FACES.items():
        for x, y, label in labelled:
            face = face_at(analysed[photo], x, y)
            if label == 1:
                smiling.append(face.smile)
            elif label == 0:
                not_smiling.append(face.smile)
    assert (len(smiling), len(not_smiling)) == (15, 11)
    auc = roc_auc(smiling, not_smiling)
    print(f"smile AUC {auc:.3f} on {len(smiling)} smiling / {len(not_smiling)} not smiling faces")
    assert auc >= 0.9
    assert np.median(smiling) > 80 and np.median(not_smiling) < 20


def test_posed_expressions(analysed: dict[str, list[Face]]) -> None:
    top = {
        photo: max(analysed[photo][0].expression.items(), key=lambda kv: kv[1])[0]
        for photo in ("0-f1-su-ph.jpg", "0-f15-hao-ph.jpg", "15-f13-anc-ph.jpg")
    }
    assert top == {
        "0-f1-su-ph.jpg": "surprise",
        "0-f15-hao-ph.jpg": "happy",
        "15-f13-anc-ph.jpg": "angry",
    }


def test_expression_is_a_distribution_and_smile_follows_happy(
    analysed: dict[str, list[Face]],
) -> None:
    for faces in analysed.values():
        for face in faces:
            assert face.expression is not None and tuple(face.expression) == EXPRESSION_LABELS
            assert abs(sum(face.expression.values()) - 1.0) < 1e-4
            assert face.smile == round(100 * face.expression["happy"], 1)


def test_heads_can_be_skipped(analyzer: Analyzer, photos: dict[str, np.ndarray]) -> None:
    without_embeddings = analyzer.analyze(photos["sample4.jpg"], embeddings=False)
    assert len(without_embeddings) == 4
    assert all(f.embedding is None and f.expression is not None for f in without_embeddings)
    without_expressions = analyzer.analyze(photos["sample4.jpg"], expressions=False)
    assert all(
        f.expression is None and f.smile is None and f.embedding is not None
        for f in without_expressions
    )


def test_bytes_and_array_input_agree(analyzer: Analyzer, photo_paths, photos) -> None:  # noqa: ANN001
    from_bytes = analyzer.analyze(photo_paths["obama.jpg"].read_bytes())
    from_array = analyzer.analyze(photos["obama.jpg"])
    assert from_bytes[0].box == from_array[0].box
    assert np.allclose(from_bytes[0].embedding, from_array[0].embedding)


def test_batched_heads_match_single_face_runs(
    analyzer: Analyzer, photos: dict[str, np.ndarray]
) -> None:
    rgb = photos["sample5.jpg"]
    detections = analyzer.detect(rgb)
    identity, grey = analyzer.align(rgb, detections)
    batched_embeddings, batched_expressions = analyzer.embed(identity), analyzer.expressions(grey)
    for index in range(len(detections)):
        assert np.allclose(
            analyzer.embed(identity[index : index + 1])[0], batched_embeddings[index], atol=1e-5
        )
        assert np.allclose(
            analyzer.expressions(grey[index : index + 1])[0], batched_expressions[index], atol=1e-5
        )


def test_quality_flags(
    analyzer: Analyzer, analysed: dict[str, list[Face]], photos: dict[str, np.ndarray]
) -> None:
    sharp = analysed["obama.jpg"][0].quality
    assert sharp.usable_for_clustering and sharp.face_size > 100
    # The same face blurred hard and shrunk is no longer usable for clustering.
    import cv2

    blurred = cv2.GaussianBlur(photos["obama.jpg"], (0, 0), 8)
    assert analyzer.analyze(blurred)[0].quality.sharpness < sharp.sharpness / 5
    assert not analyzer.analyze(blurred)[0].quality.usable_for_clustering
    tiny = cv2.resize(photos["obama.jpg"], None, fx=0.12, fy=0.12, interpolation=cv2.INTER_AREA)
    tiny_faces = analyzer.analyze(np.pad(tiny, ((200, 200), (200, 200), (0, 0)), mode="edge"))
    assert len(tiny_faces) == 1 and not tiny_faces[0].quality.usable_for_clustering


def test_head_pose_from_landmarks() -> None:
    frontal = np.array([[38.3, 51.7], [73.5, 51.5], [56.0, 71.7], [41.5, 92.4], [70.7, 92.2]])
    yaw, pitch, roll = head_pose(frontal)
    assert abs(yaw) < 3 and abs(pitch) < 3 and abs(roll) < 1
    turned = frontal.copy()
    turned[2, 0] += 12  # nose shifted to the image right: head turned
    assert head_pose(turned)[0] > 20
    angle = np.radians(30)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    assert abs(head_pose(frontal @ rotation.T)[2] - 30) < 1


def test_without_consent_the_identity_model_is_never_loaded(
    model_paths: dict[str, Path], photos: dict[str, np.ndarray]
) -> None:
    fresh = Analyzer()
    faces = fresh.analyze(photos["sample2.jpg"], embeddings=False)
    assert len(faces) == 3 and all(face.embedding is None for face in faces)
    assert "mobilefacenet" not in fresh._sessions
