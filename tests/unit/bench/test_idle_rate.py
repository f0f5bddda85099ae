"""What `hocba bench peak` takes out of its CPU per record as the idle stack's: only the stack's own processes."""

from types import SimpleNamespace

from cli.bench.peak_sampler import _Watched, own_platform_cpu


def _watched(pid: int, kind: str, *, shared: bool = False) -> _Watched:
    return _Watched(f"p{pid}", kind, SimpleNamespace(pid=pid), shared=shared)


def test_the_idle_rate_counts_the_stack_s_own_processes_not_a_shared_server_or_the_stand_ins():
    watched = [
        _watched(1, "service"),
        _watched(2, "relay"),
        _watched(3, "postgres"),  # this stack's own database backend
        _watched(4, "postgres", shared=True),  # backends that ended anywhere on the server: others' work too
        _watched(5, "broker", shared=True),  # the RabbitMQ node, which other runs use meanwhile
        _watched(6, "stand-in"),
        _watched(7, "service"),  # started after the first reading: not counted
    ]
    before = {1: 10.0, 2: 1.0, 3: 0.5, 4: 100.0, 5: 50.0, 6: 3.0}
    after = {1: 10.4, 2: 1.1, 3: 0.7, 4: 130.0, 5: 65.0, 6: 9.0, 7: 2.0}
    assert round(own_platform_cpu(before, after, watched), 6) == 0.7


def test_the_ledger_counts_each_own_backend_from_the_mark_the_ended_ones_up_to_their_last_reading():
    from cli.bench.peak_sampler import BackendLedger

    ledger = BackendLedger()
    ledger.read({10: ("postgres signing", 5.0), 11: ("postgres audit", 1.0)}, at_mark=True)
    ledger.read({10: ("postgres signing", 6.0), 11: ("postgres audit", 1.5), 12: ("postgres signing", 0.3)})
    # 12 ended (an overflow connection given back), 11's pid now a new backend of another database
    ledger.read({10: ("postgres signing", 7.5), 11: ("postgres sync", 0.2)})
    assert ledger.totals() == {
        "postgres signing": 2.5
        + 0.3,  # 10 from the mark; 12 started during the run, counted from 0 to its last
        "postgres audit": 0.5,
        "postgres sync": 0.2,
    }
    ledger.read({10: ("postgres signing", 0.1)})  # a pid reused by the same database's new backend
    assert ledger.totals()["postgres signing"] == 2.5 + 0.3 + 0.1
    assert ledger.backends() == 5  # 10, 11, 12, 11 again, 10 again
