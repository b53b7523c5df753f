"""Counting the calls a test expects a cache or a route to save."""


def record_calls(monkeypatch, owner, name: str, label=1, arg: int | None = None,
                 into: list | None = None) -> list:
    """Wrap ``owner.name`` for the test; each call appends ``label`` to the returned list.

    ``arg``: append that positional argument of the call instead of ``label``. The wrapped
    function is still called with the same arguments and its result returned. ``into``:
    append to that list (several functions' calls in one order) instead of a new one.
    """
    real = getattr(owner, name)
    calls: list = [] if into is None else into

    def wrapper(*a, **k):
        calls.append(a[arg] if arg is not None else label)
        return real(*a, **k)

    monkeypatch.setattr(owner, name, wrapper)
    return calls
