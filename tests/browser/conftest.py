"""Print where the browser test's screenshots are and how long each lesson took."""


def pytest_terminal_summary(terminalreporter):
    from test_lessons_in_browser import SHOTS, TIMES

    if not TIMES:
        return
    terminalreporter.section("lessons in the browser")
    for name, seconds in TIMES.items():
        terminalreporter.write_line(f"{seconds:6.1f} s  {name}")
    terminalreporter.write_line(f"screenshots: {SHOTS}")
