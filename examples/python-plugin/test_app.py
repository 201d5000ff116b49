"""Native tests of the analysis (no sandbox): run after generating bindings."""

import os
import tempfile
import unittest

import app


class ScanTest(unittest.TestCase):
    def test_reports_each_line_with_a_forbidden_word(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "a.txt")
            with open(path, "w") as f:
                f.write("fine\nx = 1  # DO-NOT-SHIP\nfine\n")
            found = app.scan(path, ["DO-NOT-SHIP"])
        self.assertEqual(len(found), 1)
        self.assertEqual(found[0].location.line, 2)
        self.assertEqual(found[0].location.column, 10)


if __name__ == "__main__":
    unittest.main()
