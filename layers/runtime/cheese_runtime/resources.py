"""One source of truth for the names and shapes of shared AWS resources.

The CDK stacks create exactly these tables, queues and routes, and the local
stack creates them in moto from the same definitions, so code, infra and the
local stack cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass

from cheese_runtime import events


@dataclass(frozen=True)
class Index:
    name: str
    partition_key: str
    sort_key: str | None = None


@dataclass(frozen=True)
class Table:
    """A DynamoDB table: string keys, on-demand billing."""

    name: str
    partition_key: str
    sort_key: str | None = None
    ttl_attribute: str | None = None
    global_indexes: tuple[Index, ...] = ()
    # The Settings field carrying the deployed table name; a function that
    # declares this name in its ``grants`` gets item read/write on the table.
    setting: str | None = None


# Login failure counters per account and per IP, in fixed windows (expire by TTL).
THROTTLE_TABLE = Table(
    name="cheese-auth-throttle",
    partition_key="pk",
    ttl_attribute="expires_at",
    setting="throttle_table",
)

# Focus pools (functions/pool, see functions/pool/README.md). One partition per
# pool: "#META" (name, capacity, member_count, seq), "M#<user>" (presence and
# the open focus stretch), "X#<user>" (access grant); "USER#<id>"/"#POOL" is
# the one-pool-per-user lock. Sparse GSIs list public pools, pools with
# members (the sweep's worklist, sharded) and a user's granted pools.
POOLS_TABLE = Table(
    name="cheese-pools",
    partition_key="pk",
    sort_key="sk",
    ttl_attribute="expires_at",
    global_indexes=(
        Index("public-pools", "public_pk", "public_sk"),
        Index("live-pools", "live_shard", "pk"),
        Index("by-grantee", "grantee", "pk"),
    ),
    setting="pools_table",
)
# WebSocket connections (user, token expiry, rate-limit window); TTL past API
# Gateway's 2-hour connection limit, the sweep deletes the ones left behind.
POOL_CONNECTIONS_TABLE = Table(
    name="cheese-pool-connections",
    partition_key="connection_id",
    ttl_attribute="expires_at",
    global_indexes=(Index("by-age", "age_shard", "connected_at"),),
    setting="pool_connections_table",
)
# Focus history: "USER#<id>"/"S#<start>#<session>" sessions and
# "POOL#<id>#D#<day>"/"U#<user>" focused seconds per day (leaderboards).
FOCUS_TABLE = Table(
    name="cheese-pool-focus",
    partition_key="pk",
    sort_key="sk",
    ttl_attribute="expires_at",
    setting="focus_table",
)

# Live anonymisation (functions/video/live_state.py): the engine state (tracks, identity
# votes, last boxes) after each good segment, "pk" = the user, "sk" = "<stream>#<sequence,
# zero-padded>", so the next segment reads the latest one before it and erasure queries
# the user's partition. Expires a day after it was written.
LIVE_STATE_TABLE = Table(
    name="cheese-live-state",
    partition_key="pk",
    sort_key="sk",
    ttl_attribute="expires_at",
    setting="live_state_table",
)

TABLES: tuple[Table, ...] = (
    THROTTLE_TABLE,
    POOLS_TABLE,
    POOL_CONNECTIONS_TABLE,
    FOCUS_TABLE,
    LIVE_STATE_TABLE,
)

EVENT_BUS = "cheese-events"
# The source of every Cheese event (rules match on it); the detail types are in ``events``.
EVENT_SOURCE = events.EVENT_SOURCE
SIGNING_KEYS_SECRET = "cheese/jwt-signing-keys"
JWKS_PARAMETER = "/cheese/jwks"
PHOTOS_BUCKET = "cheese-photos"


# The name of a path variable says what it identifies, and one name is used at
# every level by every function: API Gateway refuses two routes whose variables
# at the same level are named differently (ConflictException, so the deploy
# fails), and a client reads the same name everywhere. A new kind of resource
# adds its name here (tests/runtime/test_routes.py checks every route against it).
PATH_VARIABLES = frozenset(
    {
        "photo_id",
        "person_id",
        "face_id",
        "pool_id",
        "period_id",
        "template_id",
        "task_id",
        "video_id",
        "diary_id",
        "channel_id",
        "comment_id",
        "invitation_id",
        # A channel member's user id (DELETE /v1/channels/{channel_id}/members/{member_id}).
        "member_id",
        "stream_id",
        "merge_id",
        # A live segment's number in its stream (0, 1, 2, …).
        "sequence",
    }
)


@dataclass(frozen=True)
class Route:
    """One API Gateway route, the only place its method, path and authorization are written.

    Each function's FastAPI app registers its handlers by ``operation_id``
    through :func:`cheese_runtime.http.declared_routes`, which takes method,
    path and authorization from here; the CDK app builds the HTTP API's routes
    from the same declarations (it cannot import the apps: the ML-image
    functions' dependencies are not in the CDK environment).
    """

    method: str
    path: str  # API Gateway route path, with {variable} placeholders (PATH_VARIABLES)
    # Short, unique across all functions, camelCase: the OpenAPI operationId
    # (and so the method name in a generated client).
    operation_id: str
    authorized: bool = True

    @property
    def segments(self) -> tuple[str, ...]:
        return tuple(self.path.strip("/").split("/"))

    @property
    def variables(self) -> tuple[str, ...]:
        return tuple(s[1:-1] for s in self.segments if _is_variable(s))


def _is_variable(segment: str) -> bool:
    return segment.startswith("{") and segment.endswith("}")


# What a function may reach, named in ``grants`` (the CDK app turns each into
# least-privilege IAM, the CHEESE_* environment variable and, for "database",
# a place in the VPC): "database", a Table's ``setting`` ("throttle_table",
# "pools_table", ...), "event_bus", "signing_keys_read",
# "signing_keys_write", "jwks", "jwks_write", "photos_bucket",
# "websocket_management", "rekognition" (see infra/grants.py).
# ``ml_image=True`` on any function declaration: the function runs in the ML
# container image (layers/ml/Dockerfile, ``<module>.handler`` as the image
# command) instead of a zip with the runtime layer.


@dataclass(frozen=True)
class ApiFunction:
    """A deployable HTTP function and the API Gateway routes it owns."""

    name: str
    module: str  # the Python module whose ``handler`` Lambda invokes
    routes: tuple[Route, ...]
    grants: tuple[str, ...] = ()
    # The HTTP API gives up on an integration after 30 s.
    timeout_seconds: int = 15
    memory_mb: int = 512
    # Modules of other functions shipped with this one: their table models, which it
    # reads, never their logic ("functions.photos.models").
    shared_modules: tuple[str, ...] = ()
    # Lambda's /tmp (512 MB by default, up to 10,240 MB): what a video worker downloads,
    # cuts and encodes lives there.
    ephemeral_storage_mb: int = 512
    ml_image: bool = False

    def route(self, operation_id: str) -> Route:
        for route in self.routes:
            if route.operation_id == operation_id:
                return route
        raise LookupError(f"the {self.name} function declares no route {operation_id!r}")


@dataclass(frozen=True)
class EventSubscription:
    """An EventBridge rule delivering detail types to a consumer's SQS queue."""

    consumer: str  # queue base name
    detail_types: tuple[str, ...]
    module: str  # module whose ``handler`` consumes the SQS batch
    max_receive_count: int = 5
    grants: tuple[str, ...] = ()
    timeout_seconds: int = 30
    memory_mb: int = 512
    # Modules of other functions shipped with this one: their table models, which it
    # reads, never their logic ("functions.photos.models").
    shared_modules: tuple[str, ...] = ()
    ephemeral_storage_mb: int = 512
    ml_image: bool = False
    batch_size: int = 10

    @property
    def source(self) -> str:
        """The one source its events come from (``cheese``, or an AWS service's)."""
        sources = {events.model_of(detail_type).source for detail_type in self.detail_types}
        if len(sources) != 1:
            raise ValueError(f"{self.consumer} mixes event sources {sorted(sources)}")
        return sources.pop()

    @property
    def on_default_bus(self) -> bool:
        """AWS services send their events to the account's default bus, not to Cheese's."""
        return self.source != EVENT_SOURCE


AUTH = ApiFunction(
    name="auth",
    module="functions.auth.handler",
    routes=(
        Route("POST", "/v1/auth/signup", "signUp", authorized=False),
        Route("POST", "/v1/auth/login", "logIn", authorized=False),
        Route("POST", "/v1/auth/refresh", "refreshTokens", authorized=False),
        Route("POST", "/v1/auth/logout", "logOut", authorized=False),
        Route("GET", "/v1/auth/me", "getMe"),
        Route("DELETE", "/v1/auth/me", "deleteMe"),
        Route("GET", "/.well-known/jwks.json", "getJwks", authorized=False),
    ),
    grants=(
        "database",
        "throttle_table",
        "event_bus",
        "signing_keys_read",
        "jwks",
    ),
    # argon2id hashes with 64 MiB and 4 lanes: Lambda's CPU share grows with memory.
    memory_mb=1024,
)

POOL = ApiFunction(
    name="pool",
    module="functions.pool.handler",
    routes=(
        Route("GET", "/v1/pools", "listPools"),
        Route("POST", "/v1/pools", "createPool"),
        Route("GET", "/v1/pools/{pool_id}", "getPool"),
        Route("GET", "/v1/pools/{pool_id}/leaderboard", "getPoolLeaderboard"),
        Route("POST", "/v1/pools/{pool_id}/invites", "invitePoolMember"),
        Route("POST", "/v1/pools/{pool_id}/avatar", "createPoolAvatarUpload"),
        Route("GET", "/v1/me/focus", "listMyFocus"),
    ),
    # "database": invites check that the invited account exists (cheese_runtime.accounts);
    # in the VPC, the @connections endpoint is reached through the NAT gateway ("internet").
    grants=(
        "pools_table",
        "focus_table",
        "photos_bucket",
        "websocket_management",
        "database",
        "internet",
        "jwks",
    ),
)

# Smile points, ranking, charities and the donation ledger (functions/smile_rank/README.md).
SMILE_RANK = ApiFunction(
    name="smile-rank",
    module="functions.smile_rank.handler",
    routes=(
        Route("GET", "/v1/smiles/me", "getMySmiles"),
        Route("GET", "/v1/smiles/ranking", "getSmileRanking"),
        Route("GET", "/v1/photos/{photo_id}/smiles", "getPhotoSmiles"),
        Route("GET", "/v1/charities", "listCharities"),
        Route("GET", "/v1/me/charity", "getMyCharity"),
        Route("PUT", "/v1/me/charity", "chooseMyCharity"),
        Route("GET", "/v1/donations/summary", "getDonationSummary"),
        Route("GET", "/v1/donations/statement", "getDonationStatement"),
        Route("POST", "/v1/admin/charities", "createCharity"),
        Route("GET", "/v1/admin/periods/{period_id}", "getPeriod"),
        Route("PUT", "/v1/admin/periods/{period_id}", "configurePeriod"),
        Route("POST", "/v1/admin/periods/{period_id}/close", "closePeriod"),
    ),
    grants=("database", "jwks"),
    # An admin close posts for up to 20 s, then answers; the HTTP API gives up at 30 s.
    timeout_seconds=29,
    memory_mb=1024,
)

PHOTOS = ApiFunction(
    name="photos",
    module="functions.photos.handler",
    routes=(
        Route("POST", "/v1/photos/uploads", "createUpload"),
        Route("POST", "/v1/photos/import", "importUrl"),
        Route("POST", "/v1/photos/import/qr", "importQr"),
        Route("GET", "/v1/photos", "listPhotos"),
        Route("GET", "/v1/photos/{photo_id}", "getPhoto"),
        Route("DELETE", "/v1/photos/{photo_id}", "deletePhoto"),
        Route("GET", "/v1/photos/{photo_id}/anonymised", "getAnonymisedPhoto"),
        Route("POST", "/v1/photos/{photo_id}/faces", "drawFace"),
        Route("GET", "/v1/photos/{photo_id}/pose", "getPhotoPose"),
        Route("PUT", "/v1/me/consent", "setConsent"),
        Route("GET", "/v1/me/consent", "getConsent"),
        Route("GET", "/v1/people", "listPeople"),
        Route("POST", "/v1/people", "registerPerson"),
        Route("GET", "/v1/people/{person_id}", "getPerson"),
        Route("PATCH", "/v1/people/{person_id}", "updatePerson"),
        Route("POST", "/v1/people/{person_id}/merge", "mergePerson"),
        Route("POST", "/v1/people/{person_id}/split", "splitPerson"),
        Route("POST", "/v1/people/merges/{merge_id}/undo", "undoMerge"),
        Route("GET", "/v1/people/{person_id}/suggestions", "listPersonSuggestions"),
        Route("GET", "/v1/people/{person_id}/photos", "listPersonPhotos"),
        Route("POST", "/v1/people/recluster", "reclusterPeople"),
        Route("POST", "/v1/faces/{face_id}/assign", "assignFace"),
        Route("GET", "/v1/recommendations/poses", "listPoseRecommendations"),
        Route("GET", "/v1/recommendations/moods", "listMoodRecommendations"),
    ),
    # "internet": booth imports fetch vendors' pages (through the VPC's NAT gateway).
    # "live_state_table": withdrawing face grouping (PUT /v1/me/consent) deletes live streams'
    # engine states (functions/video/withdrawal.py).
    grants=(
        "database",
        "photos_bucket",
        "event_bus",
        "jwks",
        "rekognition",
        "internet",
        "live_state_table",
    ),
    timeout_seconds=29,
    memory_mb=1024,
    # QR decoding (zxing-cpp, OpenCV) and people suggestions (numpy) need the ML image.
    ml_image=True,
)

# Emoji faces: templates, tasks, rankings, and pool avatars drawn from webcam frames
# (functions/emotion/README.md).
EMOTION = ApiFunction(
    name="emotion",
    module="functions.emotion.handler",
    routes=(
        Route("POST", "/v1/emoji/templates", "createEmojiTemplate"),
        Route("GET", "/v1/emoji/templates", "listEmojiTemplates"),
        Route("GET", "/v1/emoji/templates/{template_id}", "getEmojiTemplate"),
        Route("PATCH", "/v1/emoji/templates/{template_id}", "updateEmojiTemplate"),
        Route("DELETE", "/v1/emoji/templates/{template_id}", "deleteEmojiTemplate"),
        Route("POST", "/v1/emoji/tasks", "createEmojiTask"),
        Route("GET", "/v1/emoji/tasks/{task_id}", "getEmojiTask"),
        Route("GET", "/v1/emoji/ranking", "getEmojiRanking"),
        Route("GET", "/v1/me/emoji/results", "listMyEmojiResults"),
        Route("GET", "/v1/me/emoji/templates", "listMyEmojiTemplates"),
        Route("POST", "/v1/pools/{pool_id}/avatar/frame", "postPoolAvatarFrame"),
        Route("PUT", "/v1/me/avatar", "chooseMyAvatar"),
    ),
    grants=(
        "database",
        "photos_bucket",
        "event_bus",
        "jwks",
        "pools_table",
        "websocket_management",
        # avatar_updated is posted to the pool's WebSocket connections (API Gateway's
        # @connections endpoint has no VPC endpoint).
        "internet",
    ),
    timeout_seconds=29,
    memory_mb=2048,
    # Avatars from webcam frames run face analysis in the request (cheese_ml).
    ml_image=True,
)

# Video diaries, their calendar and search, channels, invitations, comments
# (functions/diary/README.md). The analysis runs in the ML image's consumers.
DIARY = ApiFunction(
    name="diary",
    module="functions.diary.handler",
    routes=(
        Route("POST", "/v1/diaries", "createDiary"),
        Route("GET", "/v1/diaries", "listDiaries"),
        Route("GET", "/v1/diaries/calendar", "getDiaryCalendar"),
        Route("GET", "/v1/diaries/{diary_id}", "getDiary"),
        Route("PATCH", "/v1/diaries/{diary_id}", "updateDiary"),
        Route("DELETE", "/v1/diaries/{diary_id}", "deleteDiary"),
        Route("GET", "/v1/diaries/{diary_id}/comments", "listDiaryComments"),
        Route("POST", "/v1/diaries/{diary_id}/comments", "createDiaryComment"),
        Route("PATCH", "/v1/comments/{comment_id}", "updateComment"),
        Route("DELETE", "/v1/comments/{comment_id}", "deleteComment"),
        Route("POST", "/v1/channels", "createChannel"),
        Route("GET", "/v1/channels", "listChannels"),
        Route("GET", "/v1/channels/{channel_id}", "getChannel"),
        Route("POST", "/v1/channels/{channel_id}/invitations", "inviteToChannel"),
        Route("POST", "/v1/channels/{channel_id}/leave", "leaveChannel"),
        Route("DELETE", "/v1/channels/{channel_id}/members/{member_id}", "removeChannelMember"),
        Route("POST", "/v1/channels/{channel_id}/diaries", "shareDiary"),
        Route("GET", "/v1/channels/{channel_id}/diaries", "listChannelDiaries"),
        Route("DELETE", "/v1/channels/{channel_id}/diaries/{diary_id}", "unshareDiary"),
        Route("GET", "/v1/me/invitations", "listMyInvitations"),
        Route("POST", "/v1/invitations/{invitation_id}/accept", "acceptInvitation"),
        Route("POST", "/v1/invitations/{invitation_id}/decline", "declineInvitation"),
    ),
    grants=("database", "photos_bucket", "jwks"),
)

# Recorded videos anonymised: everyone hidden but the kept people (functions/video/README.md).
VIDEO = ApiFunction(
    name="video",
    module="functions.video.handler",
    routes=(
        Route("POST", "/v1/videos", "createVideo"),
        Route("GET", "/v1/videos", "listVideos"),
        Route("GET", "/v1/videos/{video_id}", "getVideo"),
        Route("DELETE", "/v1/videos/{video_id}", "deleteVideo"),
        Route("POST", "/v1/videos/{video_id}/anonymisations", "createVideoAnonymisation"),
        Route("POST", "/v1/live", "createLiveStream"),
        Route("GET", "/v1/live/{stream_id}", "getLiveStream"),
        Route("POST", "/v1/live/{stream_id}/segments", "createLiveSegment"),
        Route("POST", "/v1/live/{stream_id}/segments/{sequence}/announce", "announceLiveSegment"),
        Route("GET", "/v1/live/{stream_id}/playlist.m3u8", "getLivePlaylist"),
        Route("POST", "/v1/live/{stream_id}/end", "endLiveStream"),
    ),
    grants=("database", "photos_bucket", "event_bus", "jwks"),
    # The kept people ("me", person ids) are the photos function's.
    shared_modules=("functions.photos.models",),
)

API_FUNCTIONS: tuple[ApiFunction, ...] = (AUTH, POOL, SMILE_RANK, PHOTOS, EMOTION, DIARY, VIDEO)

# A video worker's /tmp holds the original (≤ 500 MB), the encoded result, and for a long
# video's join its encoded chunks too: about three times the upload, more where an encode
# comes out larger than a low-bitrate source.
VIDEO_WORKER_TMP_MB = 4096

EVENT_SUBSCRIPTIONS: tuple[EventSubscription, ...] = (
    # A leaving user's photos, faces, people, objects and face-index entries.
    EventSubscription(
        consumer="photos-erasure",
        detail_types=(events.UserDeletionRequested.detail_type,),
        module="functions.photos.erasure",
        grants=("database", "photos_bucket", "rekognition"),
        timeout_seconds=300,
        ml_image=True,
    ),
    # Full re-clustering of one user's faces (user request or the nightly job).
    EventSubscription(
        consumer="photos-recluster",
        detail_types=(events.ReclusterRequested.detail_type,),
        module="functions.photos.recluster",
        grants=("database", "rekognition"),
        timeout_seconds=300,
        memory_mb=2048,
        batch_size=1,
        ml_image=True,
    ),
    # Anonymised views are rendered by the ML image and cached in S3.
    EventSubscription(
        consumer="photos-render",
        detail_types=(events.AnonymisedViewRequested.detail_type,),
        module="functions.photos.renderer",
        grants=("database", "photos_bucket"),
        timeout_seconds=60,
        memory_mb=2048,
        batch_size=1,
        ml_image=True,
    ),
    # Emoji-face tasks: analysis and rendering in the ML image, one photo per invocation.
    EventSubscription(
        consumer="emotion-tasks",
        detail_types=(events.EmojiTaskRequested.detail_type,),
        module="functions.emotion.worker",
        grants=("database", "photos_bucket"),
        max_receive_count=3,
        timeout_seconds=60,
        memory_mb=2048,
        batch_size=1,
        ml_image=True,
    ),
    # Amazon Transcribe finished a diary's job (speech_engine "transcribe"): the transcript,
    # its key sentences and tags complete the diary (functions/diary/analysis/transcribed.py).
    EventSubscription(
        consumer="diary-transcribed",
        detail_types=(events.TranscribeJobStateChange.detail_type,),
        module="functions.diary.analysis.transcribed",
        grants=("database", "photos_bucket"),
        max_receive_count=3,
        timeout_seconds=120,
        memory_mb=1024,
        batch_size=1,
        # The text ranking (kiwipiepy, textrankr) lives in the ML image beside the analysis.
        ml_image=True,
    ),
    # A leaving user's templates, tasks, results and avatar choice.
    EventSubscription(
        consumer="emotion-erasure",
        detail_types=(events.UserDeletionRequested.detail_type,),
        module="functions.emotion.erasure",
        grants=("database", "photos_bucket"),
        timeout_seconds=300,
    ),
    # A leaving user's diaries (videos, transcripts, derived objects such as
    # Transcribe outputs), channels, memberships, invitations and comments.
    EventSubscription(
        consumer="diary-erasure",
        detail_types=(events.UserDeletionRequested.detail_type,),
        module="functions.diary.erasure",
        grants=("database", "photos_bucket"),
        timeout_seconds=300,
    ),
    # Video anonymisation in the ML image, one video per invocation (Lambda's 15 minutes
    # hold about 9 minutes of 720p video at the one-core rate in functions/video/README.md;
    # longer videos are cut into chunks for the video-chunks consumer),
    # and live segments in order (the same consumer: no new queue, function or role).
    EventSubscription(
        consumer="video-anonymise",
        detail_types=(
            events.VideoAnonymisationRequested.detail_type,
            events.LiveSegmentAnnounced.detail_type,
        ),
        module="functions.video.worker",
        # event_bus: a long video is fanned out as VideoChunkRequested events.
        grants=("database", "photos_bucket", "event_bus", "live_state_table"),
        max_receive_count=3,
        timeout_seconds=900,
        memory_mb=3008,
        batch_size=1,
        ephemeral_storage_mb=VIDEO_WORKER_TMP_MB,
        ml_image=True,
    ),
    # The chunks of a video too long for one invocation (functions/video/README.md, "Long
    # videos"): each chunk's faces detected, then each chunk encoded by the plan, in parallel
    # (one chunk per invocation); the last one of each stage plans, or joins the result.
    EventSubscription(
        consumer="video-chunks",
        detail_types=(events.VideoChunkRequested.detail_type,),
        module="functions.video.chunk_worker",
        grants=("database", "photos_bucket", "event_bus"),
        max_receive_count=3,
        timeout_seconds=900,
        memory_mb=3008,
        batch_size=1,
        ephemeral_storage_mb=VIDEO_WORKER_TMP_MB,
        ml_image=True,
    ),
    # A leaving user's videos, anonymisations and their objects.
    EventSubscription(
        consumer="video-erasure",
        detail_types=(events.UserDeletionRequested.detail_type,),
        module="functions.video.erasure",
        grants=("database", "photos_bucket", "live_state_table"),
        timeout_seconds=300,
        shared_modules=("functions.photos.models",),
    ),
    # A leaving user's seat, connections, grants, owned pools, focus history and avatars.
    EventSubscription(
        consumer="pool-erasure",
        detail_types=(events.UserDeletionRequested.detail_type,),
        module="functions.pool.erasure",
        grants=(
            "pools_table",
            "pool_connections_table",
            "focus_table",
            "websocket_management",
            "photos_bucket",
        ),
        timeout_seconds=300,
    ),
    EventSubscription(
        consumer="auth-erasure",
        detail_types=(events.UserDeletionRequested.detail_type,),
        module="functions.auth.erasure",
        grants=("database",),
    ),
    # Smile points of analysed photos, reversals of deleted ones, which faces are "me",
    # erasure of a leaving user's smiles.
    EventSubscription(
        consumer="smile-rank",
        detail_types=(
            events.PhotoAnalyzed.detail_type,
            events.PhotoDeleted.detail_type,
            events.MeFacesChanged.detail_type,
            events.UserDeletionRequested.detail_type,
        ),
        module="functions.smile_rank.consumer",
        grants=("database",),
    ),
)


@dataclass(frozen=True)
class Queue:
    name: str
    dead_letter_name: str
    max_receive_count: int
    visibility_timeout_seconds: int = 180


def subscription_queue(sub: EventSubscription) -> Queue:
    return Queue(
        name=f"cheese-{sub.consumer}",
        dead_letter_name=f"cheese-{sub.consumer}-dlq",
        max_receive_count=sub.max_receive_count,
    )


def match_route(
    method: str, path: str, functions: tuple[ApiFunction, ...] = API_FUNCTIONS
) -> tuple[ApiFunction, Route, dict[str, str]] | None:
    """The function, route and path variables API Gateway would pick for a request.

    API Gateway picks the most specific route: going down the path segment by
    segment, a literal segment beats a variable, so ``/v1/people/recluster``
    is never taken for ``/v1/people/{person_id}`` (whatever the declaration
    order), nor ``/v1/people/merges/{merge_id}`` for ``/v1/people/{person_id}/...``.
    """
    parts = tuple(path.strip("/").split("/"))
    candidates = [
        (function, route, params)
        for function in functions
        for route in function.routes
        if route.method == method.upper() and (params := _match(route.segments, parts)) is not None
    ]
    if not candidates:
        return None
    return min(candidates, key=lambda c: tuple(_is_variable(s) for s in c[1].segments))


def _match(template: tuple[str, ...], parts: tuple[str, ...]) -> dict[str, str] | None:
    if len(template) != len(parts):
        return None
    params: dict[str, str] = {}
    for t, p in zip(template, parts, strict=True):
        if _is_variable(t):
            if not p:
                return None
            params[t[1:-1]] = p
        elif t != p:
            return None
    return params


# --- WebSocket APIs ----------------------------------------------------------


@dataclass(frozen=True)
class WebSocketApi:
    """An API Gateway WebSocket API: one Lambda for every route, a REQUEST authorizer on ``$connect``.

    Functions that post to its connections declare the grant
    "websocket_management" (execute-api:ManageConnections on this API, and the
    ``CHEESE_WEBSOCKET_ENDPOINT`` = ``https://{api-id}.execute-api.{region}.amazonaws.com/{stage}``).
    """

    name: str
    module: str  # handler of every route below
    authorizer_module: str
    # Custom route keys (values of the selection expression); $connect,
    # $disconnect and $default are always routed to ``module``.
    routes: tuple[str, ...]
    route_selection_expression: str = "$request.body.action"
    # No identity source: the token may be in the query or the subprotocol
    # header, so the authorizer runs (uncached) on every $connect.
    authorizer_identity_sources: tuple[str, ...] = ()
    stage: str = "live"
    grants: tuple[str, ...] = ()
    timeout_seconds: int = 10
    memory_mb: int = 512
    # Modules of other functions shipped with this one: their table models, which it
    # reads, never their logic ("functions.photos.models").
    shared_modules: tuple[str, ...] = ()
    ephemeral_storage_mb: int = 512
    ml_image: bool = False

    @property
    def function_name(self) -> str:
        """The name of ``module``'s function (its log service, ``POWERTOOLS_SERVICE_NAME``)."""
        return f"websocket-{self.name}"


# One REQUEST authorizer function serves the $connect of every WebSocket API.
WEBSOCKET_AUTHORIZER_FUNCTION = "websocket-authorizer"

POOL_WEBSOCKET = WebSocketApi(
    name="pool",
    module="functions.pool.ws",
    authorizer_module="functions.auth.authorizer",
    routes=("enter", "away", "back", "exit", "focus", "ping"),
    # "database": the token verifier reads revoked sessions there; in the VPC, the
    # @connections endpoint is reached through the NAT gateway ("internet").
    grants=(
        "pools_table",
        "pool_connections_table",
        "focus_table",
        "websocket_management",
        "database",
        "internet",
        "jwks",
    ),
)

WEBSOCKET_APIS: tuple[WebSocketApi, ...] = (POOL_WEBSOCKET,)


# --- S3 object notifications -------------------------------------------------


@dataclass(frozen=True)
class BucketNotification:
    """S3 events of a key prefix in a bucket → SQS queue (+ DLQ) → consumer module.

    S3 delivers at least once: consumers are idempotent.
    """

    consumer: str  # queue base name
    bucket_setting: str  # the Settings field naming the bucket ("photos_bucket")
    prefix: str
    module: str
    events: tuple[str, ...] = ("s3:ObjectCreated:*",)
    max_receive_count: int = 5
    grants: tuple[str, ...] = ()
    timeout_seconds: int = 30
    memory_mb: int = 512
    # Modules of other functions shipped with this one: their table models, which it
    # reads, never their logic ("functions.photos.models").
    shared_modules: tuple[str, ...] = ()
    ephemeral_storage_mb: int = 512
    ml_image: bool = False
    batch_size: int = 10


# Uploaded and imported originals: analysed by the ML image (faces, people,
# smiles), which writes its outputs under "derived/" so they never re-trigger it.
PHOTOS_ORIGINALS_PREFIX = "originals/"
PHOTOS_DERIVED_PREFIX = "derived/"
# The seven images of users' emoji templates, checked on arrival (functions/emotion).
EMOJI_TEMPLATES_PREFIX = "emoji-templates/"
# Uploaded diary videos, diaries/{user}/{diary_id}/video (functions/diary/storage.py).
DIARIES_PREFIX = "diaries/"
# Amazon Transcribe jobs of diaries are named this + the diary id; the IAM grant is scoped to it.
TRANSCRIBE_JOB_PREFIX = "cheese-diary-"

BUCKET_NOTIFICATIONS: tuple[BucketNotification, ...] = (
    BucketNotification(
        consumer="photos-analysis",
        bucket_setting="photos_bucket",
        prefix=PHOTOS_ORIGINALS_PREFIX,
        module="functions.photos.analyzer",
        grants=("database", "photos_bucket", "event_bus", "rekognition"),
        # Six times this is the queue's visibility timeout.
        timeout_seconds=120,
        memory_mb=2048,
        batch_size=4,
        ml_image=True,
    ),
    BucketNotification(
        consumer="emotion-template-uploads",
        bucket_setting="photos_bucket",
        prefix=EMOJI_TEMPLATES_PREFIX,
        module="functions.emotion.uploads",
        grants=("database", "photos_bucket"),
        memory_mb=1024,
        batch_size=7,
        # Decoding with the hardened decoder (Pillow, OpenCV) needs the ML image.
        ml_image=True,
    ),
    # Uploaded diary videos: emotion timeline, transcript, key sentences and tags, in the
    # ML image (functions/diary/analysis); one video per invocation.
    BucketNotification(
        consumer="diary-analysis",
        bucket_setting="photos_bucket",
        prefix=DIARIES_PREFIX,
        module="functions.diary.analysis.consumer",
        # "transcribe": in AWS the speech goes to Amazon Transcribe (functions/diary/README.md).
        grants=("database", "photos_bucket", "transcribe"),
        max_receive_count=3,
        # A 60-second diary takes under 30 s on one core (bench/diary_bench.py).
        timeout_seconds=300,
        memory_mb=2048,
        batch_size=1,
        ml_image=True,
    ),
    BucketNotification(
        consumer="pool-avatars",
        bucket_setting="photos_bucket",
        prefix="avatars/",
        module="functions.pool.avatars",
        grants=("pools_table", "photos_bucket", "websocket_management"),
    ),
)


def notification_queue(notification: BucketNotification) -> Queue:
    return Queue(
        name=f"cheese-{notification.consumer}",
        dead_letter_name=f"cheese-{notification.consumer}-dlq",
        max_receive_count=notification.max_receive_count,
    )


# --- scheduled jobs ----------------------------------------------------------


@dataclass(frozen=True)
class ScheduledJob:
    """A function invoked on an EventBridge schedule (``rate(...)`` or ``cron(...)``)."""

    name: str
    module: str  # module whose ``handler`` the schedule invokes
    schedule: str
    grants: tuple[str, ...] = ()
    timeout_seconds: int = 60
    memory_mb: int = 512
    # Modules of other functions shipped with this one: their table models, which it
    # reads, never their logic ("functions.photos.models").
    shared_modules: tuple[str, ...] = ()
    ephemeral_storage_mb: int = 512
    ml_image: bool = False
    # The local stack also runs it once when it starts (work a stopped stack left behind).
    run_at_start: bool = False


# Marks silent members away, ends expired reconnect grace periods, removes
# connections API Gateway no longer knows (410) and records past their TTL.
POOL_SWEEP = ScheduledJob(
    name="pool-sweep",
    module="functions.pool.sweep",
    schedule="rate(1 minute)",
    grants=("pools_table", "pool_connections_table", "focus_table", "websocket_management"),
)

# Closes the donation period (ISO week, UTC) that just ended, and finishes any
# earlier close left half done; idempotent, so retries and re-runs are safe.
SMILE_PERIOD_CLOSE = ScheduledJob(
    name="smile-period-close",
    module="functions.smile_rank.close",
    schedule="cron(5 0 ? * MON *)",
    grants=("database",),
    # Measured ≤ 60 s for 100,000 participants (functions/smile_rank/README.md).
    timeout_seconds=900,
    memory_mb=1024,
)

# Nightly: asks for a re-cluster of every user with faces still waiting for a person.
PHOTOS_NIGHTLY_RECLUSTER = ScheduledJob(
    name="photos-nightly-recluster",
    module="functions.photos.recluster_schedule",
    schedule="cron(30 3 * * ? *)",
    grants=("database", "event_bus"),
    timeout_seconds=300,
    ml_image=True,
)

# Re-drives photos and anonymised views left pending, processing or rendering past a bound,
# and fails those that cannot recover (functions/photos/reconciler.py).
PHOTOS_RECONCILE = ScheduledJob(
    name="photos-reconcile",
    module="functions.photos.reconciler",
    schedule="rate(5 minutes)",
    grants=("database", "photos_bucket", "event_bus"),
    timeout_seconds=300,
    # The photos function's modules (models, numpy in the data access) are in the ML image.
    ml_image=True,
    run_at_start=True,
)

# Nightly: re-learns the pose types from every opted-in cut, then de-identifies and
# verifies their examples (MoveNet, the identity model: the ML image; functions/photos/pose_types.py).
PHOTOS_POSE_TYPES = ScheduledJob(
    name="photos-pose-types",
    module="functions.photos.pose_types",
    schedule="cron(0 4 * * ? *)",
    grants=("database", "photos_bucket"),
    # Learning takes ~5 s at 100k cuts (bench/README.md); examples ~0.1 s each.
    timeout_seconds=900,
    memory_mb=2048,
    ml_image=True,
)

SCHEDULED_JOBS: tuple[ScheduledJob, ...] = (
    POOL_SWEEP,
    SMILE_PERIOD_CLOSE,
    PHOTOS_NIGHTLY_RECLUSTER,
    PHOTOS_RECONCILE,
    PHOTOS_POSE_TYPES,
)
