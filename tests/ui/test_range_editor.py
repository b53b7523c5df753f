"""The range editor: see that a number is uncertain, edit its range, make it a number again."""

from __future__ import annotations

import pytest

from simulator import scenario_io as io
from simulator import uncertainty as u
from simulator.library import shipped_path
from ui.document import ScenarioDocument
from ui.editor import Editor

pytestmark = pytest.mark.gui

CHURN = ("segments", 0, "churn_annual")  # a plain number in xinghe_today
PRICE = ("segments", 0, "sensitivity", "price")  # a triangular range of its own
# free shipping at Bronze and at Silver: both refer to one shared assumption
BRONZE_FREE = ("tiers", 0, "benefits", 0, "effect", "order_rate")
SILVER_FREE = ("tiers", 1, "benefits", 0, "effect", "order_rate")


@pytest.fixture
def editor(qtbot, tmp_path):
    path = tmp_path / "x.toml"
    path.write_bytes(shipped_path("xinghe_today").read_bytes())
    doc = ScenarioDocument(io.load(path), path)
    ed = Editor(doc)
    qtbot.addWidget(ed)
    ed.resize(700, 700)
    ed.show()
    return ed


def test_a_ranged_field_shows_its_range_and_a_plain_one_does_not(editor):
    price = editor.field(PRICE)
    assert price.has_range() and price.range_label.isVisibleTo(price)
    assert price.range_label.text() == ("Range 0.3 – 0.6 – 0.9 × (triangular); typing a number "
                                        "moves its most likely value")
    assert "low and high widen to include it" in price.range_label.toolTip()
    churn = editor.field(CHURN)
    assert not churn.has_range() and not churn.range_label.isVisibleTo(churn)
    assert churn.range_button is not None and churn.range_button.text() == "±"
    shared = editor.field(BRONZE_FREE)
    assert shared.range_label.text().startswith(
        "Shared “free_shipping_order_rate” (4 fields): 1.5 – 3 – 4.5 % change (triangular)")


def test_fields_that_cannot_be_ranges_have_no_range_button(editor):
    assert editor.field(("segments", 0, "share")).range_button is None
    assert editor.field(("tiers", 1, "threshold_cny")).range_button is None


def test_typing_a_number_moves_the_range_and_flags_nothing(editor):
    doc = editor.field(PRICE).doc
    w = editor.field(PRICE)
    w.set_display_value(1.2)  # above the range's high 0.9
    assert doc.get(PRICE) == pytest.approx(1.2)
    d = u.uncertain_of(doc.scenario)[u.key_of(PRICE, doc.scenario)]
    assert (d.lo, d.mode, d.hi) == (0.3, pytest.approx(1.2), pytest.approx(1.2))
    assert not doc.issues() and not w.error_text
    assert "0.3 – 1.2 – 1.2 ×" in w.range_label.text()
    doc.undo_stack.undo()  # one step restores number and range
    d = u.uncertain_of(doc.scenario)[u.key_of(PRICE, doc.scenario)]
    assert doc.get(PRICE) == pytest.approx(0.6) and d.mode == pytest.approx(0.6)


def test_typing_into_a_shared_field_moves_the_assumption_for_every_tier(editor):
    doc = editor.field(BRONZE_FREE).doc
    editor.field(BRONZE_FREE).set_display_value(4.0)  # 4 %
    for t in range(4):
        assert doc.get(("tiers", t, "benefits", 0, "effect", "order_rate")) == \
            pytest.approx(0.04)
    assert u.assumptions_of(doc.scenario)["free_shipping_order_rate"].mode == \
        pytest.approx(0.04)
    assert not doc.issues()
    silver = editor.field(SILVER_FREE).range_label.text()
    assert "1.5 – 4 – 4.5 % change" in silver


def test_range_dialog_gives_a_plain_number_a_range_with_errors_in_the_planners_words(editor):
    w = editor.field(CHURN)
    dlg = w.range_dialog()
    assert dlg.current_kind() == "fixed"
    dlg.set_kind("triangular")  # proposed around today's value (12 %/year)
    assert dlg.table() == {"low": pytest.approx(0.06), "mode": pytest.approx(0.12),
                           "high": pytest.approx(0.18)}
    dlg.set_number("low", 30.0)  # 30 %/year: above the mode and the high
    msgs = dlg.messages()
    assert msgs["low"] == "low 30 %/year is above high 18 %/year", msgs
    ok = dlg.buttons.button(dlg.buttons.StandardButton.Ok)
    assert not ok.isEnabled()
    dlg.set_number("low", -5.0)
    assert "is outside what the field allows" in dlg.messages()["low"]
    dlg.set_number("low", 8.0)
    assert not dlg.messages() and ok.isEnabled()
    dlg.accept()
    assert w.has_range() and "8 – 12 – 18 %/year (triangular)" in w.range_label.text()
    assert w.doc.get(CHURN) == pytest.approx(0.12) and not w.doc.issues()


def test_normal_with_optional_bounds_and_back_to_a_number(editor, tmp_path):
    w = editor.field(CHURN)
    dlg = w.range_dialog()
    dlg.set_kind("normal")
    assert set(dlg.table()) == {"mean", "sd"}  # bounds are optional
    dlg.rows["high"][1].setChecked(True)
    dlg.set_number("high", 10.0)  # below the mean of 12 %/year
    assert "mean 12 %/year must lie between" in dlg.messages()["mean"]
    dlg.set_number("high", 30.0)
    dlg.accept()
    d = u.uncertain_of(w.doc.scenario)[u.key_of(CHURN, w.doc.scenario)]
    assert d.kind == "normal" and d.hi == pytest.approx(0.3)
    # saved inline and read back the same
    w.doc.save()
    back = io.load(w.doc.path)
    assert u.uncertain_of(back) == u.uncertain_of(w.doc.scenario)
    # back to a plain number
    dlg = w.range_dialog()
    dlg.set_kind("fixed")
    dlg.set_number("value", 15.0)
    dlg.accept()
    assert not w.has_range() and w.doc.get(CHURN) == pytest.approx(0.15)
    assert not u.uncertain_of(w.doc.scenario).get(u.key_of(CHURN, w.doc.scenario))


def test_a_shared_assumption_edited_in_the_dialog_changes_every_field_or_only_this_one(editor):
    w = editor.field(SILVER_FREE)
    doc = w.doc
    dlg = w.range_dialog()
    assert "4 fields refer to it" in dlg.info.text()
    dlg.set_number("high", 6.0)
    dlg.accept()
    assert u.assumptions_of(doc.scenario)["free_shipping_order_rate"].hi == pytest.approx(0.06)
    dlg = w.range_dialog()
    dlg.only_here.setChecked(True)
    dlg.set_number("mode", 5.0)
    dlg.accept()
    assert doc.get(SILVER_FREE) == pytest.approx(0.05)
    assert doc.get(BRONZE_FREE) == pytest.approx(0.03)  # the others keep the assumption
    refs = u.references_of(doc.scenario)
    assert u.key_of(SILVER_FREE, doc.scenario) not in refs
    assert sum(r.name == "free_shipping_order_rate" for r in refs.values()) == 3
    assert not doc.issues()


def test_a_fields_range_becomes_a_new_shared_assumption_and_another_field_links_to_it(editor):
    """Issue 14 leftover: creating a shared assumption and linking a field to one needed the
    TOML; the dialog now offers both, each one undo step."""
    price = editor.field(PRICE)  # Key accounts' price sensitivity: a triangular range
    doc = price.doc
    other = ("segments", 1, "sensitivity", "price")  # Regular's, a plain number
    before = doc.get(other)
    dlg = price.range_dialog()
    assert dlg.share.isVisibleTo(dlg)
    dlg.set_sharing("new")
    dlg.share_name.setText("price sensitivity")  # not a name the file can use
    assert "letters, digits and _" in dlg.messages()[""]
    assert not dlg.buttons.button(dlg.buttons.StandardButton.Ok).isEnabled()
    dlg.share_name.setText("price_sensitivity")
    assert dlg.messages() == {}
    dlg.accept()
    sc = doc.scenario
    assert u.assumptions_of(sc)["price_sensitivity"].mode == pytest.approx(0.6)
    assert u.references_of(sc)[u.key_of(PRICE, sc)].name == "price_sensitivity"
    assert u.key_of(PRICE, sc) not in u.uncertain_of(sc)
    assert price.range_label.text().startswith("Shared “price_sensitivity” (1 field)")

    w = editor.field(other)
    dlg = w.range_dialog()
    dlg.set_sharing("link:price_sensitivity")
    dlg.share_scale.setValue(0.5)
    assert dlg.messages() == {}
    dlg.accept()
    sc = doc.scenario
    ref = u.references_of(sc)[u.key_of(other, sc)]
    assert (ref.name, ref.scale) == ("price_sensitivity", 0.5)
    assert doc.get(other) == pytest.approx(0.3)  # 0.5 × the assumption's 0.6
    assert w.range_label.text().startswith("Shared “price_sensitivity” (2 fields)")
    assert not doc.issues()
    # saved and read back: the file states the assumption and both references
    path = doc.path
    doc.save()
    back = io.load(path)
    assert u.assumptions_of(back)["price_sensitivity"].mode == pytest.approx(0.6)
    assert u.references_of(back)[u.key_of(other, back)].scale == 0.5
    doc.undo_stack.undo()  # the link, in one step
    assert doc.get(other) == pytest.approx(before)
    assert u.key_of(other, doc.scenario) not in u.references_of(doc.scenario)
    doc.undo_stack.undo()  # the new assumption, in one step
    assert "price_sensitivity" not in u.assumptions_of(doc.scenario)
    assert u.key_of(PRICE, doc.scenario) in u.uncertain_of(doc.scenario)


def test_linking_is_refused_in_the_planners_words_when_the_range_does_not_fit(editor):
    w = editor.field(CHURN)  # annual churn: a share, at most 100 %
    dlg = w.range_dialog()
    dlg.set_sharing("link:free_shipping_order_rate")
    dlg.share_scale.setValue(40.0)  # 40 × up to 4.5 % = 180 %
    msg = dlg.messages()[""]
    assert "free_shipping_order_rate" in msg or "Churn" in msg
    assert "%" in msg and "allows" in msg
    assert not dlg.buttons.button(dlg.buttons.StandardButton.Ok).isEnabled()
    assert u.key_of(CHURN, w.doc.scenario) not in u.references_of(w.doc.scenario)
