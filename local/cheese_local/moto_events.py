"""Make moto deliver events in the shapes AWS sends, so consumers validate them as in AWS.

moto 5 leaves out fields that AWS always sends and that Powertools' parser
models (rightly) require: ``account`` in EventBridge events delivered to a
target, and ``userIdentity``, ``requestParameters``, ``responseElements`` and
the bucket's ``ownerIdentity`` in S3 notifications. Without them every local
event would be refused as malformed.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote_plus

from cheese_local.events import s3_notification_record

_completed = False


def complete_moto_events() -> None:
    global _completed
    import moto.s3.notifications as s3_notifications
    from moto.events.utils import EventTemplateParser

    if _completed:
        return
    template = EventTemplateParser.DEFAULT_EVENT_INPUT_TEMPLATE
    if '"account"' not in template:
        # The input paths map already extracts "$.account"; the default template drops it.
        EventTemplateParser.DEFAULT_EVENT_INPUT_TEMPLATE = template.replace(
            '"version": "0",', '"version": "0", "account": "<account>",'
        )
    moto_s3_event = s3_notifications._get_s3_event

    def s3_event(event_name: str, bucket: Any, key: Any, notification_id: str) -> dict[str, Any]:
        event = moto_s3_event(event_name, bucket, key, notification_id)
        for record in event["Records"]:
            s3 = record["s3"]
            complete = s3_notification_record(
                s3["bucket"]["name"],
                unquote_plus(s3["object"]["key"]),
                s3["object"]["size"],
                record["eventName"],
            )
            record.update({k: v for k, v in complete.items() if k not in record})
            s3["bucket"].setdefault("ownerIdentity", {"principalId": bucket.account_id})
        return event

    s3_notifications._get_s3_event = s3_event
    _completed = True
