"""Transaction-log import: mapping, date formats, bad rows with line numbers, chunks."""

import threading

import numpy as np
import pandas as pd
import pytest

from simulator.datafit.importlog import Columns, LogError, read_log


def write(tmp_path, text, name="log.csv"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_bad_rows_are_counted_with_their_line_numbers(tmp_path):
    p = write(tmp_path, "\n".join([
        "cust,when,value,order",
        "a,2024-01-05,10.5,o1",       # line 2 ok
        "b,not a date,3,o2",          # 3 bad date
        "c,2024-01-07,-4,o3",         # 4 negative
        "d,2024-01-08,,o4",           # 5 missing amount
        ",2024-01-09,5,o5",           # 6 missing customer
        "a,2024-02-01,7,o1",          # 7 duplicate order id
        "e,2024-02-03,abc,o6",        # 8 non-numeric amount
        "f,2024-02-04,0,o7",          # 9 ok (zero is allowed)
    ]) + "\n")
    log = read_log(p, Columns(customer="cust", date="when", amount="value", order_id="order"))
    c = log.bad.counts
    assert (c["date"], c["amount_negative"], c["amount_missing"], c["customer"],
            c["duplicate_order"]) == (1, 1, 2, 1, 1)
    assert log.bad.lines["date"] == [3]
    assert log.bad.lines["amount_negative"] == [4]
    assert log.bad.lines["amount_missing"] == [5, 8]
    assert log.bad.lines["customer"] == [6]
    assert log.bad.lines["duplicate_order"] == [7]  # the first row with the id is kept
    assert len(log) == 2 and sorted(log.customer_ids[c] for c in log.customer) == ["a", "f"]
    assert log.rows_read == 8 and log.bad.total == 6
    assert any("line" in s and "negative" in s for s in log.bad.report())


def test_no_valid_rows_is_a_clear_error(tmp_path):
    p = write(tmp_path, "customer_id,date,amount\nx,2024-13-45,1\ny,2024-01-01,-1\n")
    with pytest.raises(LogError, match="no valid rows.*negative amount"):
        read_log(p)


def test_missing_column_names_the_option(tmp_path):
    p = write(tmp_path, "id,date,amount\n1,2024-01-01,3\n")
    with pytest.raises(LogError, match="customer column 'customer_id'.*--customer"):
        read_log(p)


@pytest.mark.parametrize("dates,fmt", [
    (["2024-01-05", "2024-03-02"], None),
    (["20240105", "20240302"], None),
    (["2024/01/05", "2024/03/02"], None),
    (["2024-01-05T10:30:00", "2024-03-02 23:59:59"], None),
    (["05/01/2024", "02/03/2024"], "%d/%m/%Y"),
])
def test_date_formats(tmp_path, dates, fmt):
    p = write(tmp_path, "customer_id,date,amount\n" +
              "".join(f"c{i},{d},1\n" for i, d in enumerate(dates)))
    log = read_log(p, Columns(date_format=fmt))
    assert [str(log.first_date), str(log.last_date)] == ["2024-01-05", "2024-03-02"]


def test_ambiguous_slash_dates_ask_for_a_format(tmp_path):
    p = write(tmp_path, "customer_id,date,amount\nc,05/01/2024,1\n")
    with pytest.raises(LogError, match="--date-format"):
        read_log(p)


def test_chunks_keep_line_numbers_ids_and_report_progress(tmp_path):
    rows = ["customer_id,date,amount"]
    for i in range(1, 2501):
        rows.append(f"c{i % 97},2024-01-{1 + i % 28:02d},{'-1' if i % 500 == 0 else i}")
    p = write(tmp_path, "\n".join(rows) + "\n")
    seen = []
    log = read_log(p, chunk_rows=300, progress=lambda n, f: seen.append((n, f)))
    assert log.bad.lines["amount_negative"] == [501, 1001, 1501, 2001, 2501]
    assert len(log) == 2495 and len(log.customer_ids) == 97
    assert seen[-1][0] == 2500 and len(seen) == 9
    # the same customer gets one code across chunks
    codes = {log.customer_ids[c] for c in np.unique(log.customer)}
    assert codes == {f"c{i}" for i in range(97)}
    ev = threading.Event()
    ev.set()
    with pytest.raises(InterruptedError):
        read_log(p, chunk_rows=300, cancel=ev)


def test_whitespace_headerless_by_position_and_segments(tmp_path):
    p = write(tmp_path, " 01 0001 19970101  2   29.33\n 01 0001 19970118  2   29.73\n"
                        " 02 0002 19970102  1   5.00\n", name="log.txt")
    log = read_log(p, Columns(customer="1", date="3", amount="5", segment="2",
                              sep="whitespace", header=False))
    assert len(log) == 3 and log.customer_ids == ["01", "02"]
    assert sorted(log.segment_names) == ["0001", "0002"]
    assert log.amount.sum() == pytest.approx(64.06)


def test_excel_log(tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["customer_id", "date", "amount"])
    ws.append(["a", "2024-01-02", 3.5])
    ws.append(["b", "bad", 1])
    p = tmp_path / "log.xlsx"
    wb.save(p)
    log = read_log(p)
    assert len(log) == 1 and log.bad.lines["date"] == [3]


def test_parquet_without_pyarrow_says_so(tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "pyarrow", None)  # as if not installed
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    p = tmp_path / "log.parquet"
    p.write_bytes(b"PAR1")
    with pytest.raises(LogError, match=r"benefit-sim\[parquet\]"):
        read_log(p)


def test_parquet_in_batches_with_bad_rows_by_row_number(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    n = 2500
    days = pd.date_range("2024-01-01", periods=n, freq="h")
    amount = np.linspace(1, 50, n)
    amount[[9, 2000]] = -1.0
    table = pa.table({"shop": ["x"] * n, "buyer": [f"c{i % 300}" for i in range(n)],
                      "when": days, "value": amount})
    p = tmp_path / "log.parquet"
    pq.write_table(table, p, row_group_size=700)
    seen = []
    log = read_log(p, Columns(customer="buyer", date="when", amount="value"),
                   progress=lambda rows, f: seen.append((rows, f)), chunk_rows=1000)
    assert len(log) == n - 2 and log.bad.lines["amount_negative"] == [10, 2001]
    assert seen[-1] == (n, 1.0) and len(seen) >= 3
    assert log.first_date == np.datetime64("2024-01-01")
    by_pos = read_log(p, Columns(customer="2", date="3", amount="4"))
    assert len(by_pos) == n - 2
    with pytest.raises(LogError, match=r"amount column 'price' is not in the log .*'value'"):
        read_log(p, Columns(customer="buyer", date="when", amount="price"))
    cancel = threading.Event()
    cancel.set()
    with pytest.raises(InterruptedError):
        read_log(p, Columns(customer="buyer", date="when", amount="value"), cancel=cancel)
