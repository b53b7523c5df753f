"""simulator/ and scenarios/ import and run with Qt unavailable."""

import subprocess
import sys
import textwrap


def test_engine_runs_with_qt_blocked():
    code = textwrap.dedent("""
        import sys
        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split('.')[0] in ('PySide6', 'pyqtgraph', 'shiboken6', 'ui'):
                    raise ImportError('blocked: ' + name)
        sys.meta_path.insert(0, Block())
        import scenarios
        from simulator.runner import run
        import simulator.cli, simulator.results, simulator.scenario_io
        r = run(scenarios.load_default(), replications=1, agents=300, horizon_months=2,
                workers=1)
        assert r.summary['revenue'].mean > 0
        assert not any(m.split('.')[0] in ('PySide6', 'pyqtgraph') for m in sys.modules)
        print('ok')
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().endswith("ok")
