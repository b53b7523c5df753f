"""Customer files (the shop's actual customers as a starting population): parsing and draws."""

import numpy as np
import pytest

from simulator import customer_base as cbm
from simulator.customer_base import CustomerFileError

SEGS = ["Regular", "VIP"]
HEAD = "customer_id,segment,p_alive,order_rate_mean,order_rate_shape,dropout_a,dropout_b"


def test_round_trip_and_history():
    text = (HEAD + ",spend_m1,orders_m1\nc1,VIP,0.9,1.5,2.0,0.7,3.0,120.5,2\n"
            "c2,Regular,1,0.2,0.5,0.7,2.0,0,0\n")
    cb = cbm.parse(text, SEGS, "shop.csv")
    assert cb.ids == ("c1", "c2") and cb.segment.tolist() == [1, 0]
    assert cb.spend[0].tolist() == [120.5, 0.0] and cb.orders[0].tolist() == [2, 0]
    assert cb.spend[1:].sum() == 0  # months not given: no history
    again = cbm.parse(cbm.to_csv(cb, SEGS), SEGS)
    for f in ("p_alive", "rate_mean", "rate_shape", "dropout_a", "dropout_b", "spend", "orders"):
        np.testing.assert_allclose(getattr(again, f), getattr(cb, f))


@pytest.mark.parametrize("text, message", [
    ("", "the file is empty"),
    ("customer_id,segment\n", "missing column(s) p_alive, order_rate_mean, order_rate_shape"),
    (HEAD + "\n", "no customers"),
    (HEAD + "\nc1,Gold,0.5,1,1,1,1\n", "segment 'Gold' (line 2) is not a segment of the "
                                        "scenario; allowed: 'Regular', 'VIP'"),
    (HEAD + "\nc1,VIP,1.5,1,1,1,1\nc2,VIP,x,1,1,1,1\n",
     "column 'p_alive': line(s) 2, 3 — must be a number from 0 to 1"),
    (HEAD + "\nc1,VIP,0.5,0,1,1,1\n", "column 'order_rate_mean': line(s) 2 — must be a number "
                                       "more than 0"),
    (HEAD + "\nc1,VIP,0.5,1,1\n", "line(s) 2 have a different number of fields"),
    ("customer_id,segment,p_alive,order_rate_mean,order_rate_shape,dropout_a\nc,VIP,1,1,1,1\n",
     "give both dropout_a and dropout_b"),
])
def test_bad_files_are_named_plainly(text, message):
    with pytest.raises(CustomerFileError) as e:
        cbm.parse(text, SEGS, "shop.csv")
    assert message in str(e.value)


def test_read_refuses_binary(tmp_path):
    p = tmp_path / "c.csv"
    p.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(CustomerFileError, match="not a UTF-8 text file"):
        cbm.read(p, SEGS)


def test_draws_follow_the_stated_distributions():
    n = 200_000
    text = HEAD + "\n" + "".join(f"c{i},VIP,0.3,2.0,1.5,0.8,4.0\n" for i in range(n))
    cb = cbm.parse(text, SEGS)
    rng = np.random.default_rng(1)
    alive, rate, churn = cbm.draw(cb, rng.random(n), rng.random(n), rng.random(n))
    assert alive.mean() == pytest.approx(0.3, abs=0.005)
    assert rate.mean() == pytest.approx(2.0, rel=0.01)
    assert rate.var() == pytest.approx(2.0 ** 2 / 1.5, rel=0.03)  # gamma: mean^2 / shape
    # Monthly churn 1 - exp(-rate p), p ~ Beta(0.8, 4): against a direct simulation.
    lam = rng.gamma(1.5, 2.0 / 1.5, n)
    p = rng.beta(0.8, 4.0, n)
    assert churn.mean() == pytest.approx((1 - np.exp(-lam * p)).mean(), rel=0.02)


def test_text_never_becomes_a_formula_and_reads_back():
    segs = ["=Key", "VIP"]
    text = HEAD + "\n=HYPERLINK(1),=Key,1,1,1,1,1\n+c2,VIP,1,1,1,1,1\n"
    cb = cbm.parse(text, segs)
    out = cbm.to_csv(cb, segs)
    assert "\n'=HYPERLINK(1),'=Key," in out and "\n'+c2,VIP," in out
    again = cbm.parse(out, segs)
    assert again.ids == ("=HYPERLINK(1)", "+c2") and again.segment.tolist() == [0, 1]
