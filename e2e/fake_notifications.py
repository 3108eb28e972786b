"""A desktop notification server for the tests: owns org.freedesktop.Notifications on the bus at
argv[1] and writes each notification it is asked to show to argv[2], one JSON line each
({"summary": ..., "body": ...}), as a desktop would show it."""

import json
import sys

from jeepney import HeaderFields, MessageType, new_error, new_method_return
from jeepney.bus_messages import message_bus
from jeepney.io.blocking import open_dbus_connection

NAME = "org.freedesktop.Notifications"


def main(address: str, out_path: str) -> None:
    conn = open_dbus_connection(bus=address)
    reply = conn.send_and_get_reply(message_bus.RequestName(NAME))
    if reply.body[0] != 1:  # DBUS_REQUEST_NAME_REPLY_PRIMARY_OWNER
        raise SystemExit(f"could not own {NAME}: {reply.body}")
    print("ready", flush=True)
    shown = 0
    while True:
        msg = conn.receive()
        if msg.header.message_type != MessageType.method_call:
            continue
        member = msg.header.fields.get(HeaderFields.member)
        if member == "Notify":
            _app, _replaces, _icon, summary, body = msg.body[:5]
            shown += 1
            with open(out_path, "a") as out:
                out.write(json.dumps({"summary": summary, "body": body}) + "\n")
            conn.send(new_method_return(msg, "u", (shown,)))
        elif member == "GetServerInformation":
            conn.send(new_method_return(msg, "ssss", ("e2e", "mes", "1", "1.2")))
        elif member == "GetCapabilities":
            conn.send(new_method_return(msg, "as", (["body"],)))
        elif member == "CloseNotification":
            conn.send(new_method_return(msg))
        else:
            conn.send(new_error(msg, "org.freedesktop.DBus.Error.UnknownMethod"))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
