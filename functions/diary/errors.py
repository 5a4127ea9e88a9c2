"""What the diary service refuses, in its own words; functions/diary/app.py maps each to HTTP."""

from __future__ import annotations

from cheese_runtime.errors import DomainError, ResourceNotFound


class DiaryError(DomainError):
    """Every refusal of the diary function."""


class DiaryNotFound(DiaryError, ResourceNotFound):
    default_detail = "No such diary."


class ChannelNotFound(DiaryError, ResourceNotFound):
    default_detail = "No such channel."


class InvitationNotFound(DiaryError, ResourceNotFound):
    default_detail = "No such invitation."


class CommentNotFound(DiaryError, ResourceNotFound):
    default_detail = "No such comment."


class MemberNotFound(DiaryError, ResourceNotFound):
    default_detail = "No such member of this channel."


class VideoTooLarge(DiaryError):
    slug = "video-too-large"
    title = "Video too large"
    default_detail = "Diary videos are limited to 200 MB."


class ChannelOwnerOnly(DiaryError):
    slug = "channel-owner-only"
    title = "Only the channel's owner"
    default_detail = "Only the channel's owner may do this."


class OwnerCannotLeave(DiaryError):
    slug = "owner-cannot-leave"
    title = "The owner cannot leave"
    default_detail = "The owner of a channel cannot leave it."


class InvitationAnswered(DiaryError):
    slug = "invitation-answered"
    title = "Invitation already answered"
    default_detail = "This invitation was already declined."


class NotCommentAuthor(DiaryError):
    slug = "not-comment-author"
    title = "Not your comment"
    default_detail = (
        "Only its author may edit a comment; its author or the channel's owner may delete it."
    )


class TooManyInvitations(DiaryError):
    """The owner sent too many invitations lately; ``retry_after`` says when one more fits."""

    slug = "too-many-invitations"
    title = "Too many invitations"
    default_detail = "You have sent too many invitations lately; try again later."

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after=retry_after)
        # Also in the body, for clients that do not read headers (as auth's too-many-attempts).
        self.extensions["retry_after"] = retry_after
