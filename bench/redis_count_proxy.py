#!/usr/bin/env python3
"""A TCP proxy in front of Redis that counts what townhalld sends it.

    bench/redis_count_proxy.py LISTEN_PORT REDIS_PORT CONTROL_PORT

Counts, per client connection, the commands (parsed RESP arrays) and the
round trips: a round trip is a run of commands the client sends before Redis
answers any of them (a pipeline, or an EvalBatched run, is one). Connections
that ever send a blocking read (XREAD ... BLOCK, the feed hubs, the
revocation watcher and the session cache's feed follower) are background and
counted apart, whatever they sent before it.

A connection to CONTROL_PORT gets one JSON line: the foreground totals
(`commands` by name, `round_trips`), the background totals, and Redis's own
INFO commandstats (`commandstats`: calls by command, commands called from
scripts included). Used by bench/rpc_cost.sh.
"""
import asyncio
import json
import sys


class Conn:
    def __init__(self):
        self.buf = b""
        self.commands = {}
        self.round_trips = 0
        self.awaiting_reply = False  # commands sent, no reply byte since
        self.background = False


CONNS = []


def parse_commands(conn):
    """Consumes complete RESP arrays from conn.buf; returns their names."""
    names = []
    buf = conn.buf
    pos = 0
    while True:
        if pos >= len(buf):
            break
        if buf[pos:pos + 1] != b"*":  # inline command: one line
            end = buf.find(b"\r\n", pos)
            if end < 0:
                break
            parts = buf[pos:end].split()
            pos = end + 2
            if parts:
                names.append([p.decode(errors="replace") for p in parts])
            continue
        end = buf.find(b"\r\n", pos)
        if end < 0:
            break
        count = int(buf[pos + 1:end])
        cur = end + 2
        args = []
        complete = True
        for _ in range(count):
            e = buf.find(b"\r\n", cur)
            if e < 0:
                complete = False
                break
            size = int(buf[cur + 1:e])
            if e + 2 + size + 2 > len(buf):
                complete = False
                break
            # Only the first few arguments matter (name, BLOCK).
            args.append(buf[e + 2:e + 2 + min(size, 16)].decode(errors="replace"))
            cur = e + 2 + size + 2
        if not complete:
            break
        names.append(args)
        pos = cur
    conn.buf = buf[pos:]
    return names


async def pipe_client(reader, writer, conn):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            conn.buf += data
            for args in parse_commands(conn):
                name = args[0].lower() if args else "?"
                if name in ("xread", "xreadgroup") and any(
                        a.upper() == "BLOCK" for a in args[1:]):
                    conn.background = True
                conn.commands[name] = conn.commands.get(name, 0) + 1
                if not conn.awaiting_reply:
                    conn.round_trips += 1
                    conn.awaiting_reply = True
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()


async def pipe_server(reader, writer, conn):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            conn.awaiting_reply = False
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass
    finally:
        writer.close()


async def handle(client_reader, client_writer, redis_port):
    conn = Conn()
    CONNS.append(conn)
    server_reader, server_writer = await asyncio.open_connection(
        "127.0.0.1", redis_port)
    await asyncio.gather(pipe_client(client_reader, server_writer, conn),
                         pipe_server(server_reader, client_writer, conn))


async def commandstats(redis_port):
    reader, writer = await asyncio.open_connection("127.0.0.1", redis_port)
    writer.write(b"*2\r\n$4\r\nINFO\r\n$12\r\ncommandstats\r\n")
    await writer.drain()
    header = await reader.readline()
    size = int(header[1:])
    body = await reader.readexactly(size + 2)
    writer.close()
    stats = {}
    for line in body.decode().splitlines():
        if line.startswith("cmdstat_"):
            name, fields = line[len("cmdstat_"):].split(":", 1)
            calls = fields.split(",")[0].split("=")[1]
            stats[name] = int(calls)
    return stats


async def control(reader, writer, redis_port):
    out = {"commands": {}, "round_trips": 0,
           "background": {"commands": {}, "round_trips": 0}}
    for c in CONNS:
        target = out["background"] if c.background else out
        target["round_trips"] += c.round_trips
        for k, v in c.commands.items():
            target["commands"][k] = target["commands"].get(k, 0) + v
    out["commandstats"] = await commandstats(redis_port)
    writer.write((json.dumps(out) + "\n").encode())
    await writer.drain()
    writer.close()


async def main():
    listen_port, redis_port, control_port = map(int, sys.argv[1:4])
    await asyncio.start_server(
        lambda r, w: handle(r, w, redis_port), "127.0.0.1", listen_port)
    await asyncio.start_server(
        lambda r, w: control(r, w, redis_port), "127.0.0.1", control_port)
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
