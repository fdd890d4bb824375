"""A peer written with pika (Python), for the interoperability tests.

    pika_peer.py publish URL QUEUE JSON   publish one message: {"body", "content_type", "headers", "message_id"}
    pika_peer.py consume URL QUEUE COUNT  consume COUNT messages and print each as a JSON line
"""
import base64
import datetime
import json
import sys

import pika


def to_json(value):
    """Header values as JSON: bytes as {"bytes": base64}, timestamps as {"timestamp": seconds}."""
    if isinstance(value, dict):
        return {key: to_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [to_json(item) for item in value]
    if isinstance(value, bytes):
        return {"bytes": base64.b64encode(value).decode()}
    if isinstance(value, datetime.datetime):
        return {"timestamp": int(value.replace(tzinfo=datetime.timezone.utc).timestamp())}
    return value


def publish(url, queue, message):
    connection = pika.BlockingConnection(pika.URLParameters(url))
    channel = connection.channel()
    channel.confirm_delivery()
    channel.basic_publish(
        exchange="",
        routing_key=queue,
        body=message["body"].encode(),
        properties=pika.BasicProperties(
            content_type=message.get("content_type"),
            headers=message.get("headers"),
            message_id=message.get("message_id"),
            delivery_mode=2,
        ),
        mandatory=True,
    )
    connection.close()


def consume(url, queue, count):
    connection = pika.BlockingConnection(pika.URLParameters(url))
    channel = connection.channel()
    received = 0
    for method, properties, body in channel.consume(queue, inactivity_timeout=20):
        if method is None:
            sys.exit("pika: no message within 20 s")
        print(json.dumps({
            "body": body.decode(),
            "content_type": properties.content_type,
            "message_id": properties.message_id,
            "headers": to_json(properties.headers or {}),
        }), flush=True)
        channel.basic_ack(method.delivery_tag)
        received += 1
        if received == count:
            break
    channel.cancel()
    connection.close()


if __name__ == "__main__":
    mode, url, queue, argument = sys.argv[1:5]
    if mode == "publish":
        publish(url, queue, json.loads(argument))
    else:
        consume(url, queue, int(argument))
