#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
# The not-quite-SSH servers of tests/kernel/probe-ssh-banner.sh: each listens
# on ADDR PORT, serves every connection in a thread of its own, and writes
# READY once it listens.
#
#   ssh-banner-serve.py READY ADDR PORT close
#       accepts, then closes at once (a forwarder with nobody behind it)
#   ssh-banner-serve.py READY ADDR PORT reset
#       accepts, then resets (SO_LINGER 0)
#   ssh-banner-serve.py READY ADDR PORT silent
#       accepts, reads and discards, says nothing, closes when the peer does
#   ssh-banner-serve.py READY ADDR PORT send TEXT
#       accepts, sends TEXT (backslash escapes: \r \n \x15), then closes
#   ssh-banner-serve.py READY ADDR PORT split UP-ADDR UP-PORT
#       accepts, sends a line of its own, connects to UP-ADDR UP-PORT (a
#       real sshd), sends the upstream's identification line in two pieces
#       150 ms apart, then relays both ways: a real SSH server whose
#       identification comes after another line and in pieces
import os
import socket
import struct
import sys
import threading
import time


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def drain(conn):
    try:
        while conn.recv(4096):
            pass
    except OSError:
        pass


def pump(src, dst):
    try:
        while True:
            data = src.recv(4096)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    for s in (dst, src):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def split(conn, up_addr, up_port):
    up = socket.create_connection((up_addr, up_port), timeout=30)
    conn.sendall(b"Welcome to the test relay, SSH follows\r\n")
    line = b""
    while not line.endswith(b"\n"):
        b = up.recv(1)
        if not b:
            conn.close()
            up.close()
            return
        line += b
    half = len(line) // 2
    conn.sendall(line[:half])
    time.sleep(0.15)
    conn.sendall(line[half:])
    up.settimeout(None)
    t = threading.Thread(target=pump, args=(up, conn), daemon=True)
    t.start()
    pump(conn, up)
    t.join()
    conn.close()
    up.close()


def serve(conn, mode, args):
    try:
        if mode == "close":
            conn.close()
        elif mode == "reset":
            conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            conn.close()
        elif mode == "silent":
            drain(conn)
            conn.close()
        elif mode == "send":
            conn.sendall(args[0].encode().decode("unicode_escape").encode("latin-1"))
            conn.shutdown(socket.SHUT_WR)
            conn.settimeout(5)
            drain(conn)
            conn.close()
        elif mode == "split":
            split(conn, args[0], int(args[1]))
    except OSError:
        conn.close()


def main():
    if len(sys.argv) < 5:
        sys.stderr.write("usage: ssh-banner-serve.py READY ADDR PORT MODE [ARGS]\n")
        return 2
    ready, addr, port, mode, args = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5:]
    if mode not in ("close", "reset", "silent", "send", "split"):
        sys.stderr.write("ssh-banner-serve.py: unknown mode %s\n" % mode)
        return 2
    s = socket.socket(family(addr), socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(64)
    with open(ready + ".tmp", "w") as f:
        f.write("%d\n" % os.getpid())
    os.rename(ready + ".tmp", ready)
    while True:
        conn, _ = s.accept()
        threading.Thread(target=serve, args=(conn, mode, args), daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
