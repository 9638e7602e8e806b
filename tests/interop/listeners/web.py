"""A tiny HTTP server for the httpok test.

    web.py PORT TRIGGER

Answers `GET /` with 200 `ok`. Once the file TRIGGER exists it stops answering: it keeps
its listening socket open but never accepts again, so a client connects and then times out.
At start-up it removes TRIGGER, so a restarted instance answers again.
"""
import os
import socket
import sys


def main(argv):
    port, trigger = int(argv[1]), argv[2]
    try:
        os.unlink(trigger)
    except FileNotFoundError:
        pass
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(('127.0.0.1', port))
    srv.listen(16)
    srv.settimeout(0.05)
    while True:
        if os.path.exists(trigger):
            # hung: the socket stays open (connections queue up unanswered)
            import signal
            while True:
                signal.pause()
        try:
            conn, _ = srv.accept()
        except socket.timeout:
            continue
        with conn:
            conn.settimeout(5)
            data = b''
            try:
                while b'\r\n\r\n' not in data:
                    chunk = conn.recv(4096)
                    if not chunk:
                        break
                    data += chunk
                conn.sendall(b'HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n'
                             b'Content-Length: 2\r\n\r\nok')
            except OSError:
                pass


if __name__ == '__main__':
    main(sys.argv)
