"""A small evaluator of the Excel formulas the workbooks use (no spreadsheet program needed).

Shared by the workbook tests: a formula's arithmetic is checked against the
engine's numbers without LibreOffice.
"""

from __future__ import annotations

import math
import re


# ----------------------------------------------------------------- evaluator
class Formula:
    """Evaluate the Excel formulas this workbook uses: + - * / ^, comparisons,
    unary minus, cell and range references (also on other sheets), SUM, IF, AND,
    ISNUMBER, MAX, ABS, string literals. Referenced formula cells are evaluated recursively."""

    TOKEN = re.compile(r"""\s*(?:
        (?P<num>\d+\.?\d*(?:[eE][-+]?\d+)?)|
        (?P<str>"(?:[^"]|"")*")|
        (?P<ref>(?:(?:'(?:[^']|'')+'|[A-Za-z_][\w.]*)!)?
                \$?[A-Z]{1,3}\$?\d+(?::\$?[A-Z]{1,3}\$?\d+)?)|
        (?P<func>[A-Z][A-Z0-9.]*)\(|
        (?P<op><=|>=|<>|[-+*/^=<>(),&])
    )""", re.X)

    def __init__(self, wb):
        self.wb = wb
        self.memo: dict[tuple[str, str], object] = {}

    def cell(self, sheet: str, addr: str):
        key = (sheet, addr)
        if key not in self.memo:
            c = self.wb[sheet][addr]
            v = c.value
            if c.data_type == "f":
                v = self.eval(v, sheet)
            self.memo[key] = v
        return self.memo[key]

    def eval(self, text: str, sheet: str):
        assert text.startswith("=")
        self.toks = self._tokens(text[1:])
        self.i = 0
        self.sheet = sheet
        ast = self._expr(0)
        assert self.i == len(self.toks), f"unparsed: {text}"
        return self._run(ast, sheet)

    def _tokens(self, s):
        out, pos = [], 0
        while pos < len(s):
            m = self.TOKEN.match(s, pos)
            assert m and m.end() > pos, f"cannot tokenise {s[pos:]!r}"
            kind = m.lastgroup
            out.append((kind, m.group(kind)))
            pos = m.end()
        return out

    PREC = {"=": 1, "<>": 1, "<": 1, ">": 1, "<=": 1, ">=": 1, "&": 2, "+": 3, "-": 3,
            "*": 4, "/": 4, "^": 5}

    def _peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else (None, None)

    def _expr(self, min_prec):
        left = self._unary()
        while True:
            kind, op = self._peek()
            if kind != "op" or op not in self.PREC or self.PREC[op] < min_prec:
                return left
            self.i += 1
            right = self._expr(self.PREC[op] + (0 if op == "^" else 1))
            left = ("bin", op, left, right)

    def _unary(self):
        kind, tok = self._peek()
        if kind == "op" and tok in "+-":
            self.i += 1
            return ("neg", self._unary()) if tok == "-" else self._unary()
        return self._atom()

    def _atom(self):
        kind, tok = self._peek()
        self.i += 1
        if kind == "num":
            return ("val", float(tok))
        if kind == "str":
            return ("val", tok[1:-1].replace('""', '"'))
        if kind == "ref":
            return ("ref", tok)
        if kind == "op" and tok == "(":
            e = self._expr(0)
            assert self._peek() == ("op", ")")
            self.i += 1
            return e
        if kind == "func":
            args = []
            if self._peek() != ("op", ")"):
                while True:
                    args.append(self._expr(0))
                    if self._peek() == ("op", ","):
                        self.i += 1
                        continue
                    break
            assert self._peek() == ("op", ")"), tok
            self.i += 1
            return ("call", tok, args)
        raise AssertionError(f"unexpected token {tok!r}")

    def _ref_cells(self, tok, sheet):
        if "!" in tok:
            sh, a = tok.rsplit("!", 1)
            sheet = sh.strip("'").replace("''", "'")
        else:
            a = tok
        a = a.replace("$", "")
        if ":" in a:
            rng = self.wb[sheet][a]
            return [self.cell(sheet, c.coordinate) for row in rng for c in row], True
        return self.cell(sheet, a), False

    @staticmethod
    def _num(v):
        if v is None:
            return 0.0
        if isinstance(v, str):
            raise TypeError(f"#VALUE! ({v!r})")
        return float(v)

    def _run(self, ast, sheet):
        t = ast[0]
        if t == "val":
            return ast[1]
        if t == "ref":
            v, _ = self._ref_cells(ast[1], sheet)
            return v
        if t == "neg":
            return -self._num(self._run(ast[1], sheet))
        if t == "bin":
            op = ast[1]
            a, b = self._run(ast[2], sheet), self._run(ast[3], sheet)
            if op in ("+", "-", "*", "/", "^"):
                a, b = self._num(a), self._num(b)
                if op == "+":
                    return a + b
                if op == "-":
                    return a - b
                if op == "*":
                    return a * b
                if op == "/":
                    return a / b if b else math.nan
                return a ** b
            if op == "&":
                return f"{a}{b}"
            return {"=": a == b, "<>": a != b, "<": a < b, ">": a > b, "<=": a <= b,
                    ">=": a >= b}[op]
        if t == "call":
            name, args = ast[1], ast[2]
            if name == "IF":
                cond = self._run(args[0], sheet)
                return self._run(args[1] if cond else args[2], sheet)
            if name == "SUM":
                tot = 0.0
                for a in args:
                    if a[0] == "ref":
                        v, is_rng = self._ref_cells(a[1], sheet)
                        vals = v if is_rng else [v]
                        tot += sum(float(x) for x in vals if isinstance(x, (int, float))
                                   and not isinstance(x, bool))
                    else:
                        tot += self._num(self._run(a, sheet))
                return tot
            if name == "AND":
                return all(self._run(a, sheet) for a in args)
            if name == "MAX":
                return max(self._num(self._run(a, sheet)) for a in args)
            if name == "ROUND":  # Excel rounds halves away from zero
                x = self._num(self._run(args[0], sheet))
                k = int(self._num(self._run(args[1], sheet)))
                q = abs(x) * 10 ** k
                return math.copysign(math.floor(q + 0.5) / 10 ** k, x)
            if name == "ABS":
                return abs(self._num(self._run(args[0], sheet)))
            if name == "ISNUMBER":
                v = self._run(args[0], sheet)
                return isinstance(v, (int, float)) and not isinstance(v, bool)
            raise AssertionError(f"function {name} not supported by the test evaluator")
        raise AssertionError(t)
