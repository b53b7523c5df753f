"""A compiled twin of the SimPy queue in :func:`simulator.queue_window.simulate_pool_window`.

The SimPy model stays the reference; this module replays *the same* event
sequence in numba so big windows (study B: ~100k contacts a day) take well
under a second instead of ~16 s. It takes the pre-drawn arrivals (times, class,
handle time) and the shift rota and returns each contact's wait and the busy
agent-hours — bit for bit what the SimPy path produces
(``tests/test_queue_twin.py``).

What is mirrored, and why it is exact
-------------------------------------
SimPy keeps a heap of ``(time, priority, event id)``; ``URGENT`` (0) events
come before ``NORMAL`` (1) ones at the same time, and ids grow in scheduling
order. The twin keeps a heap with the same key, holding only the events that
have an effect, scheduled at the same moments in the same order (skipped
events — a granted off-duty request's own event, a finished process's event —
have no callbacks that do anything, and skipping them keeps the relative order
of the others). Times are computed with the same floating-point operations
(``now + (t - now)`` for a timeout to ``t``, ``start + handle`` for a service).

The events, as SimPy runs them:

* rota (a process): at each shift change ``t = day * 24 + h`` it wants
  ``cap - staff_at(h)`` slots blocked. While it holds too many it pops its most
  recent "off duty" request: a request still waiting is cancelled (removed
  from the queue), a granted one is released (the slot is free at once; a
  ``Release`` event, processed later at the same time, grants the head of
  the queue). While it holds too few it makes a new request. Off-duty
  requests have priority ``-10**9`` and so sit ahead of every contact; among
  themselves they are granted in the order made, so the granted ones are
  always the oldest: two counters (granted, waiting) describe the held list.
* source (a process): sleeps until each arrival time and starts a contact
  process (an ``Initialize`` event, ``URGENT``).
* contact: on ``Initialize`` it makes its request (queued by priority, then
  request time, then — a stable sort — order made, i.e. FIFO within a
  class); when the request event is processed it records the wait and sleeps
  for its handle time; then it releases its slot (``Release`` event).
* ``PriorityResource._trigger_put`` grants at most **one** request — the head
  of the queue — per call (``_do_put`` returns ``None``, which stops the
  loop), and is called when a request is made and when a ``Release`` event is
  processed. The twin does the same.
* ``env.run(until=T)`` puts an ``URGENT`` stop event at ``T`` (id 2), so only
  events strictly before ``T`` run.

Cost does not grow with idle staff: a shift change that frees k slots makes k
``Release`` events in SimPy; they are consecutive in the heap, so the twin
pushes one event standing for k grant checks (stopping when nothing waits),
and new off-duty requests are counted, not looped over. An event that would be the
very next one anyway is handled in place, its id used up, without the heap: a
contact's ``Initialize`` when the source wakes for it, and, when nothing else is due at
that moment, the ``Release`` after a service and a request's grant.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from simulator import threads as _threads  # noqa: F401 - compiled code's cache folder

# event kinds
_ROTA = 0  # the rota process resumes (Initialize at 0, then its timeouts)
_SOURCE = 1  # the source process resumes
_INIT = 2  # a contact process starts: it makes its request
_GRANT = 3  # a contact's request event is processed: wait recorded, service starts
_DONE = 4  # a contact's service ends: busy time booked, slot released
_RELEASE = 5  # a Release event is processed: the head of the queue may be granted

URGENT = 0
NORMAL = 1
_U0, _U1 = np.uint64(0), np.uint64(1)  # unsigned heap positions
OFF_DUTY_PRIORITY = 10**9  # classes must rank below the off-duty requests


@njit(cache=True, inline="always")
def _less(ta, ka, tb, kb):
    return ta < tb or (ta == tb and ka < kb)


@njit(cache=True, inline="always")
def _push(ht, hk, hkind, hpay, size, t, key, kind, pay):
    """Push onto the binary heap (arrays grow by doubling); return the arrays and size.

    Heap positions are unsigned (``_U1``): numba then leaves out the negative-index test.
    """
    if size == ht.shape[0]:
        m = 2 * size
        nt = np.empty(m, np.float64)
        nk = np.empty(m, np.int64)
        nkind = np.empty(m, np.int64)
        npay = np.empty(m, np.int64)
        nt[:size] = ht[:size]
        nk[:size] = hk[:size]
        nkind[:size] = hkind[:size]
        npay[:size] = hpay[:size]
        ht, hk, hkind, hpay = nt, nk, nkind, npay
    j = np.uint64(size)
    while j > _U0:
        parent = (j - _U1) >> _U1
        if _less(t, key, ht[parent], hk[parent]):
            _move(ht, hk, hkind, hpay, j, parent)
            j = parent
        else:
            break
    ht[j] = t
    hk[j] = key
    hkind[j] = kind
    hpay[j] = pay
    return ht, hk, hkind, hpay, size + 1


@njit(cache=True, inline="always")
def _move(ht, hk, hkind, hpay, dst, src):
    """Copy heap entry ``src`` to slot ``dst`` (all four parallel arrays)."""
    ht[dst] = ht[src]
    hk[dst] = hk[src]
    hkind[dst] = hkind[src]
    hpay[dst] = hpay[src]


@njit(cache=True, inline="always")
def _pop_into(ht, hk, hkind, hpay, size):
    """Remove the root (caller has read it); return the new size (positions unsigned)."""
    size -= 1
    if size == 0:
        return 0
    last = np.uint64(size)
    t = ht[last]
    key = hk[last]
    kind = hkind[last]
    pay = hpay[last]
    j = _U0
    while True:
        c = j + j + _U1
        if c >= last:
            break
        if c + _U1 < last and _less(ht[c + _U1], hk[c + _U1], ht[c], hk[c]):
            c += _U1
        if _less(ht[c], hk[c], t, key):
            _move(ht, hk, hkind, hpay, j, c)
            j = c
        else:
            break
    ht[j] = t
    hk[j] = key
    hkind[j] = kind
    hpay[j] = pay
    return size


@njit(cache=True)
def run_queue(times, rank, handle, n_ranks, change_hours, want, days, cap, warm, horizon,
              t_end):
    """Replay the SimPy queue. Returns (wait per contact, NaN if never answered; busy hours).

    ``rank[i]`` is contact i's class rank, 0 = served first (highest priority).
    ``change_hours``/``want`` are the shift changes within a day and the number of
    slots to block from each; the rota runs for ``days + 1`` days (the caller
    makes that cover the run-out after the last arrival). Waits are recorded for
    every contact, warm-up included (the caller selects).
    """
    n = times.shape[0]
    waits = np.full(n, np.nan)
    start = np.empty(n)
    # per-class FIFO as linked lists of contact indices
    qhead = np.full(n_ranks, -1, np.int64)
    qtail = np.full(n_ranks, -1, np.int64)
    qnext = np.full(n, -1, np.int64)
    queued = 0  # contacts waiting
    off_wait = 0  # off-duty requests waiting (they head the queue)
    off_held = 0  # off-duty requests granted (holding a slot)
    users = 0  # slots in use (contacts in service + granted off-duty)
    busy = 0.0
    n_changes = change_hours.shape[0]
    # the event heap: key = priority << 62 | sequence
    m0 = 1024  # grows by doubling
    ht = np.empty(m0, np.float64)
    hk = np.empty(m0, np.int64)
    hkind = np.empty(m0, np.int64)
    hpay = np.empty(m0, np.int64)
    size = 0
    seq = 0
    urgent = np.int64(URGENT) << 62
    normal = np.int64(NORMAL) << 62
    ht, hk, hkind, hpay, size = _push(ht, hk, hkind, hpay, size, 0.0, urgent | seq, _ROTA, 0)
    seq += 1
    ht, hk, hkind, hpay, size = _push(ht, hk, hkind, hpay, size, 0.0, urgent | seq, _SOURCE, 0)
    seq += 1
    seq += 1  # id 2: env.run's stop event at t_end (URGENT): nothing at or after t_end runs
    rota_day = 0
    rota_k = 0
    rota_started = False
    src_i = 0
    src_started = False
    while size > 0:
        now = ht[0]
        kind = hkind[0]
        pay = hpay[0]
        if now >= t_end:
            break
        size = _pop_into(ht, hk, hkind, hpay, size)
        grant_check = False
        arrive = -1  # a contact that makes its request now (its Initialize event)
        if kind == _INIT:
            arrive = pay
        elif kind == _GRANT:
            waits[pay] = now - times[pay]
            start[pay] = now
            ht, hk, hkind, hpay, size = _push(ht, hk, hkind, hpay, size, now + handle[pay],
                                              normal | seq, _DONE, pay)
            seq += 1
        elif kind == _DONE:
            s = start[pay]
            lo = s if s >= warm else warm
            hi = now if now <= horizon else horizon
            if hi > lo:
                busy += hi - lo
            users -= 1
            if size > 0 and ht[0] <= now:  # events of this moment come before the Release
                ht, hk, hkind, hpay, size = _push(ht, hk, hkind, hpay, size, now,
                                                  normal | seq, _RELEASE, 1)
            else:  # the Release is the next event: processed here, its id used up
                grant_check = True
            seq += 1
        elif kind == _RELEASE:
            grant_check = True  # pay = how many consecutive Release events this stands for
        elif kind == _SOURCE:
            if src_started:  # resumed after sleeping until times[src_i]
                # Its Initialize event (URGENT, now) is the next event: no other URGENT
                # event of this moment is pending (it would have come before this NORMAL
                # one) and those pushed below are newer. Processed after the pushes, as
                # SimPy would next, with its id used up.
                arrive = src_i
                seq += 1
                src_i += 1
            src_started = True
            while src_i < n:
                t = times[src_i]
                if t > now:
                    ht, hk, hkind, hpay, size = _push(ht, hk, hkind, hpay, size,
                                                      now + (t - now), normal | seq,
                                                      _SOURCE, 0)
                    seq += 1
                    break
                ht, hk, hkind, hpay, size = _push(ht, hk, hkind, hpay, size, now,
                                                  urgent | seq, _INIT, src_i)
                seq += 1
                src_i += 1
        else:  # _ROTA
            adjust = rota_started  # resumed after sleeping until the pending change
            rota_started = True
            while rota_day <= days:
                if not adjust:
                    t = np.float64(rota_day) * 24.0 + change_hours[rota_k]
                    if t > now:
                        ht, hk, hkind, hpay, size = _push(ht, hk, hkind, hpay, size,
                                                          now + (t - now), normal | seq,
                                                          _ROTA, 0)
                        seq += 1
                        break
                adjust = False
                w = want[rota_k]
                excess = off_held + off_wait - w
                if excess > 0:
                    # SimPy pops the newest requests: the waiting ones are cancelled, then
                    # held ones released, each release a Release event. Those k events are
                    # consecutive in the heap (nothing processed between them schedules an
                    # URGENT event), so one event standing for k of them is the same.
                    cancel = excess if excess < off_wait else off_wait
                    off_wait -= cancel
                    k = excess - cancel
                    if k > 0:
                        off_held -= k
                        users -= k
                        ht, hk, hkind, hpay, size = _push(ht, hk, hkind, hpay, size, now,
                                                          normal | seq, _RELEASE, k)
                        seq += 1
                elif excess < 0:
                    # new requests: each _trigger_put grants an off-duty request if a slot is free
                    need = -excess
                    free = cap - users
                    g = need if need < free else (free if free > 0 else 0)
                    off_held += g
                    users += g
                    off_wait += need - g
                rota_k += 1
                if rota_k == n_changes:
                    rota_k = 0
                    rota_day += 1
        if arrive >= 0:
            r = rank[arrive]
            if qtail[r] < 0:
                qhead[r] = arrive
            else:
                qnext[qtail[r]] = arrive
            qtail[r] = arrive
            queued += 1
            grant_check = True
        checks = 0
        if grant_check:
            checks = pay if kind == _RELEASE else 1
        while checks > 0 and users < cap:
            # _trigger_put: grant the head of the queue (one request at most per check)
            checks -= 1
            if off_wait > 0:
                off_wait -= 1
                off_held += 1
                users += 1
            elif queued > 0:
                r = 0
                while qhead[r] < 0:
                    r += 1
                i = qhead[r]
                qhead[r] = qnext[i]
                if qhead[r] < 0:
                    qtail[r] = -1
                queued -= 1
                users += 1
                if checks == 0 and (size == 0 or ht[0] > now):
                    # The grant is this event's last push and nothing else is due now: it
                    # is the next event, processed here with its id used up.
                    seq += 1
                    waits[i] = now - times[i]
                    start[i] = now
                    ht, hk, hkind, hpay, size = _push(ht, hk, hkind, hpay, size,
                                                      now + handle[i], normal | seq, _DONE, i)
                else:
                    ht, hk, hkind, hpay, size = _push(ht, hk, hkind, hpay, size, now,
                                                      normal | seq, _GRANT, i)
                seq += 1
            else:
                break  # nothing waits: the remaining checks grant nothing either
    return waits, busy
