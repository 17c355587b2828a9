import pathlib
import sys

# Tests run against the source tree (also when the package is installed, the tree wins).
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent.parent))
