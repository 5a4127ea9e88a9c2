"""The local @connections endpoint serves only SigV4-signed requests, as API Gateway does."""

from __future__ import annotations

import json
from typing import Any

import boto3
import httpx
import pytest
from botocore.exceptions import ClientError
from websockets.sync.client import connect


def connection_id_of(user_id: str) -> str:
    from cheese_runtime.settings import get_settings
    from functions.pool import dal

    dynamodb = boto3.client("dynamodb")
    ids = [
        dal.de(item)["connection_id"]
        for shard in range(dal.AGE_SHARDS)
        for item in dynamodb.query(
            TableName=get_settings().pool_connections_table,
            IndexName="by-age",
            KeyConditionExpression="age_shard = :s",
            ExpressionAttributeValues={":s": {"S": f"AGE#{shard}"}},
        )["Items"]
        if dal.de(item)["user_id"] == user_id
    ]
    assert len(ids) == 1
    return ids[0]


def management(base_url: str, **credentials: str) -> Any:
    return boto3.client(
        "apigatewaymanagementapi", endpoint_url=base_url, region_name="us-east-1", **credentials
    )


@pytest.fixture
def websocket_endpoint(http_base_url: str, monkeypatch: pytest.MonkeyPatch) -> Any:
    """The pool function posts its replies to this stack's @connections endpoint."""
    from cheese_runtime.settings import get_settings

    monkeypatch.setenv("CHEESE_WEBSOCKET_ENDPOINT", http_base_url)
    get_settings.cache_clear()
    yield http_base_url
    monkeypatch.undo()
    get_settings.cache_clear()


def test_only_signed_requests_reach_or_close_a_users_socket(
    make_user: Any, websocket_endpoint: str
) -> None:
    http_base_url = websocket_endpoint
    user = make_user("socket")
    ws_url = http_base_url.replace("http://", "ws://") + "/ws"
    with connect(f"{ws_url}?token={user.access_token}", open_timeout=10) as ws:
        ws.send(json.dumps({"action": "ping", "ref": "p"}))
        assert json.loads(ws.recv(timeout=5))["type"] == "pong"
        connection_id = connection_id_of(user.id)
        url = f"{http_base_url}/@connections/{connection_id}"

        unsigned_post = httpx.post(url, content=b'{"type":"forged"}')
        assert unsigned_post.status_code == 403
        assert unsigned_post.json() == {"message": "Missing Authentication Token"}
        assert httpx.delete(url).status_code == 403
        assert httpx.get(url).status_code == 403

        for wrong in (
            {"aws_access_key_id": "local", "aws_secret_access_key": "not-the-secret"},
            {"aws_access_key_id": "someone-else", "aws_secret_access_key": "testing"},
        ):
            with pytest.raises(ClientError) as refused:
                management(http_base_url, **wrong).post_to_connection(
                    ConnectionId=connection_id, Data=b'{"type":"forged"}'
                )
            assert refused.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
            with pytest.raises(ClientError):
                management(http_base_url, **wrong).delete_connection(ConnectionId=connection_id)

        # A signature for another body does not carry over to this one.
        signed = management(http_base_url)
        captured: dict[str, Any] = {}
        signed.meta.events.register(
            "before-send.apigatewaymanagementapi.PostToConnection",
            lambda request, **_: captured.update(headers=dict(request.headers)),
        )
        signed.post_to_connection(ConnectionId=connection_id, Data=b'{"type":"genuine"}')
        replayed = httpx.post(
            url,
            content=b'{"type":"forged"}',
            headers={k: v for k, v in captured["headers"].items() if k.lower() != "content-length"},
        )
        assert replayed.status_code == 403

        # The socket saw only the genuine frame and is still open.
        assert json.loads(ws.recv(timeout=5)) == {"type": "genuine"}
        ws.send(json.dumps({"action": "ping", "ref": "q"}))
        assert json.loads(ws.recv(timeout=5))["type"] == "pong"
