"""A local stack under supervision: services, relays and stand-ins started together and stopped together.

Every service and its relay run as a process of their own, as in production, beside the sandbox's stand-ins, all on
this stack's ports; `hocba up`, the demo, the benchmarks and the tests start stacks this way.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from rich.console import Console

from cli.registry import ANIMATOR_PORT, SERVICES, entry, gateway_url, issuer_url, local_url, stand_in_port
from sandbox.ports import answers

# What a stack's service and relay processes run (`python -m cli.processes run|relay NAME`): `hocba run` and `hocba
# relay` without the whole command line.
STACK_ENTRY = "cli.processes"
REPLICA_PORT_STEP = 10  # replica k of a service serves HTTP on its port + k * 10 (8001, 8011, 8021…)


def stack_env(env: dict[str, str] | None = None) -> dict[str, str]:
    """The environment every process of a local stack runs with: where the others answer, on this stack's ports."""
    return {
        **os.environ,
        "HOCBA_GATEWAY_URL": gateway_url(),
        # Signing fetches unsigned documents from transcript, sync sealed ones from signing: with a port offset
        # they must reach this stack's, not whatever answers on the default ports.
        "HOCBA_TRANSCRIPT_URL": local_url("transcript"),
        "HOCBA_SIGNING_URL": local_url("signing"),
        # Services get their service-to-service tokens from this stack's development issuer.
        "HOCBA_OAUTH_TOKEN_URL": f"{issuer_url()}/token",
        **(env or {}),
    }


def as_own_broker_user(args: list[str], env: dict[str, str]) -> dict[str, str]:
    """``env`` for the process ``hocba <args>``: a service (``run <name>``) or a relay (``relay <name>``) logs in to
    the broker as its own user, whose password derives from the development secret (`hocba broker setup` created
    it with exactly its row of runtime/broker_access.py's table), and declares no shared exchange. Without that
    secret, ``env`` unchanged."""
    from services.runtime.broker_access import amqp_uri_as, relay_principal
    from services.runtime.settings import get_settings

    args = [a for a in args if a not in ("cli.main", STACK_ENTRY)]  # the module, when given: run by `-m`
    settings = get_settings()
    if len(args) < 2 or args[0] not in ("run", "relay") or settings.broker_user_secret is None:
        return env
    principal = args[1] if args[0] == "run" else relay_principal(args[1])
    settings = settings.model_copy(update={"amqp_uri": env.get("HOCBA_AMQP_URI", settings.amqp_uri)})
    # Its user may not configure the shared exchanges: `hocba broker setup` declared them.
    return {**env, "HOCBA_AMQP_URI": amqp_uri_as(principal, settings), "HOCBA_DECLARE_EXCHANGES": "false"}


def _die_with_parent() -> None:
    """In the child, before exec: the kernel sends SIGTERM when the thread that started it ends (a killed test run
    or `hocba up` leaves no service, relay or stand-in behind on the machine's ports)."""
    _PRCTL(_PR_SET_PDEATHSIG, signal.SIGTERM)


_PR_SET_PDEATHSIG = 1
_PRCTL = ctypes.CDLL(None, use_errno=True).prctl if sys.platform == "linux" else (lambda *_: 0)


def launch(args: list[str], log: Path | None, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """``python -m <args>`` in its own session (Ctrl-C reaches only `hocba up`), output appended to ``log``; it
    dies with the thread that launched it, so launch from a thread that lives as long as the process should."""
    out = None
    if log is not None:
        log.parent.mkdir(parents=True, exist_ok=True)
        out = log.open("ab")
    try:
        return subprocess.Popen(
            [sys.executable, "-m", *args],
            start_new_session=True,
            stdout=out,
            stderr=out,
            env=env,
            preexec_fn=_die_with_parent,  # one prebound libc call: no Python lock is taken in the child
        )
    finally:
        if out is not None:
            out.close()  # the child holds its own copy


def _stand_ins(names: list[str]) -> list[tuple[list[str], int]]:
    """Development stand-ins for what a province provides, with the port each serves: the development token issuer,
    the test PKI's TSA/CRLs, a remote signing service, the receiving gateway with its lookup portal (checking
    signatures with our verifier)."""
    stand_ins: list[tuple[list[str], int]] = []
    if {"signing", "sync"} & set(names):
        issuer = stand_in_port("issuer")
        stand_ins.append((["sandbox.issuer", "--port", str(issuer)], issuer))
    if "signing" in names:
        signer = stand_in_port("remote_signer")
        stand_ins += [
            (["sandbox.pki.animator"], ANIMATOR_PORT),
            (["sandbox.remote_signer", "--port", str(signer)], signer),
        ]
    if "sync" in names:
        gateway, admin = stand_in_port("gateway"), stand_in_port("gateway_admin")
        verifier = "services.signing.verifier:check"
        serve = ["sandbox.gateway", "serve", "--port", str(gateway), "--admin-port", str(admin)]
        stand_ins.append(([*serve, "--verifier", verifier], gateway))
    return stand_ins


def spawn_stack(
    names: list[str], log_dir: Path | None = None, env: dict[str, str] | None = None, replicas: int = 1
) -> list[subprocess.Popen[bytes]]:
    """One process per service and one relay per service, as in production (separate pods).

    ``replicas`` runs that many of each (they share the work through the broker's queues and SKIP LOCKED rows);
    replica 0 keeps the usual port. Without ``log_dir`` their JSON logs go to this terminal; with it, to
    ``<log_dir>/<process>.log``.
    """
    full_env = stack_env(env)
    stand_ins = _stand_ins(names)
    # The Animator is the test PKI's published address, one per machine: another stack may already serve it. Every
    # other port is this stack's own; one already answering is another stack's, never to be adopted by this one.
    taken = [port for args, port in stand_ins if port != ANIMATOR_PORT and answers(port)]
    taken += [entry(name).port for name in names if answers(entry(name).port)]
    if "sync" in names and answers(stand_in_port("gateway_admin")):
        taken.append(stand_in_port("gateway_admin"))
    if taken:
        raise SystemExit(
            f"ports {', '.join(map(str, taken))} already answer: another stack runs here "
            "(stop it, or set HOCBA_PORT_OFFSET for this one)"
        )
    procs = []
    for name in names:
        port = entry(name).port
        for k in range(replicas):
            for args in (
                ["run", name, *(["--port", str(port + k * REPLICA_PORT_STEP)] if k else [])],
                ["relay", name],
            ):
                log = (
                    log_dir / f"{'-'.join(args[:2])}{f'-{k}' if k else ''}.log"
                    if log_dir is not None
                    else None
                )
                procs.append(launch([STACK_ENTRY, *args], log, as_own_broker_user(args, full_env)))
    for args, port in stand_ins:
        if port == ANIMATOR_PORT and answers(port):
            continue
        log = log_dir / f"{args[0]}.log" if log_dir is not None else None
        procs.append(launch(args, log, full_env))
    return procs


def stop_stack(procs: list[subprocess.Popen[bytes]], timeout: float = 20) -> None:
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for p in procs:
        try:
            p.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def supervise(names: list[str], console: Console) -> int:
    """Run ``names`` and their relays until Ctrl-C or SIGTERM (then stop them cleanly: 0) or until one of them
    exits (then stop the rest: 1)."""
    # SIGTERM stops the children too, like Ctrl-C; and SIGINT is handled even when `hocba up` was started in the
    # background by a non-interactive shell, which starts it with SIGINT ignored (Python then leaves it ignored).
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    procs = spawn_stack(names)
    console.print(
        f"running {', '.join(names)} (+ relays); "
        + ", ".join(f"{n} http://127.0.0.1:{SERVICES[n].port}" for n in names)
        + "; Ctrl-C stops"
    )
    try:
        while all(p.poll() is None for p in procs):
            time.sleep(0.5)
        for p in procs:
            if p.returncode is not None:
                command = " ".join(str(a) for a in p.args[2:])  # type: ignore[index]  # after `python -m`
                console.print(f"[red]{command} exited with {p.returncode}; stopping the rest[/red]")
        return 1
    except KeyboardInterrupt:
        console.print("stopping…")
        return 0
    finally:
        stop_stack(procs)
