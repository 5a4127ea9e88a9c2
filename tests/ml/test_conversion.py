"""Each converted model agrees with its source model on real inputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from cheese_ml.analysis import Analyzer
from cheese_ml.models import default_cache_dir, manifest, source_path
from tests.ml import keras_reference


def source_file(name: str) -> Path:
    path = source_path(default_cache_dir(), manifest()[name])
    assert path.is_file()
    return path


def session(path: Path) -> ort.InferenceSession:
    return ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])


@pytest.fixture(scope="session")
def real_face_crops(
    analyzer: Analyzer, photos: dict[str, np.ndarray]
) -> tuple[np.ndarray, np.ndarray]:
    """Aligned identity (n,112,112,3) and expression (n,64,64) crops of the 22 group-photo faces."""
    identity, expression = [], []
    for photo in [f"sample{i}.jpg" for i in range(1, 7)]:
        rgb = photos[photo]
        crops = analyzer.align(rgb, analyzer.detect(rgb))
        identity.append(crops[0])
        expression.append(crops[1])
    return np.concatenate(identity), np.concatenate(expression)


def test_fer_onnx_matches_numpy_forward_pass_of_the_keras_weights(
    model_paths: dict[str, Path], real_face_crops: tuple[np.ndarray, np.ndarray]
) -> None:
    grey = (real_face_crops[1].astype(np.float32) / 255.0 - 0.5) * 2.0
    assert len(grey) == 22
    reference = keras_reference.forward(source_file("fer_mini_xception"), grey)
    converted = session(model_paths["fer_mini_xception"]).run(None, {"input_1": grey[:, None]})[0]
    assert converted.shape == (22, 7)
    assert np.abs(converted - reference).max() < 1e-4
    assert (converted.argmax(1) == reference.argmax(1)).all()


def test_mobilefacenet_onnx_matches_tflite(
    model_paths: dict[str, Path], real_face_crops: tuple[np.ndarray, np.ndarray]
) -> None:
    interpreter_module = pytest.importorskip(
        "ai_edge_litert.interpreter", reason="install the convert extra"
    )
    faces = (real_face_crops[0].astype(np.float32) - 127.5) / 128.0
    converted = session(model_paths["mobilefacenet"]).run(
        None, {"input": faces.transpose(0, 3, 1, 2)}
    )[0]
    interpreter = interpreter_module.Interpreter(str(source_file("mobilefacenet")))
    interpreter.allocate_tensors()
    input_index = interpreter.get_input_details()[0]["index"]
    output_index = interpreter.get_output_details()[0]["index"]
    reference = []
    for start in range(0, len(faces), 2):  # the TFLite file has a fixed batch of 2
        pair = faces[start : start + 2]
        if len(pair) == 1:
            pair = np.concatenate([pair, pair])
        interpreter.set_tensor(input_index, np.ascontiguousarray(pair))
        interpreter.invoke()
        reference.append(interpreter.get_tensor(output_index)[: len(faces[start : start + 2])])
    reference_embeddings = np.concatenate(reference)
    assert converted.shape == reference_embeddings.shape == (22, 192)
    assert (
        np.abs(converted - reference_embeddings).max() < 1e-3 * np.abs(reference_embeddings).max()
    )


def test_centerface_dynamic_matches_the_original(
    model_paths: dict[str, Path], photos: dict[str, np.ndarray]
) -> None:
    import cv2

    # The original accepts only [10,3,32,32]: feed ten 32x32 crops of a real photo to both.
    rgb = photos["obama.jpg"]
    tiles = np.stack(
        [
            cv2.resize(rgb[y : y + 160, x : x + 160], (32, 32), interpolation=cv2.INTER_AREA)
            for y, x in [(100 + 20 * i, 300 + 15 * i) for i in range(10)]
        ]
    )
    blob = tiles.astype(np.float32).transpose(0, 3, 1, 2)
    original = session(source_file("centerface")).run(None, {"input.1": blob})
    dynamic_session = session(model_paths["centerface"])
    dynamic = dynamic_session.run(None, {"input.1": blob})
    for expected, actual in zip(original, dynamic, strict=True):
        assert np.abs(expected - actual).max() < 1e-4
    # And the dynamic one takes other sizes and batches.
    outputs = dynamic_session.run(None, {"input.1": np.zeros((2, 3, 96, 160), np.float32)})
    assert [o.shape for o in outputs] == [
        (2, 1, 24, 40),
        (2, 2, 24, 40),
        (2, 2, 24, 40),
        (2, 10, 24, 40),
    ]


def test_mobilefacenet_batch_is_dynamic(model_paths: dict[str, Path]) -> None:
    mobilefacenet = session(model_paths["mobilefacenet"])
    for batch in (1, 3, 5):
        out = mobilefacenet.run(None, {"input": np.zeros((batch, 3, 112, 112), np.float32)})[0]
        assert out.shape == (batch, 192)
