"""What the photos service refuses, in its own words; functions/photos/app.py maps each to HTTP.

The import engine's refusals are ``importing.ImportRefused`` (one class, a slug each);
missing consent is the runtime's ``cheese_runtime.consent.ConsentRequired``.
"""

from __future__ import annotations

from cheese_runtime.errors import DomainError, ResourceNotFound


class PhotosError(DomainError):
    """Every refusal of the photos function."""


class PhotoNotFound(PhotosError, ResourceNotFound):
    default_detail = "No such photo."


class PersonNotFound(PhotosError, ResourceNotFound):
    default_detail = "No such person."


class FaceNotFound(PhotosError, ResourceNotFound):
    default_detail = "No such face."


class MergeNotFound(PhotosError, ResourceNotFound):
    default_detail = "No such merge."


class PhotoTooLarge(PhotosError):
    slug = "photo-too-large"
    title = "Photo too large"


class NothingToMerge(PhotosError):
    slug = "nothing-to-merge"
    title = "Nothing to merge"
    default_detail = "Name at least one other person."


class PhotoNotAnalysed(PhotosError):
    slug = "photo-not-analyzed"
    title = "Photo not analysed yet"
    default_detail = "Faces are hidden once the photo is analysed; try again shortly."


class MeNotSet(PhotosError):
    slug = "me-not-set"
    title = "No person is marked as you"
    default_detail = "Mark yourself first: PATCH /v1/people/{id} with is_me."


class PeopleAppearTogether(PhotosError):
    """Two of the people to merge are side by side in one photo (one cut of a print)."""

    slug = "people-appear-together"
    title = "These people appear together"


class AnonymisedViewFailed(PhotosError):
    """The view cannot be rendered (its original is gone, or rendering kept failing)."""

    slug = "anonymised-view-failed"
    title = "Anonymised view failed"


class MergeAlreadyUndone(PhotosError):
    slug = "merge-already-undone"
    title = "This merge was already undone"
    default_detail = "The merged people are already separate again."


class MergeOutdated(PhotosError):
    """The kept person is gone (merged again, or all its faces moved): nothing to give back."""

    slug = "merge-outdated"
    title = "This merge can no longer be undone"
    default_detail = (
        "The person it kept no longer exists; move faces with POST /v1/faces/{id}/assign."
    )


class NothingToSplit(PhotosError):
    slug = "nothing-to-split"
    title = "Nothing to split"
    default_detail = "Name some of the person's faces, not all of them."


class BoxOutsidePhoto(PhotosError):
    slug = "box-outside-photo"
    title = "The box is not inside the photo"
    default_detail = "Draw the face inside the photo (pixels of the upright photo)."


class RegistrationRefused(PhotosError):
    """Photos that cannot register a person (POST /v1/people); ``photo`` is the 1-based one."""


class RegistrationPhotoCount(RegistrationRefused):
    slug = "photo-count"
    title = "Send 1 to 5 photos"
    default_detail = "Register a person from 1 to 5 photos of them, in the 'photos' fields."


class RegistrationPhotoUnreadable(RegistrationRefused):
    slug = "photo-unreadable"
    title = "A photo cannot be read"


class NoFaceFound(RegistrationRefused):
    slug = "no-face-found"
    title = "No face found"


class SeveralFaces(RegistrationRefused):
    slug = "several-faces"
    title = "Whose face is it?"


class FacesDisagree(RegistrationRefused):
    slug = "faces-disagree"
    title = "These photos show different people"
