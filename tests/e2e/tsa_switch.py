"""A TSA of the chaos stack's own that the monkey can switch off: a TCP relay in front of the machine's Animator.

The test PKI's Animator (its TSA and CRLs) is one process per machine, on the port its certificates name, and other
tests running beside this one use it: killing it would fail them. So the chaos stack's signing service is pointed
(``HOCBA_TSA_URL``) at this relay instead, on a port of its own. Switched on, it carries each connection to the
Animator byte for byte; switched off, it drops the connections it carries and resets each new one as soon as it is
accepted, so every timestamp request of this stack fails exactly as against a dead TSA (httpx raises, the signing
service's TSA-failure path runs) while the CRLs, fetched from the Animator directly, and every other stack's
timestamps are untouched. Each connection turned away is counted.

The test process runs under eventlet, so its threads are green: a socket is closed only by the thread that waits on
it (closing it under another's wait leaves the hub a listener on a number the next socket reuses). The others only
shut it down, which wakes its own thread.
"""

from __future__ import annotations

import contextlib
import selectors
import socket
import struct
import threading


class TsaSwitch:
    def __init__(self, upstream_port: int, path: str = "/hocba/tsa/tsa") -> None:
        self.upstream_port = upstream_port
        self.path = path
        self.refused = 0  # connections turned away while off
        self.carried = 0  # connections carried to the Animator while on
        self._on = True
        self._lock = threading.Lock()
        self._live: set[socket.socket] = set()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._closed = False
        self._threads = [threading.Thread(target=self._accept, name="tsa-switch", daemon=True)]
        self._threads[0].start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{self.path}"

    def off(self) -> None:
        """Every timestamp request fails from now on: the connections being carried are dropped too (an httpx
        client would otherwise go on through its kept-alive one)."""
        with self._lock:
            self._on = False
            live, self._live = list(self._live), set()
        for sock in live:
            # Its pipe thread wakes up to the shutdown and closes it (with a reset: the linger set here).
            _linger_zero(sock)
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)

    def on(self) -> None:
        with self._lock:
            self._on = True

    def close(self) -> None:
        """Every connection dropped and every thread of the switch ended (each closing its own sockets)."""
        self._closed = True
        self.off()
        with contextlib.suppress(OSError):
            socket.create_connection(("127.0.0.1", self.port), timeout=5).close()  # wakes the accept loop
        for thread in list(self._threads):
            thread.join(10)

    def _accept(self) -> None:
        try:
            self._serve()
        finally:
            self._listener.close()

    def _serve(self) -> None:
        while True:
            client, _ = self._listener.accept()
            if self._closed:
                client.close()
                return
            with self._lock:
                on = self._on
                if not on:
                    self.refused += 1
            if not on:
                _reset(client)
                continue
            try:
                upstream = socket.create_connection(("127.0.0.1", self.upstream_port), timeout=5)
            except OSError:
                _reset(client)
                continue
            with self._lock:
                self.carried += 1
                self._live.update((client, upstream))
            pipe = threading.Thread(target=self._pipe, args=(client, upstream), daemon=True)
            self._threads.append(pipe)
            pipe.start()

    def _pipe(self, client: socket.socket, upstream: socket.socket) -> None:
        """Both directions of one connection until either side closes (or the switch drops it)."""
        other = {client: upstream, upstream: client}
        with selectors.DefaultSelector() as selector:
            for sock in other:
                sock.setblocking(False)
                selector.register(sock, selectors.EVENT_READ)
            try:
                while True:
                    for key, _ in selector.select(timeout=30):
                        sock = key.fileobj
                        assert isinstance(sock, socket.socket)
                        data = sock.recv(65536)
                        if not data:
                            return
                        other[sock].setblocking(True)
                        other[sock].sendall(data)
                        other[sock].setblocking(False)
            except (OSError, ValueError):
                return  # reset by the switch or by either side
            finally:
                with self._lock:
                    self._live.difference_update(other)
                for sock in other:
                    selector.unregister(sock)
                    with contextlib.suppress(OSError):
                        sock.close()
                self._threads.remove(threading.current_thread())


def _linger_zero(sock: socket.socket) -> None:
    """Closing ``sock`` will send a TCP reset, as a peer that died would leave the connection."""
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


def _reset(sock: socket.socket) -> None:
    _linger_zero(sock)
    with contextlib.suppress(OSError):
        sock.close()
