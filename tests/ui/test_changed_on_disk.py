"""Issue 20 item 4 in the GUI: two documents on one file; Save As never overwrites silently."""

import pytest

import scenarios
from simulator.scenario_io import FileChangedError, load
from ui.document import ScenarioDocument

pytestmark = pytest.mark.gui

STAFF = ("service", "pools", 0, "shifts", 0, "staff")


def _staff(path):
    return load(path).service.pools[0].shifts[0].staff


def _other_window_saves(path, staff):
    """A second document (another window or app instance) on the same file saves an edit."""
    other = ScenarioDocument(load(path), path)
    other.set_value(STAFF, staff)
    other.save()
    return other


def test_second_save_asks_instead_of_discarding(window, prompter, small_path):
    win = window
    _other_window_saves(small_path, 41)
    win.editor.field(STAFF).set_display_value(17)
    # Cancel: nothing written, the other window's edit stays, ours stays unsaved
    assert not win.save()
    assert prompter.kinds()[-1] == "changed_on_disk"
    assert _staff(small_path) == 41 and win.doc.modified
    # Overwrite: our version replaces theirs (the user chose it)
    prompter.answer("changed_on_disk", "overwrite")
    assert win.save()
    assert _staff(small_path) == 17 and not win.doc.modified
    # a further plain save needs no question (the stamp follows our own save)
    win.editor.field(STAFF).set_display_value(18)
    n = len(prompter.asked)
    assert win.save() and len(prompter.asked) == n and _staff(small_path) == 18


def test_reload_takes_the_other_version(window, prompter, small_path):
    win = window
    other = ScenarioDocument(load(small_path), small_path)
    win.editor.field(STAFF).set_display_value(23)
    assert win.save() and _staff(small_path) == 23
    # the other document opened before our save: its save is refused, not silent
    other.set_value(STAFF, 5)
    with pytest.raises(FileChangedError):
        other.save()
    assert _staff(small_path) == 23
    other.save(overwrite=True)
    win.editor.field(STAFF).set_display_value(29)
    prompter.answer("changed_on_disk", "reload")
    assert not win.save()
    assert win.doc.get(STAFF) == 5 and not win.doc.modified and _staff(small_path) == 5
    assert win.editor.field(STAFF).spin.value() == 5
    # after the reload a save goes through without a question
    win.editor.field(STAFF).set_display_value(6)
    n = len(prompter.asked)
    assert win.save() and len(prompter.asked) == n and _staff(small_path) == 6


def test_changed_file_saved_under_another_name(window, prompter, small_path):
    win = window
    _other_window_saves(small_path, 41)
    win.editor.field(STAFF).set_display_value(12)
    prompter.answer("changed_on_disk", "save_as")
    prompter.answer("text", "My own version")
    assert win.save()
    assert win.doc.path != small_path and _staff(win.doc.path) == 12
    assert _staff(small_path) == 41


def test_save_as_existing_name_asks_before_replacing(window, prompter, small_path):
    win = window
    sc = load(small_path)
    sc.name = "Taken"
    taken = scenarios.save_user(sc, scenarios.user_dir() / f"{scenarios.slug('Taken')}.toml")
    before = taken.read_bytes()
    win.editor.field(STAFF).set_display_value(33)
    prompter.answer("text", "Taken")
    prompter.answer("confirm", False)
    assert not win.save_as()
    assert prompter.kinds()[-1] == "confirm" and "already exists" in prompter.asked[-1][1]
    assert taken.read_bytes() == before
    prompter.answer("text", "Taken")
    prompter.answer("confirm", True)
    assert win.save_as()
    assert win.doc.path == taken and _staff(taken) == 33


def test_save_as_name_taken_meanwhile_is_not_overwritten(window, prompter, small_path,
                                                         monkeypatch):
    """Another process creates the file between the name check and the save."""
    win = window
    target = scenarios.user_dir() / f"{scenarios.slug('Race')}.toml"
    theirs = load(small_path)
    theirs.name = "Race"
    real = ScenarioDocument.save_as
    raced = []

    def racing(self, path=None, **kw):
        if not raced:
            raced.append(1)
            scenarios.save_user(theirs, target)  # the other process wins the name
        return real(self, path, **kw)

    monkeypatch.setattr(ScenarioDocument, "save_as", racing)
    their_bytes = None
    win.editor.field(STAFF).set_display_value(44)
    prompter.answer("text", "Race")
    prompter.answer("confirm", False)
    assert not win.save_as()
    their_bytes = target.read_bytes()
    assert load(target).name == "Race" and _staff(target) == _staff(small_path) != 44
    assert prompter.kinds()[-1] == "confirm"  # asked, not overwritten silently
    assert target.read_bytes() == their_bytes


def test_deleted_document_leaves_no_dangling_slot(qtbot, private_home, capfd):
    """A second document (as above) deleted after an edit: no 'Signal source has been
    deleted' traceback from a slot that outlived it."""
    import gc

    path = scenarios.shipped_path("xinghe_today")
    for _ in range(3):
        doc = ScenarioDocument(load(path), path)
        doc.set_value(("name",), "x")
        del doc
        gc.collect()
    assert "Signal source has been deleted" not in capfd.readouterr().err
