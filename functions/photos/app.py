"""Routes of the photos function: photos, import, consent, people, faces."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import File, Form, Query, Response, UploadFile, status

from cheese_runtime import resources
from cheese_runtime.errors import PROBLEM_CONTENT_TYPE, Problem, ProblemMap
from cheese_runtime.http import CurrentPrincipal, create_app, declared_routes
from cheese_runtime.inputs import ID_LIST, IdsQuery, PathId, Text, split_ids
from functions.photos import service
from functions.photos.errors import (
    AnonymisedViewFailed,
    BoxOutsidePhoto,
    FacesDisagree,
    MeNotSet,
    MergeAlreadyUndone,
    MergeOutdated,
    NoFaceFound,
    NothingToMerge,
    NothingToSplit,
    PeopleAppearTogether,
    PhotoNotAnalysed,
    PhotoTooLarge,
    RegistrationPhotoCount,
    RegistrationPhotoUnreadable,
    SeveralFaces,
)
from functions.photos.models import AnonymiseStyle
from functions.photos.schemas import (
    Accepted,
    AnonymisedOut,
    AssignRequest,
    ConsentIn,
    ConsentOut,
    DrawFaceRequest,
    FaceOut,
    ImportRequest,
    ImportResponse,
    MergedPersonOut,
    MergeRequest,
    MoodRecommendations,
    PersonOut,
    PersonPage,
    PersonPatch,
    PhotoOut,
    PhotoPage,
    PhotoPoseOut,
    PoseRecommendations,
    SplitRequest,
    Suggestion,
    UndoneMerge,
    UploadRequest,
    UploadResponse,
)

# Every refusal of the photos service and the import engine, as the HTTP status
# a client gets (the not-found ones are ResourceNotFound: 404 for every function).
ERRORS: ProblemMap = {
    PhotoTooLarge: 413,
    NothingToMerge: 422,
    NothingToSplit: 422,
    BoxOutsidePhoto: 422,
    MergeAlreadyUndone: 409,
    MergeOutdated: 409,
    PeopleAppearTogether: 409,
    PhotoNotAnalysed: 409,
    AnonymisedViewFailed: 409,
    MeNotSet: 422,
    RegistrationPhotoCount: 422,
    RegistrationPhotoUnreadable: 422,
    NoFaceFound: 422,
    SeveralFaces: 422,
    FacesDisagree: 422,
    # The import engine's ImportRefused, by slug (importing/README.md), so that
    # the engine (QR decoding, OpenCV) is imported only by the import routes.
    "url-not-allowed": 422,
    "host-not-allowed": 422,
    "address-not-allowed": 422,
    "too-many-redirects": 422,
    "too-large": 413,
    "timeout": 504,
    "not-an-image": 422,
    "upstream-error": 502,
    "no-images-found": 422,
    "qr-not-found": 422,
}

app = create_app("Cheese photos", "Photos, their faces, and the people in them.", errors=ERRORS)
route = declared_routes(app, resources.PHOTOS)

PROBLEMS = {
    code: {"description": text, "content": {PROBLEM_CONTENT_TYPE: {}}}
    for code, text in {
        400: "Bad request",
        401: "Not authenticated",
        404: "Not found (or not yours)",
        409: "Conflict",
        413: "Too large",
        422: "Validation failed",
    }.items()
}
# A QR picture is small; the API Gateway payload limit is 10 MB.
MAX_QR_IMAGE_BYTES = 8 * 1024 * 1024

Limit = Annotated[int, Query(ge=1, le=100)]


@route(
    "createUpload",
    status_code=201,
    response_model=UploadResponse,
    responses=PROBLEMS,
    tags=["photos"],
)
async def create_upload(
    body: UploadRequest, principal: CurrentPrincipal, response: Response
) -> UploadResponse:
    result = service.create_upload(principal.user_id, body)
    if result.duplicate:
        response.status_code = status.HTTP_200_OK
    return result


def _import(principal_user: str, url: str, source: str) -> ImportResponse:
    from functions.photos.importing import resolve

    images = resolve(url)
    return service.store_imported(
        principal_user, [(i.body, i.content_type, i.final_url) for i in images], source
    )


@route(
    "importUrl",
    status_code=202,
    response_model=ImportResponse,
    responses=PROBLEMS,
    tags=["photos"],
)
async def import_url(body: ImportRequest, principal: CurrentPrincipal) -> ImportResponse:
    return _import(principal.user_id, str(body.url), "url")


@route(
    "importQr",
    status_code=202,
    response_model=ImportResponse,
    responses=PROBLEMS,
    tags=["photos"],
)
async def import_qr(
    principal: CurrentPrincipal,
    image: Annotated[UploadFile, File(description="A picture of the QR code")],
) -> ImportResponse:
    from functions.photos.importing import decode_qr

    data = image.file.read(MAX_QR_IMAGE_BYTES + 1)
    if len(data) > MAX_QR_IMAGE_BYTES:
        raise Problem(
            413, "qr-image-too-large", "QR picture too large", "Send a picture of at most 8 MB."
        )
    urls = decode_qr(data)
    return _import(principal.user_id, urls[0], "qr")


@route("listPhotos", response_model=PhotoPage, responses=PROBLEMS, tags=["photos"])
async def list_photos(
    principal: CurrentPrincipal,
    limit: Limit = 30,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    person_ids: IdsQuery = None,
    source: Literal["upload", "url", "qr"] | None = None,
    taken_from: datetime | None = None,
    taken_to: datetime | None = None,
) -> PhotoPage:
    ids = split_ids(person_ids)
    if len(ids) > 20:
        raise Problem(422, "too-many-people", "Too many people", "Filter by at most 20 people.")
    return service.list_photos(
        principal.user_id,
        limit=limit,
        cursor=cursor,
        person_ids=ids,
        source=source,
        taken_from=taken_from,
        taken_to=taken_to,
    )


@route("getPhoto", response_model=PhotoOut, responses=PROBLEMS, tags=["photos"])
async def get_photo(photo_id: PathId, principal: CurrentPrincipal) -> PhotoOut:
    return service.get_photo(principal.user_id, photo_id)


@route("deletePhoto", status_code=204, responses=PROBLEMS, tags=["photos"])
async def delete_photo(photo_id: PathId, principal: CurrentPrincipal) -> Response:
    service.delete_photo(principal.user_id, photo_id)
    return Response(status_code=204)


@route(
    "getAnonymisedPhoto",
    response_model=AnonymisedOut,
    responses=PROBLEMS,
    tags=["photos"],
)
async def anonymised(
    photo_id: PathId,
    principal: CurrentPrincipal,
    response: Response,
    keep: Annotated[
        str,
        Query(
            pattern=f"^(?:me|{ID_LIST})?$",
            max_length=2000,
            description="'me', comma-separated person ids, or empty (hide every face)",
        ),
    ] = "me",
    style: AnonymiseStyle = "cartoon",
) -> AnonymisedOut:
    result = service.anonymised_view(principal.user_id, photo_id, keep, style)
    if result.status == "rendering":
        response.status_code = status.HTTP_202_ACCEPTED
        response.headers["Retry-After"] = "2"
    return result


@route("drawFace", status_code=201, response_model=FaceOut, responses=PROBLEMS, tags=["photos"])
async def draw_face(
    photo_id: PathId, body: DrawFaceRequest, principal: CurrentPrincipal
) -> FaceOut:
    return service.draw_face(principal.user_id, photo_id, body.box)


@route("getPhotoPose", response_model=PhotoPoseOut, responses=PROBLEMS, tags=["photos"])
async def get_photo_pose(photo_id: PathId, principal: CurrentPrincipal) -> PhotoPoseOut:
    """Keypoints per person per cut, each cut's pose type and mood (pose_analysis consent)."""
    # numpy and MoveNet's names: loaded by this route only (the photos API's cold start).
    from functions.photos.pose_view import photo_pose

    return photo_pose(principal.user_id, photo_id)


@route("getConsent", response_model=ConsentOut, responses=PROBLEMS, tags=["consent"])
async def get_consent(principal: CurrentPrincipal) -> ConsentOut:
    return service.consent_out(principal.user_id)


@route("setConsent", response_model=ConsentOut, responses=PROBLEMS, tags=["consent"])
async def put_consent(body: ConsentIn, principal: CurrentPrincipal) -> ConsentOut:
    return service.set_consent(
        principal.user_id,
        body.face_grouping,
        body.expression_analysis,
        body.pose_analysis,
        body.pose_examples,
    )


@route("listPeople", response_model=PersonPage, responses=PROBLEMS, tags=["people"])
async def list_people(
    principal: CurrentPrincipal,
    limit: Limit = 50,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
    include_hidden: bool = False,
    group: Annotated[str | None, Query(min_length=1, max_length=32)] = None,
    all: Annotated[  # the query parameter the app sends
        bool, Query(description="Also people seen only small in the background")
    ] = False,
) -> PersonPage:
    return service.list_people(
        principal.user_id,
        limit=limit,
        cursor=cursor,
        include_hidden=include_hidden,
        group=group,
        include_background=all,
    )


@route(
    "registerPerson",
    status_code=201,
    response_model=PersonOut,
    responses={**PROBLEMS, 200: {"description": "The photos show a person already known"}},
    tags=["people"],
)
async def register_person(
    principal: CurrentPrincipal,
    response: Response,
    photos: Annotated[
        list[UploadFile], File(description="1 to 5 photos of the person (JPEG, PNG or WebP)")
    ],
    name: Annotated[Text | None, Form(max_length=64)] = None,
) -> PersonOut:
    """Register a person from photos of them, at once (for a user with no gallery yet)."""
    # numpy and the face models: loaded by this route only (the photos API's cold start).
    from functions.photos.registration import (
        MAX_PHOTOS,
        MAX_TOTAL_BYTES,
        RegistrationPhoto,
        register_person,
    )

    if len(photos) > MAX_PHOTOS:
        raise RegistrationPhotoCount()
    sent = [RegistrationPhoto(photo.file.read(MAX_TOTAL_BYTES + 1)) for photo in photos]
    person, created = register_person(principal.user_id, sent, name or None)
    if not created:
        response.status_code = status.HTTP_200_OK
    return person


@route("getPerson", response_model=PersonOut, responses=PROBLEMS, tags=["people"])
async def get_person(person_id: PathId, principal: CurrentPrincipal) -> PersonOut:
    return service.get_person(principal.user_id, person_id)


@route("updatePerson", response_model=PersonOut, responses=PROBLEMS, tags=["people"])
async def patch_person(
    person_id: PathId, body: PersonPatch, principal: CurrentPrincipal
) -> PersonOut:
    return service.patch_person(principal.user_id, person_id, body)


@route("mergePerson", response_model=MergedPersonOut, responses=PROBLEMS, tags=["people"])
async def merge_people(
    person_id: PathId, body: MergeRequest, principal: CurrentPrincipal
) -> MergedPersonOut:
    return service.merge_people(principal.user_id, person_id, body.person_ids)


@route("undoMerge", response_model=UndoneMerge, responses=PROBLEMS, tags=["people"])
async def undo_merge(merge_id: PathId, principal: CurrentPrincipal) -> UndoneMerge:
    return service.undo_merge(principal.user_id, merge_id)


@route(
    "splitPerson", status_code=201, response_model=PersonOut, responses=PROBLEMS, tags=["people"]
)
async def split_person(
    person_id: PathId, body: SplitRequest, principal: CurrentPrincipal
) -> PersonOut:
    return service.split_person(principal.user_id, person_id, body.face_ids)


@route(
    "listPersonSuggestions",
    response_model=list[Suggestion],
    responses=PROBLEMS,
    tags=["people"],
)
async def person_suggestions(
    person_id: PathId, principal: CurrentPrincipal, limit: Annotated[int, Query(ge=1, le=50)] = 10
) -> list[Suggestion]:
    return service.person_suggestions(principal.user_id, person_id, limit)


@route("listPersonPhotos", response_model=PhotoPage, responses=PROBLEMS, tags=["people"])
async def person_photos(
    person_id: PathId,
    principal: CurrentPrincipal,
    limit: Limit = 30,
    cursor: Annotated[str | None, Query(max_length=512)] = None,
) -> PhotoPage:
    return service.person_photos(principal.user_id, person_id, limit=limit, cursor=cursor)


@route(
    "reclusterPeople",
    status_code=202,
    response_model=Accepted,
    responses=PROBLEMS,
    tags=["people"],
)
async def recluster(principal: CurrentPrincipal) -> Accepted:
    service.request_recluster(principal.user_id)
    return Accepted()


@route("assignFace", response_model=PersonOut, responses=PROBLEMS, tags=["people"])
async def assign_face(
    face_id: PathId, body: AssignRequest, principal: CurrentPrincipal
) -> PersonOut:
    return service.assign_face(principal.user_id, face_id, body.person_id)


@route(
    "listPoseRecommendations",
    response_model=PoseRecommendations,
    responses=PROBLEMS,
    tags=["recommendations"],
)
async def pose_recommendations(
    principal: CurrentPrincipal,
    people: Annotated[int, Query(ge=1, le=6, description="People in the pose")] = 1,
    limit: Annotated[int, Query(ge=1, le=40)] = 10,
) -> PoseRecommendations:
    """Pose types the user has not tried, most popular first, with de-identified examples."""
    from functions.photos import recommendations  # numpy: this route only

    return recommendations.poses(principal.user_id, people, limit)


@route(
    "listMoodRecommendations",
    response_model=MoodRecommendations,
    responses=PROBLEMS,
    tags=["recommendations"],
)
async def mood_recommendations(
    principal: CurrentPrincipal, limit: Annotated[int, Query(ge=1, le=40)] = 10
) -> MoodRecommendations:
    """Moods of other users' cuts that none of the user's cuts has, most popular first."""
    from functions.photos import recommendations

    return recommendations.moods(principal.user_id, limit)
