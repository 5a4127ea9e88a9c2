"""The whole backend on one machine: moto's server, the database, the gateway, the workers."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path

from moto.server import ThreadedMotoServer
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute

from cheese_local.bootstrap import bootstrap
from cheese_local.gateway import HttpGateway, docs_html, merged_openapi
from cheese_local.websocket import WebSocketGateway
from cheese_local.workers import ScheduledRunner, SqsPoller
from cheese_runtime import aws, resources
from cheese_runtime.db import migrate
from cheese_runtime.db.session import reset_engine
from cheese_runtime.settings import Settings, get_settings

LOCAL_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "local",
    "AWS_SECRET_ACCESS_KEY": "local",
    "AWS_DEFAULT_REGION": "us-east-1",
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_DISABLED": "true",
    "POWERTOOLS_LOG_LEVEL": "WARNING",
}


def make_dynamodb_atomic() -> None:
    """Serialize moto's DynamoDB item operations, as DynamoDB makes each conditional write atomic.

    moto's server handles requests on threads and checks conditions before
    applying writes without a lock, so two racing conditional writes (the
    last seat of a pool) could both succeed locally, which DynamoDB never allows.
    """
    import functools
    import threading

    from moto.dynamodb.models import DynamoDBBackend

    if getattr(DynamoDBBackend, "_cheese_atomic", False):
        return
    _item_level_transaction_rollback(
        DynamoDBBackend
    )  # inside the lock below: snapshots are current
    lock = threading.RLock()
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
        def locked(self, *args, __original=original, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
            with lock:
                return __original(self, *args, **kwargs)

        setattr(DynamoDBBackend, name, locked)
    DynamoDBBackend._cheese_atomic = True


def _item_level_transaction_rollback(backend_class: type) -> None:
    """moto backs up every table a transaction touches with a deep copy of the whole table
    (O(table size) per TransactWriteItems); back up only the transaction's items instead."""
    import copy

    import moto.dynamodb.models as dynamodb_models
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    class _NoTableCopy:
        """moto's module-level ``copy``: deep copies of whole tables become no-ops."""

        def __getattr__(self, name: str):  # noqa: ANN204
            return getattr(copy, name)

        @staticmethod
        def deepcopy(value, memo=None):  # noqa: ANN001, ANN205
            return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    dynamodb_models.copy = _NoTableCopy()
    transact = backend_class.transact_write_items

    def transact_write_items(self, transact_items, *args, **kwargs):  # noqa: ANN001, ANN002, ANN003, ANN202
        saved = []
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

    backend_class.transact_write_items = transact_write_items


@dataclass
class LocalStack:
    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 8000
    database_url: str | None = None
    pollers: list[SqsPoller] = field(default_factory=list)
    moto: ThreadedMotoServer | None = None

    def start(self) -> Settings:
        """Start moto, point boto3 at it, migrate the database, create resources, start workers."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        logging.getLogger("werkzeug").setLevel(logging.ERROR)
        make_dynamodb_atomic()
        self.moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        self.moto.start()
        moto_host, moto_port = self.moto.get_host_and_port()
        for key, value in LOCAL_ENVIRONMENT.items():
            os.environ.setdefault(key, value)
        os.environ["AWS_ENDPOINT_URL"] = f"http://{moto_host}:{moto_port}"
        os.environ["CHEESE_DATA_DIR"] = str(self.data_dir)
        os.environ["CHEESE_STAGE"] = "local"
        # The @connections endpoint of the local WebSocket API (served by app() below).
        os.environ["CHEESE_WEBSOCKET_ENDPOINT"] = f"http://{self.host}:{self.port}"
        if self.database_url:
            os.environ["DATABASE_URL"] = self.database_url
        get_settings.cache_clear()
        aws.reset_clients()
        reset_engine()
        settings = get_settings()
        migrate.upgrade(settings.sqlalchemy_url)
        queues = bootstrap(settings)
        for sub in resources.EVENT_SUBSCRIPTIONS:
            url, arn = queues[sub.consumer]
            poller = SqsPoller(sub.consumer, url, arn, sub.module)
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

    def stop(self) -> None:
        for poller in self.pollers:
            poller.stop()
        for poller in self.pollers:
            poller.join(timeout=5)
        self.pollers.clear()
        reset_engine()
        if self.moto is not None:
            self.moto.stop()
            self.moto = None

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
