"""The Rekognition face-index backend, against botocore's Stubber with real response shapes."""

from __future__ import annotations

import pytest
from botocore.stub import Stubber

from functions.photos.face_index import PixelBox, RekognitionFaceIndex

COLLECTION = "cheese-faces-test"


def face_record(
    face_id: str, left: float, top: float, width: float, height: float, user: str
) -> dict:
    return {
        "Face": {
            "FaceId": face_id,
            "BoundingBox": {"Width": width, "Height": height, "Left": left, "Top": top},
            "ImageId": "a8d0d5a4-0f4e-3e7a-a4e3-6f0f1e7b9c11",
            "ExternalImageId": user,
            "Confidence": 99.99,
        },
        "FaceDetail": {
            "BoundingBox": {"Width": width, "Height": height, "Left": left, "Top": top},
            "Confidence": 99.99,
        },
    }


@pytest.fixture
def index() -> tuple[RekognitionFaceIndex, Stubber]:
    idx = RekognitionFaceIndex(COLLECTION)
    stubber = Stubber(idx._client)
    stubber.activate()
    yield idx, stubber
    stubber.deactivate()


def test_index_photo_maps_rekognition_faces_to_ours_by_overlap(index) -> None:  # noqa: ANN001
    idx, stubber = index
    stubber.add_response(
        "index_faces",
        {
            "FaceRecords": [
                face_record("rk-left", 0.10, 0.20, 0.20, 0.30, "user-1"),
                face_record("rk-right", 0.60, 0.20, 0.20, 0.30, "user-1"),
                face_record("rk-extra", 0.85, 0.85, 0.05, 0.05, "user-1"),
            ],
            "FaceModelVersion": "7.0",
            "UnindexedFaces": [],
        },
        {
            "CollectionId": COLLECTION,
            "Image": {"Bytes": b"jpeg"},
            "ExternalImageId": "user-1",
            "MaxFaces": 100,
            "QualityFilter": "AUTO",
            "DetectionAttributes": [],
        },
    )
    # A face only Rekognition saw is removed again: nothing stays that we cannot erase.
    stubber.add_response(
        "delete_faces",
        {"DeletedFaces": ["rk-extra"]},
        {"CollectionId": COLLECTION, "FaceIds": ["rk-extra"]},
    )
    ours = [("face-a", PixelBox(100, 200, 200, 300)), ("face-b", PixelBox(610, 190, 190, 310))]
    assert idx.index_photo("user-1", b"jpeg", 1000, 1000, ours) == {
        "face-a": "rk-left",
        "face-b": "rk-right",
    }
    stubber.assert_no_pending_responses()


def test_search_keeps_only_the_owners_faces(index) -> None:  # noqa: ANN001
    idx, stubber = index
    stubber.add_response(
        "search_faces",
        {
            "SearchedFaceId": "rk-1",
            "FaceModelVersion": "7.0",
            "FaceMatches": [
                {
                    "Similarity": 99.1,
                    "Face": face_record("rk-2", 0.1, 0.1, 0.2, 0.2, "user-1")["Face"],
                },
                {
                    "Similarity": 97.0,
                    "Face": face_record("rk-3", 0.1, 0.1, 0.2, 0.2, "someone-else")["Face"],
                },
            ],
        },
        {"CollectionId": COLLECTION, "FaceId": "rk-1", "MaxFaces": 50, "FaceMatchThreshold": 80.0},
    )
    assert idx.search("user-1", "rk-1") == [("rk-2", pytest.approx(0.009))]


def test_person_becomes_a_rekognition_user(index) -> None:  # noqa: ANN001
    idx, stubber = index
    stubber.add_response(
        "create_user", {}, {"CollectionId": COLLECTION, "UserId": "user-1.person-9"}
    )
    stubber.add_response(
        "associate_faces",
        {
            "AssociatedFaces": [{"FaceId": "rk-1"}, {"FaceId": "rk-2"}],
            "UnsuccessfulFaceAssociations": [],
            "UserStatus": "UPDATING",
        },
        {"CollectionId": COLLECTION, "UserId": "user-1.person-9", "FaceIds": ["rk-1", "rk-2"]},
    )
    idx.associate_person("user-1", "person-9", ["rk-1", "rk-2"])
    stubber.assert_no_pending_responses()


def test_erasure_deletes_every_face_of_the_user(index) -> None:  # noqa: ANN001
    idx, stubber = index
    stubber.add_response(
        "list_faces",
        {
            "Faces": [
                face_record("rk-1", 0.1, 0.1, 0.2, 0.2, "user-1")["Face"],
                face_record("rk-2", 0.1, 0.1, 0.2, 0.2, "other")["Face"],
                face_record("rk-3", 0.1, 0.1, 0.2, 0.2, "user-1")["Face"],
            ],
            "FaceModelVersion": "7.0",
        },
        {"CollectionId": COLLECTION},
    )
    stubber.add_response(
        "delete_faces",
        {"DeletedFaces": ["rk-1", "rk-3"]},
        {"CollectionId": COLLECTION, "FaceIds": ["rk-1", "rk-3"]},
    )
    assert idx.delete_user_faces("user-1") == 2
    stubber.assert_no_pending_responses()
