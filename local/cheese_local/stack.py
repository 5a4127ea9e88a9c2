"""The whole backend on one machine: moto's server, the database, the gateway, the workers."""

from __future__ import annotations

import functools
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import uvicorn
from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.server import ThreadedMotoServer
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute

from cheese_local.bootstrap import bootstrap, seed_demo_charities
from cheese_local.datadir import (
    create_sqlite_file,
    lock_data_dir,
    remembered_port,
    secure_data_dir,
)
from cheese_local.emulators import S3Server
from cheese_local.extension import ParametersExtension
from cheese_local.gateway import HttpGateway, docs_html, merged_openapi
from cheese_local.journal import MotoJournal
from cheese_local.moto_events import complete_moto_events
from cheese_local.s3_front import NotificationTarget, PendingWrites, S3Front
from cheese_local.websocket import WebSocketGateway
from cheese_local.workers import ScheduledRunner, SqsPoller
from cheese_runtime import aws, parameters, resources
from cheese_runtime.db import migrate
from cheese_runtime.db.session import reset_engine
from cheese_runtime.settings import Settings, get_settings

if TYPE_CHECKING:
    from moto.dynamodb.models import DynamoDBBackend

LOCAL_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
}


# One lock for every DynamoDB item operation of this process's moto (the journal writes under it).
DYNAMODB_LOCK = threading.RLock()


@functools.cache  # once per process: the patches wrap moto's class methods
def make_dynamodb_atomic() -> None:
    """Serialize moto's DynamoDB item operations, as DynamoDB makes each conditional write atomic.

    moto's server handles requests on threads and checks conditions before
    applying writes without a lock, so two racing conditional writes (the
    last seat of a pool) could both succeed locally, which DynamoDB never allows.
    """
    from moto.dynamodb.models import DynamoDBBackend

    # Inside the lock below: the snapshots are current.
    _item_level_transaction_rollback(DynamoDBBackend)
    lock = DYNAMODB_LOCK
    for name in (
        "put_item",
        "get_item",
        "update_item",
        "delete_item",
        "transact_write_items",
        "transact_get_items",
        "batch_write_item",
    ):
        original = getattr(DynamoDBBackend, name)

        @functools.wraps(original)
        def locked(
            self: DynamoDBBackend,
            *args: Any,
            __original: Callable[..., Any] = original,
            **kwargs: Any,
        ) -> Any:
            with lock:
                return __original(self, *args, **kwargs)

        setattr(DynamoDBBackend, name, locked)


def _item_level_transaction_rollback(backend_class: type[DynamoDBBackend]) -> None:
    """moto backs up every table a transaction touches with a deep copy of the whole table
    (O(table size) per TransactWriteItems); back up only the transaction's items instead."""
    import copy

    import moto.dynamodb.models as dynamodb_models
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    class _NoTableCopy:
        """moto's module-level ``copy``: deep copies of whole tables become no-ops."""

        def __getattr__(self, name: str) -> Any:
            return getattr(copy, name)

        @staticmethod
        def deepcopy(value: Any, memo: dict[int, Any] | None = None) -> Any:
            return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    vars(dynamodb_models)["copy"] = _NoTableCopy()
    transact = backend_class.transact_write_items

    def transact_write_items(
        self: DynamoDBBackend, transact_items: list[dict[str, Any]], *args: Any, **kwargs: Any
    ) -> Any:
        saved: list[tuple[Table, DynamoType, DynamoType | None, Any]] = []
        for entry in transact_items:
            _, op = next(iter(entry.items()))
            table = self.tables.get(op.get("TableName"))
            if table is None:
                continue
            key = op.get("Key") or op.get("Item") or {}
            if table.hash_key_attr not in key:
                continue
            hash_value = DynamoType(key[table.hash_key_attr])
            range_value = (
                DynamoType(key[table.range_key_attr]) if table.range_key_attr in key else None
            )
            before = (
                table.get_item(hash_value, range_value)
                if (range_value or not table.has_range_key)
                else None
            )
            saved.append((table, hash_value, range_value, copy.deepcopy(before)))
        try:
            return transact(self, transact_items, *args, **kwargs)
        except Exception:
            for table, hash_value, range_value, before in reversed(saved):
                if range_value is not None:
                    table.items[hash_value].pop(range_value, None)
                    if before is not None:
                        table.items[hash_value][range_value] = before
                else:
                    table.items.pop(hash_value, None)
                    if before is not None:
                        table.items[hash_value] = before
            raise

    setattr(backend_class, "transact_write_items", transact_write_items)  # noqa: B010 - mypy refuses assigning to a method


@dataclass
class LocalStack:
    """The backend on one machine.

    ``persistent`` (what ``cheese run`` uses) keeps everything in the data
    directory: S3 objects in s3rver behind the S3 front, SQS and DynamoDB in moto
    with their journal (``journal.py``). Without it (the test suite) moto holds
    everything in memory, as fast as it gets.
    """

    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 8000
    database_url: str | None = None
    persistent: bool = False
    # The S3 endpoint's port in persistent mode; 0: the one this data directory used last.
    s3_port: int = 0
    pollers: list[SqsPoller | ScheduledRunner] = field(default_factory=list)
    # What runs moto's server: ThreadedMotoServer's signature (the pool benchmark passes one
    # that runs it in a child process, on its own core as DynamoDB is in AWS).
    moto_server: Callable[..., Any] = ThreadedMotoServer
    moto: Any = None
    s3_server: S3Server | None = None
    s3_front: S3Front | None = None
    journal: MotoJournal | None = None
    restored: dict[str, int] = field(default_factory=dict)
    _s3_front_server: uvicorn.Server | None = None
    _pending_writes: PendingWrites | None = None
    _extension: ParametersExtension | None = None
    _lock: IO[str] | None = None

    def start(self) -> Settings:
        """Start moto (and in persistent mode s3rver and the S3 front), point boto3 at them,
        migrate the database, create resources, restore what was queued, start workers."""
        secure_data_dir(self.data_dir)
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        for key, value in LOCAL_ENVIRONMENT.items():
            os.environ.setdefault(key, value)
        make_dynamodb_atomic()
        if self.persistent:
            self._lock = lock_data_dir(self.data_dir)
            self.journal = MotoJournal(self.data_dir / "moto-journal.sqlite3")
            self.journal.activate()
        complete_moto_events()
        self.moto = self.moto_server(ip_address="127.0.0.1", port=0, verbose=False)
        self.moto.start()
        moto_host, moto_port = self.moto.get_host_and_port()
        os.environ["AWS_ENDPOINT_URL"] = f"http://{moto_host}:{moto_port}"
        os.environ.pop("AWS_ENDPOINT_URL_S3", None)
        if self.persistent:
            self._start_s3()
        os.environ["CHEESE_DATA_DIR"] = str(self.data_dir)
        os.environ["CHEESE_STAGE"] = "local"
        # The @connections endpoint of the local WebSocket API (served by app() below).
        os.environ["CHEESE_WEBSOCKET_ENDPOINT"] = f"http://{self.host}:{self.port}"
        if self.database_url:
            os.environ["DATABASE_URL"] = self.database_url
        get_settings.cache_clear()
        aws.reset_clients()
        parameters.reset()
        reset_engine()
        # Every function reads its parameters and secrets through the extension's API, as in AWS.
        self._extension = ParametersExtension()
        self._extension.start()
        os.environ[parameters.EXTENSION_PORT_ENV] = str(self._extension.port)
        settings = get_settings()
        create_sqlite_file(settings.sqlalchemy_url)
        migrate.upgrade(settings.sqlalchemy_url)
        queues = bootstrap(settings, s3_notifications=not self.persistent)
        if self.persistent:
            assert self.journal is not None and self.s3_front is not None
            self.restored = self.journal.restore(DEFAULT_ACCOUNT_ID, settings.region)
            self.s3_front.targets = [
                NotificationTarget(
                    n.consumer,
                    getattr(settings, n.bucket_setting),
                    n.prefix,
                    queues[n.consumer][0],
                )
                for n in resources.BUCKET_NOTIFICATIONS
            ]
            self.restored["notifications"] = self.s3_front.redrive_pending()
            seed_demo_charities()
        for sub in resources.EVENT_SUBSCRIPTIONS:
            url, arn = queues[sub.consumer]
            poller = SqsPoller(sub.consumer, url, arn, sub.module, sub.batch_size)
            poller.start()
            self.pollers.append(poller)
        for notification in resources.BUCKET_NOTIFICATIONS:
            url, arn = queues[notification.consumer]
            poller = SqsPoller(
                notification.consumer, url, arn, notification.module, notification.batch_size
            )
            poller.start()
            self.pollers.append(poller)
        for job in resources.SCHEDULED_JOBS:
            runner = ScheduledRunner(job)
            runner.start()
            self.pollers.append(runner)
        return settings

    @property
    def s3_endpoint(self) -> str | None:
        return os.environ.get("AWS_ENDPOINT_URL_S3") if self.persistent else None

    def _start_s3(self) -> None:
        """s3rver storing files under the data directory, the S3 front before it on ``s3_port``."""
        self.s3_server = S3Server(self.data_dir / "s3", log_path=self.data_dir / "s3rver.log")
        self.s3_server.start()
        self._pending_writes = PendingWrites(self.data_dir / "s3-pending-writes.sqlite3")
        self.s3_front = S3Front(self.s3_server.endpoint, pending=self._pending_writes)
        port = self.s3_port or remembered_port(self.data_dir / "s3-port")
        self._s3_front_server = uvicorn.Server(
            uvicorn.Config(
                self.s3_front, host=self.host, port=port, log_level="warning", lifespan="off"
            )
        )
        thread = threading.Thread(target=self._s3_front_server.run, name="s3-front", daemon=True)
        thread.start()
        deadline = time.monotonic() + 20
        while not self._s3_front_server.started:
            if time.monotonic() > deadline or not thread.is_alive():
                raise RuntimeError(f"the S3 endpoint could not listen on {self.host}:{port}")
            time.sleep(0.02)
        os.environ["AWS_ENDPOINT_URL_S3"] = f"http://{self.host}:{port}"

    def stop(self) -> None:
        for poller in self.pollers:
            poller.stop()
        for poller in self.pollers:
            poller.join(timeout=5)
        self.pollers.clear()
        reset_engine()
        if self._extension is not None:
            self._extension.stop()
            self._extension = None
        if self._s3_front_server is not None:
            self._s3_front_server.should_exit = True
            self._s3_front_server = None
        if self.s3_server is not None:
            self.s3_server.stop()
            self.s3_server = None
        if self.moto is not None:
            self.moto.stop()
            self.moto = None
        if self._pending_writes is not None:
            self._pending_writes.close()
            self._pending_writes = None
        if self.journal is not None:
            self.journal.close()
            self.journal = None
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    def app(self) -> Starlette:
        gateway = HttpGateway()
        methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"]

        async def healthz(_: Request) -> Response:
            return JSONResponse({"status": "ok"})

        async def openapi(_: Request) -> Response:
            return JSONResponse(merged_openapi())

        async def docs(_: Request) -> Response:
            return docs_html()

        async def api(request: Request) -> Response:
            return await gateway(request)

        # WebSocket APIs: the socket at /ws, @connections at the base URL (boto3's
        # apigatewaymanagementapi client with endpoint_url=<base URL>).
        sockets = [WebSocketGateway(definition) for definition in resources.WEBSOCKET_APIS]
        websocket_routes = [
            r
            for ws in sockets[:1]
            for r in (
                WebSocketRoute("/ws", ws.endpoint),
                Route(
                    "/@connections/{connection_id}",
                    ws.management,
                    methods=["GET", "POST", "DELETE"],
                ),
            )
        ]

        return Starlette(
            routes=[
                *websocket_routes,
                Route("/healthz", healthz, methods=["GET"]),
                Route("/openapi.json", openapi, methods=["GET"]),
                Route("/docs", docs, methods=["GET"]),
                Route("/{path:path}", api, methods=methods),
            ]
        )
