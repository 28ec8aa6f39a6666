"""The sysproxy thread pool (rumptools/sp/pool.py): roles on idle or new threads, the
thread limit (roles queue, none is refused), hand-off, and the fall back to keep_idle."""
import threading
import time

from rumptools.sp.pool import Pool


def wait_until(pred, timeout=10.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(0.01)
    return pred()


def test_past_the_thread_limit_roles_queue_and_all_run():
    pool = Pool(keep_idle=1, max_threads=2)
    gates = [threading.Event() for _ in range(4)]
    ran = []

    def role(i):
        ran.append(i)
        gates[i].wait(10)

    for i in range(4):
        pool.start(lambda i=i: role(i))
    assert wait_until(lambda: len(ran) == 2)
    assert pool.stats()["queued"] == 2 and pool.threads == 2
    gates[ran[0]].set()
    assert wait_until(lambda: len(ran) == 3)         # a thread that is done takes queued work
    for g in gates:
        g.set()
    assert wait_until(lambda: len(ran) == 4 and pool.stats()["queued"] == 0)
    assert wait_until(lambda: pool.threads == 1 and len(pool.idle) == 1)
    pool.close()
    assert wait_until(lambda: pool.threads == 0)


def test_handoff_moves_the_role_and_the_sleeper_comes_back_idle():
    pool = Pool(keep_idle=4)
    wake = threading.Event()
    seen = {}

    def second():
        seen["second"] = threading.get_ident()
        seen["stats"] = pool.stats()

    def first():
        seen["first"] = threading.get_ident()
        assert pool.is_reader()
        assert pool.handoff(second)
        assert not pool.is_reader()
        wake.wait(10)                # "asleep in a call" while the role goes on elsewhere

    pool.start(first)
    assert wait_until(lambda: "stats" in seen)
    assert seen["first"] != seen["second"]
    assert seen["stats"]["readers"] == 1 and seen["stats"]["parked"] == 1
    wake.set()
    assert wait_until(lambda: pool.stats() == {"readers": 0, "workers": 2, "idle": 2,
                                               "parked": 0, "queued": 0})
    assert not pool.handoff(second)          # not on a pool thread: nothing happens
    pool.close()


def test_threads_fall_back_to_keep_idle_after_a_burst():
    pool = Pool(keep_idle=3)
    gate = threading.Event()
    started = []

    def role():
        started.append(1)
        gate.wait(10)

    for _ in range(20):
        pool.start(role)
    assert wait_until(lambda: len(started) == 20)
    assert pool.threads == 20
    gate.set()
    assert wait_until(lambda: pool.threads == 3 and len(pool.idle) == 3)
    pool.close()
