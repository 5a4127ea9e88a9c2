"""``cheese``: the developer's command line (local stack, migrations, models)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path


def _run(args: argparse.Namespace) -> int:
    import uvicorn

    from cheese_local.datadir import PRIVATE_UMASK, DataDirInUse
    from cheese_local.stack import LocalStack

    # Everything the stack and its children write in the data directory is owner-only.
    os.umask(PRIVATE_UMASK)
    stack = LocalStack(
        data_dir=Path(args.data_dir).resolve(),
        host=args.host,
        port=args.port,
        database_url=os.environ.get("DATABASE_URL"),
        persistent=True,
        s3_port=args.s3_port,
    )
    try:
        settings = stack.start()
    except DataDirInUse as in_use:
        print(f"cheese run: {in_use}", file=sys.stderr)
        stack.stop()
        return 1
    base = f"http://{args.host}:{args.port}"
    restored = stack.restored
    print(
        "Cheese local stack\n"
        f"  API        {base}/v1/...\n"
        f"  OpenAPI    {base}/docs  ({base}/openapi.json)\n"
        f"  WebSocket  ws://{args.host}:{args.port}/ws\n"
        f"  Health     {base}/healthz\n"
        f"  S3         {stack.s3_endpoint}  (s3rver, objects in {settings.data_dir / 's3'})\n"
        f"  AWS (moto) {os.environ['AWS_ENDPOINT_URL']}  (SQS and DynamoDB journaled)\n"
        f"  Database   {settings.sqlalchemy_url.split('@')[-1]}\n"
        f"  Data dir   {settings.data_dir}\n"
        f"  Restored   {restored.get('messages', 0)} queued messages, "
        f"{restored.get('items', 0)} DynamoDB items, "
        f"{restored.get('notifications', 0)} interrupted upload notifications\n",
        flush=True,
    )
    try:
        # Idle keep-alive connections live 75 s (uvicorn's 5 s default makes a busy
        # client race the server's close and see connection resets). No WebSocket
        # pings: API Gateway sends none, and uvicorn's would drop slow clients.
        uvicorn.run(
            stack.app(),
            host=args.host,
            port=args.port,
            log_level="warning",
            ws="websockets-sansio",
            timeout_keep_alive=75,
            ws_ping_interval=None,
        )
    finally:
        stack.stop()
    return 0


def _migrate(args: argparse.Namespace) -> int:
    from cheese_runtime.db import migrate
    from cheese_runtime.settings import get_settings

    migrate.upgrade(get_settings().sqlalchemy_url)
    print("database at head")
    return 0


def _admin_grant(args: argparse.Namespace) -> int:
    from cheese_runtime.settings import get_settings
    from functions.auth.roles import UnknownUser, grant_role

    os.environ["CHEESE_DATA_DIR"] = str(Path(args.data_dir).resolve())
    get_settings.cache_clear()
    settings = get_settings()
    if not settings.database_url and not (settings.data_dir / "cheese.db").exists():
        print(f"no local database in {settings.data_dir}: start `cheese run` once", file=sys.stderr)
        return 1
    try:
        user = grant_role(args.email, "admin")
    except UnknownUser:
        print(f"no account with the email {args.email!r}", file=sys.stderr)
        return 1
    print(f"{user.email} is an admin (from their next login or token refresh)")
    return 0


def _models_fetch(args: argparse.Namespace) -> int:
    from cheese_ml import models

    models.fetch(Path(args.cache_dir) if args.cache_dir else None, progress=True)
    return 0


def _emoji(args: argparse.Namespace) -> int:
    from cheese_ml.emoji import builtin_template, emoji_photo
    from cheese_ml.emoji_sets import manifest
    from cheese_ml.images import ImageError, encode_jpeg

    if args.template not in manifest():
        print(f"unknown template {args.template!r}; built-in: {', '.join(manifest())}")
        return 2
    template = builtin_template(args.template)
    try:
        result = emoji_photo(Path(args.photo).read_bytes(), template)
    except ImageError as error:
        print(f"{args.photo}: {error}")
        return 1
    Path(args.out).write_bytes(encode_jpeg(result.image, quality=90))
    covered = ", ".join(p.expression for p in result.placements) or "no face found"
    print(f"{len(result.faces)} faces ({covered}) -> {args.out}\n{template.attribution}")
    return 0


def _people(args: argparse.Namespace) -> int:
    from cheese_local.people_render import render_people

    summary = render_people(Path(args.photo_dir), Path(args.out))
    print(
        f"{summary['photos']} photos, {summary['faces']} faces, {summary['people']} people -> {args.out}"
    )
    return 0


def _anonymise(args: argparse.Namespace) -> int:
    from cheese_local.progress import ProgressBar
    from cheese_ml.video_anonymise import anonymise_video, people_from_photos
    from cheese_ml.video_io import VideoInputError

    photos = {
        f"person{number}": [Path(photo).read_bytes() for photo in group]
        for number, group in enumerate(args.keep or [], start=1)
    }
    bar = ProgressBar()
    try:
        people = people_from_photos(photos)
        report = anonymise_video(args.video, args.out, people, args.style, progress=bar.update)
    except (VideoInputError, ValueError) as error:
        bar.close()
        print(f"error: {error}", file=sys.stderr)
        return 2
    bar.close()
    for track in report.tracks:
        who = track.person_id or "stranger (hidden)"
        print(f"track {track.track_id}: {track.first_second:.2f}-{track.last_second:.2f} s {who}")
    print(f"{report.frames} frames -> {args.out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="cheese", description="Cheese developer tools")
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="start the whole backend locally")
    run.add_argument("--host", default=os.environ.get("CHEESE_HOST", "127.0.0.1"))
    run.add_argument("--port", type=int, default=int(os.environ.get("CHEESE_PORT", "8000")))
    run.add_argument("--data-dir", default=os.environ.get("CHEESE_DATA_DIR", ".cheese"))
    run.add_argument(
        "--s3-port",
        type=int,
        default=int(os.environ.get("CHEESE_S3_PORT", "0")),
        help="port of the S3 endpoint (default: the one this data directory used last)",
    )
    run.set_defaults(func=_run)

    admin = commands.add_parser("admin", help="accounts' roles")
    admin_commands = admin.add_subparsers(dest="admin_command", required=True)
    grant = admin_commands.add_parser(
        "grant",
        help="make an account an admin (the database of DATABASE_URL, else the local data dir's)",
    )
    grant.add_argument("email")
    grant.add_argument("--data-dir", default=os.environ.get("CHEESE_DATA_DIR", ".cheese"))
    grant.set_defaults(func=_admin_grant)

    migrate = commands.add_parser("migrate", help="upgrade the database to the latest schema")
    migrate.set_defaults(func=_migrate)

    models = commands.add_parser("models", help="model weights")
    models_commands = models.add_subparsers(dest="models_command", required=True)
    fetch = models_commands.add_parser("fetch", help="download, convert and verify every model")
    fetch.add_argument("--cache-dir", default=None)
    fetch.set_defaults(func=_models_fetch)

    emoji = commands.add_parser(
        "emoji", help="cover every face of a photo with the emoji of its expression"
    )
    emoji.add_argument("photo")
    emoji.add_argument("--template", default="twemoji", help="a built-in set: twemoji or noto")
    emoji.add_argument("--out", default="emoji.jpg")
    emoji.set_defaults(func=_emoji)

    people = commands.add_parser(
        "people", help="group the faces of a folder of photos and draw the people"
    )
    people.add_argument("photo_dir")
    people.add_argument("--out", default="people.png")
    people.set_defaults(func=_people)

    anonymise = commands.add_parser(
        "anonymise", help="hide every face in a video except the people in the --keep photos"
    )
    anonymise.add_argument("video")
    anonymise.add_argument(
        "--keep",
        nargs="+",
        action="append",
        metavar="PHOTO",
        help="photos of one person to keep (repeat --keep for more people)",
    )
    anonymise.add_argument("--out", required=True)
    anonymise.add_argument("--style", choices=["mosaic", "blur", "cartoon"], default="mosaic")
    anonymise.set_defaults(func=_anonymise)

    args = parser.parse_args(argv)
    status: int = args.func(args)
    return status


if __name__ == "__main__":
    sys.exit(main())
