#!/usr/bin/env python3
"""Slowloris against a Vireo server, for the integration suite (tests/integration/hostile.rs).

Opens COUNT TCP connections to HOST:PORT, spread over the given local source addresses (any of
127.0.0.0/8 on Linux), sends each a half request head (`GET / HTTP/1.1\\r\\nHost: x\\r\\n`, never
finished) and holds them all. Prints one JSON line when every connection is open (`opened`, and
`refused`: connects that failed), then waits for a line on standard input, counts the
connections the server has closed meanwhile, prints a second JSON line (`closed`, `still_open`)
and exits.

Usage: slowloris.py HOST PORT COUNT SOURCE_ADDRESS...
"""

import json
import socket
import sys

HEAD = b"GET / HTTP/1.1\r\nHost: x\r\n"
IP_BIND_ADDRESS_NO_PORT = 24  # Linux <linux/in.h>; not in Python's socket module


def main():
    host, port, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    sources = sys.argv[4:] or ["127.0.0.1"]
    held, refused = [], 0
    for i in range(count):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # Let connect() pick the source port: binding with port 0 first searches the port space
        # on every bind, which made opening 20 000 connections take a minute and a half.
        s.setsockopt(socket.IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, 1)
        try:
            s.bind((sources[i % len(sources)], 0))
            s.settimeout(5)
            s.connect((host, port))
            s.sendall(HEAD)
            held.append(s)
        except OSError:
            refused += 1
            s.close()
    print(json.dumps({"opened": len(held), "refused": refused}), flush=True)
    sys.stdin.readline()
    closed = 0
    for s in held:
        s.setblocking(False)
        try:
            if s.recv(1) == b"":
                closed += 1
        except BlockingIOError:
            pass
        except OSError:
            closed += 1
    print(json.dumps({"closed": closed, "still_open": len(held) - closed}), flush=True)


if __name__ == "__main__":
    main()
